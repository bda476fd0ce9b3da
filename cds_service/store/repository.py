"""Storage: the engine, cards issued, feedback. SQLite by default, PostgreSQL by URL."""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cds_service.errors import BadRequest, StorageUnavailable
from cds_service.protocol.feedback import FeedbackEntry
from cds_service.store.database import BoundedCalls, CallTimedOut, DbLimits, SingleFlight, make_engine
from cds_service.store.models import CardIssued, FeedbackItem

__all__ = ["Store", "hash_patient", "feedback_fingerprint", "make_engine", "DbLimits"]
READY_TIMEOUT = 1.5  # seconds: /readyz answers within 2 s, whatever the database does


def hash_patient(patient_id: str, secret: str) -> str:
    """The patient's pseudonym in the card log: HMAC-SHA256 keyed with the site's secret (CDS_PATIENT_HASH_SALT).

    Rows written before this (up to 0.1.0) hold sha256("<secret>:<id>"), docs/security.md.
    """
    return hmac.new(secret.encode(), patient_id.encode(), hashlib.sha256).hexdigest()


def feedback_fingerprint(service_id: str, entry: FeedbackEntry) -> str:
    payload = asdict(entry)
    payload["outcome_timestamp"] = entry.outcome_timestamp.isoformat()
    payload["service_id"] = service_id
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _feedback_row(service_id: str, entry: FeedbackEntry, received: datetime) -> dict:
    return {
        "fingerprint": feedback_fingerprint(service_id, entry),
        "service_id": service_id,
        "card_uuid": entry.card,
        "outcome": entry.outcome,
        "accepted_suggestions": ",".join(entry.accepted_suggestions),
        "override_system": entry.override_system,
        "override_code": entry.override_code,
        "override_display": entry.override_display,
        "user_comment": entry.user_comment,
        "outcome_timestamp": entry.outcome_timestamp,
        "received_at": received,
    }


class Store:
    def __init__(self, engine: Engine, request_timeout: float = DbLimits().statement_timeout + 1.0):
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.request_timeout = request_timeout  # the longest a request waits for the database
        self._calls = BoundedCalls(workers=4, name="db-request")
        self._probe = SingleFlight(name="db-probe")

    def ping(self, timeout: float = READY_TIMEOUT) -> None:
        """Raise StorageUnavailable unless the database answers `SELECT 1` within `timeout`."""

        def select_one() -> None:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))

        try:
            self._probe.run(select_one, timeout)
        except (CallTimedOut, SQLAlchemyError) as error:
            raise StorageUnavailable(f"database not answering ({type(error).__name__})") from None

    def record_cards(self, rows: Iterable[dict]) -> None:
        """One row per card issued (card uuid ↔ rule ID), in one transaction."""
        items = list(rows)
        if not items:
            return
        with self.engine.begin() as connection:
            connection.execute(insert(CardIssued), items)  # one executemany, no ORM objects

    def store_feedback(self, service_id: str, entries: list[FeedbackEntry]) -> int:
        """Store every item once, all or none; returns how many were new.

        503 (StorageUnavailable) when the database does not answer within `request_timeout`:
        nothing was stored, or (if the commit raced the timeout) everything was, and a retry
        stores nothing twice (items are unique by fingerprint).
        """
        received = datetime.now(UTC)
        rows = [_feedback_row(service_id, entry, received) for entry in entries]
        try:
            return self._calls.run(lambda: self._insert_feedback(rows), self.request_timeout)
        except DataError:
            raise BadRequest("a feedback item holds a value the database cannot store") from None
        except (CallTimedOut, SQLAlchemyError) as error:
            raise StorageUnavailable(f"feedback not stored: the database is unavailable ({type(error).__name__})") from None

    def _insert_feedback(self, rows: list[dict]) -> int:
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        new = 0
        with self.engine.begin() as connection:  # one transaction: all items or none
            for row in rows:
                statement = (dialect.insert(FeedbackItem).values(**row)
                             .on_conflict_do_nothing(index_elements=["fingerprint"]).returning(FeedbackItem.id))
                new += len(connection.execute(statement).all())  # a row comes back only when inserted
        return new

    def cards_issued(self) -> list[CardIssued]:
        with Session(self.engine) as session:
            return list(session.scalars(select(CardIssued).order_by(CardIssued.id)))

    def feedback(self) -> list[FeedbackItem]:
        with Session(self.engine) as session:
            return list(session.scalars(select(FeedbackItem).order_by(FeedbackItem.id)))
