"""Lockout state in the database, so every worker and replica shares it (issue 13).

Reads are bounded by a short timeout and a small number of reads in flight: a slow or unreachable
database raises `LockoutUnavailable`, and the caller shows the card (fail open).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cds_service.governance import ISSUED, Lock, LockKey
from cds_service.protocol.feedback import OUTCOMES, FeedbackEntry
from cds_service.store.models import CardIssued, Lockout

log = logging.getLogger(__name__)
CARD_LOG_WAIT_S = 0.6


class LockoutUnavailable(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes: every time stored here is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class LockoutStore:
    def __init__(self, engine: Engine, timeout: float = 0.5, max_in_flight: int = 4):
        self.engine = engine
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=max_in_flight, thread_name_prefix="lockouts")
        self._slots = threading.BoundedSemaphore(max_in_flight)

    # -- read, on the hook's request path -----------------------------------------------------------
    def locks(self, patient_hash: str, keys: Iterable[LockKey]) -> dict[LockKey, Lock]:
        wanted = set(keys)
        if not wanted:
            return {}
        if not self._slots.acquire(blocking=False):  # reads already stuck on the database
            raise LockoutUnavailable("busy")
        future = self._pool.submit(self._read, patient_hash, wanted)
        future.add_done_callback(lambda _: self._slots.release())
        try:
            return future.result(timeout=self.timeout)
        except FutureTimeout:
            raise LockoutUnavailable("timeout") from None
        except Exception as error:  # any database failure: show the card
            raise LockoutUnavailable(type(error).__name__) from None

    def _read(self, patient_hash: str, wanted: set[LockKey]) -> dict[LockKey, Lock]:
        rules = sorted({rule_id for rule_id, _ in wanted})
        query = select(Lockout.rule_id, Lockout.evidence_fingerprint, Lockout.card_uuid, Lockout.locked_at).where(
            Lockout.patient_hash == patient_hash, Lockout.rule_id.in_(rules)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return {
            (rule_id, fingerprint): Lock(card_uuid, _utc(locked_at))
            for rule_id, fingerprint, card_uuid, locked_at in rows
            if (rule_id, fingerprint) in wanted
        }

    # -- write, on the feedback request ------------------------------------------------------------
    def record_answers(
        self, service_id: str, entries: Iterable[FeedbackEntry], now: datetime, flush: Callable[[], None] | None = None
    ) -> int:
        """Lock the answered cards of this service; returns how many locks were set or renewed.

        A card row still queued in this worker's card log is written first (`flush`); one queued in
        another worker's is waited for, up to CARD_LOG_WAIT_S (its writer runs every 0.25 s)."""
        answers = {e.card: e for e in entries if e.outcome in OUTCOMES}
        if not answers:
            return 0
        cards = self._logged_cards(service_id, answers)
        if len(cards) < len(answers) and flush is not None:
            flush()
            cards = self._logged_cards(service_id, answers)
        deadline = time.monotonic() + CARD_LOG_WAIT_S
        while len(cards) < len(answers) and time.monotonic() < deadline:
            time.sleep(0.1)
            cards = self._logged_cards(service_id, answers)
        lockable = [c for c in cards if (c.status or ISSUED) == ISSUED and c.evidence_fingerprint]
        now = _utc(now)
        for card in lockable:
            self._upsert(card, answers[card.card_uuid].outcome, now)
        return len(lockable)

    def _logged_cards(self, service_id: str, uuids: Iterable[str]) -> list[CardIssued]:
        query = select(CardIssued).where(CardIssued.card_uuid.in_(list(uuids)), CardIssued.service_id == service_id)
        with Session(self.engine) as session:
            return list(session.scalars(query))

    def _upsert(self, card: CardIssued, outcome: str, now: datetime) -> None:
        key = (Lockout.patient_hash == card.patient_hash, Lockout.rule_id == card.rule_id,
               Lockout.evidence_fingerprint == card.evidence_fingerprint)
        renew = update(Lockout).where(*key).values(card_uuid=card.card_uuid, outcome=outcome, locked_at=now)
        with self.engine.begin() as connection:
            if connection.execute(renew).rowcount:
                return
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(Lockout).values(
                    patient_hash=card.patient_hash, rule_id=card.rule_id,
                    evidence_fingerprint=card.evidence_fingerprint, card_uuid=card.card_uuid, outcome=outcome,
                    locked_at=now,
                ))
        except IntegrityError:  # another worker inserted it in between: renew theirs
            with self.engine.begin() as connection:
                connection.execute(renew)
