"""The card log, written off the request path: a bounded in-memory queue, one writer thread.

A hook answer never waits for the database. Rows (card uuid -> rule) only tie later feedback
to its rule, so a row written seconds or minutes later changes nothing the clinician sees.

What the log promises (docs/operations.md, "Card log"):
- rows are sanitized before they are queued (NUL, lone surrogates, lengths), governance
  columns (status, repeats_card, fact_refs, evidence_fingerprint) included: one odd
  `hookInstance` can never make a batch fail;
- a batch that fails because the database is away is kept, and retried with a backoff
  (0.5 s doubling to 30 s) until the database is back; nothing is dropped for that;
- a batch that fails for any other reason is retried row by row: only a row the database
  refuses on its own is dropped, counted and logged;
- at most `max_pending` rows wait; rows beyond are dropped, counted and logged;
- `card_log_pending`, `card_log_dropped_total{reason}` and `card_log_write_failures_total`
  are on /metrics. Pending rows are written at exit (`flush`, up to 5 s).
"""
from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import deque
from datetime import UTC, datetime

from sqlalchemy import String
from sqlalchemy.exc import DisconnectionError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from cds_service.store.models import CardIssued
from cds_service.store.repository import Store

log = logging.getLogger(__name__)

UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout, DisconnectionError, OSError)
MAX_BACKOFF = 30.0
EXIT_FLUSH_SECONDS = 5.0
FEEDBACK_FLUSH_SECONDS = 1.0  # the longest a feedback request waits for its cards' rows (lockouts, issue 13)
# Every text column of a card row, governance columns included (issue 13): name -> (length cap or None,
# the value of a row that has none: the column's default, e.g. status "issued").
_TEXT_COLUMNS: dict[str, tuple[int | None, str]] = {
    column.name: (column.type.length, str(getattr(column.default, "arg", "")))
    for column in CardIssued.__table__.columns
    if isinstance(column.type, String)  # Text is a String without a length
}


def clean_text(value: object, limit: int | None) -> str:
    """Text any database stores: no NUL, no lone surrogate, at most `limit` characters."""
    text = value if isinstance(value, str) else str(value)
    text = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return text[:limit] if limit else text


def sanitized(row: dict) -> dict:
    clean: dict[str, object] = {name: clean_text(row.get(name, default), limit)
                                for name, (limit, default) in _TEXT_COLUMNS.items()}
    issued_at = row.get("issued_at")
    clean["issued_at"] = issued_at if isinstance(issued_at, datetime) else datetime.now(UTC)
    return clean


class _NoMetrics:
    def pending(self, count: int) -> None: ...
    def dropped(self, reason: str, count: int) -> None: ...
    def write_failed(self) -> None: ...


class CardLog:
    def __init__(self, store: Store, metrics=None, max_pending: int = 100_000, batch_size: int = 1000,
                 interval: float = 0.25):
        self.store = store
        self.metrics = metrics or _NoMetrics()
        self.max_pending = max_pending
        self.batch_size = batch_size
        self.interval = interval
        self.dropped = 0
        self.write_failures = 0
        self._pending: deque[dict] = deque()
        self._in_flight = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._wake = threading.Event()  # set by flush(): stop gathering or backing off, write now
        self._last_drop_log = 0.0
        self._thread = threading.Thread(target=self._run, name="card-log", daemon=True)
        self._thread.start()
        atexit.register(self._flush_at_exit)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending) + self._in_flight

    def record(self, rows: list[dict]) -> None:
        """Queue rows; never blocks, never raises. Rows beyond `max_pending` are dropped and counted."""
        clean = [sanitized(row) for row in rows]
        with self._lock:  # the gauge is set under the lock, so that it never shows a stale count
            room = max(0, self.max_pending - len(self._pending))
            self._pending.extend(clean[:room])
            lost = len(clean) - min(room, len(clean))
            self.metrics.pending(len(self._pending) + self._in_flight)
        if lost:
            self._drop("queue-full", lost)

    def flush(self, timeout: float | None = None) -> bool:
        """Wake the writer and wait until every row is written; False if `timeout` passed first."""
        expires = None if timeout is None else time.monotonic() + timeout
        next_wake = 0.0
        with self._changed:
            while self._pending or self._in_flight:
                if time.monotonic() >= next_wake:  # cut a backoff short, at most once a second
                    self._wake.set()
                    next_wake = time.monotonic() + 1.0
                remaining = None if expires is None else expires - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._changed.wait(0.05 if remaining is None else min(0.05, remaining))
        return True

    def flush_for_feedback(self) -> None:
        """Write queued rows so that feedback finds its cards; bounded, since the database may be away
        (then the lockout is not set and the card shows again: fail open)."""
        self.flush(FEEDBACK_FLUSH_SECONDS)

    def _flush_at_exit(self) -> None:
        if not self.flush(EXIT_FLUSH_SECONDS) and self.pending:
            log.error("card log rows not written at exit", extra={"count": self.pending, "reason": "database unavailable"})

    def _drop(self, reason: str, count: int) -> None:
        self.dropped += count
        self.metrics.dropped(reason, count)
        now = time.monotonic()
        if reason != "queue-full" or now - self._last_drop_log >= 1.0:  # a full queue logs once a second
            self._last_drop_log = now
            log.error("card log rows dropped", extra={"reason": reason, "count": count, "dropped_total": self.dropped})

    def _take(self) -> list[dict]:
        with self._lock:
            batch = [self._pending.popleft() for _ in range(min(self.batch_size, len(self._pending)))]
            self._in_flight = len(batch)
            return batch

    def _settle(self, unwritten: list[dict]) -> None:
        """The batch is done: rows not written go back to the front, in order."""
        with self._changed:
            self._pending.extendleft(reversed(unwritten))
            self._in_flight = 0
            self.metrics.pending(len(self._pending))
            self._changed.notify_all()

    def _write(self, batch: list[dict]) -> list[dict]:
        """Write a batch; returns the rows to keep for later (the database is unavailable)."""
        try:
            self.store.record_cards(batch)
            return []
        except Exception as error:
            self._failed(error, len(batch))
            if isinstance(error, UNAVAILABLE):
                return batch
        for index, row in enumerate(batch):  # a row the database refuses must not cost the others theirs
            try:
                self.store.record_cards([row])
            except IntegrityError:
                continue  # already written (a commit whose answer was lost): nothing is missing
            except Exception as error:
                self._failed(error, 1)
                if isinstance(error, UNAVAILABLE):
                    return batch[index:]
                self._drop("refused-by-database", 1)
        return []

    def _failed(self, error: Exception, count: int) -> None:
        self.write_failures += 1
        self.metrics.write_failed()
        log.warning("card log write failed", extra={"error_type": type(error).__name__, "count": count})

    def _run(self) -> None:
        backoff = 0.0
        while True:
            # gather a batch (one row at a time costs ~20x more per row), or back off; flush() cuts either short
            self._wake.wait(backoff or self.interval)
            self._wake.clear()
            batch = self._take()
            if not batch:
                self._settle([])
                continue
            unwritten = self._write(batch)
            self._settle(unwritten)
            backoff = min(MAX_BACKOFF, max(0.5, backoff * 2)) if unwritten else 0.0
