"""Storage: the engine, cards issued, feedback. SQLite by default, PostgreSQL by URL."""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime

from sqlalchemy import Engine, create_engine, event, insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from cds_service.protocol.feedback import FeedbackEntry
from cds_service.store.migrations import add_missing_columns  # columns added after release (issue 13)
from cds_service.store.models import Base, CardIssued, FeedbackItem


def make_engine(database_url: str) -> Engine:
    if database_url in ("sqlite://", "sqlite:///:memory:"):
        # one in-memory database shared by every thread (the card log writes from its own thread)
        return _with_tables(create_engine(database_url, connect_args={"check_same_thread": False},
                                          poolclass=StaticPool))
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record):  # several gunicorn workers share one file
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

    else:
        engine = create_engine(database_url, pool_pre_ping=True)
    return _with_tables(engine)


def _with_tables(engine: Engine) -> Engine:
    try:
        Base.metadata.create_all(engine)
    except OperationalError:  # another process created the tables between the check and the CREATE
        Base.metadata.create_all(engine)
    add_missing_columns(engine)
    return engine


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


class Store:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def record_cards(self, rows: Iterable[dict]) -> None:
        """One row per card issued (card uuid ↔ rule ID), in one transaction."""
        items = list(rows)
        if not items:
            return
        with self.engine.begin() as connection:
            connection.execute(insert(CardIssued), items)  # one executemany, no ORM objects

    def store_feedback(self, service_id: str, entries: list[FeedbackEntry]) -> int:
        """Store every item once; returns how many were new. Raises only on storage failure."""
        received = datetime.now(UTC)
        new = 0
        for entry in entries:
            row = FeedbackItem(
                fingerprint=feedback_fingerprint(service_id, entry),
                service_id=service_id,
                card_uuid=entry.card,
                outcome=entry.outcome,
                accepted_suggestions=",".join(entry.accepted_suggestions),
                override_system=entry.override_system,
                override_code=entry.override_code,
                override_display=entry.override_display,
                user_comment=entry.user_comment,
                outcome_timestamp=entry.outcome_timestamp,
                received_at=received,
            )
            try:
                with self.sessions.begin() as session:
                    session.add(row)
                new += 1
            except IntegrityError:
                continue  # the same feedback again: already stored
        return new

    def cards_issued(self) -> list[CardIssued]:
        with Session(self.engine) as session:
            return list(session.scalars(select(CardIssued).order_by(CardIssued.id)))

    def feedback(self) -> list[FeedbackItem]:
        with Session(self.engine) as session:
            return list(session.scalars(select(FeedbackItem).order_by(FeedbackItem.id)))
