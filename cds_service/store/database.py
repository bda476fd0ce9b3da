"""Database engines whose every call is bounded in time (docs/operations.md, "Database").

- connect: `connect_timeout` (PostgreSQL) / the file lock wait (SQLite);
- each statement: `statement_timeout` on the server, and a client-side deadline one second later
  for a server that accepts the connection but never answers (frozen, half-dead network);
- a small pool per worker with a checkout timeout, so that a stuck database holds a few
  connections, never every request thread;
- `BoundedCalls`: request-path calls (feedback, readiness, JWT replay) run on a few threads of
  their own and the request waits at most a fixed time, whatever the driver does.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool

from cds_service.store.migrations import add_missing_columns  # columns added after release (issue 13)
from cds_service.store.models import Base

log = logging.getLogger(__name__)
T = TypeVar("T")
CLIENT_GRACE = 1.0  # seconds the client waits beyond the server's statement timeout


@dataclass(frozen=True)
class DbLimits:
    connect_timeout: float = 3.0
    statement_timeout: float = 5.0
    pool_size: int = 4
    pool_timeout: float = 2.0

    @classmethod
    def from_settings(cls, settings) -> DbLimits:
        return cls(settings.db_connect_timeout, settings.db_statement_timeout, settings.db_pool_size,
                   settings.db_pool_timeout)

    def shorter(self, seconds: float) -> DbLimits:
        """The same limits capped at `seconds` (the JWT replay check's engine)."""
        return DbLimits(min(self.connect_timeout, seconds), min(self.statement_timeout, seconds), 2,
                        min(self.pool_timeout, seconds))


def make_engine(database_url: str, limits: DbLimits | None = None, create_tables: bool = True) -> Engine:
    limits = limits or DbLimits()
    if database_url in ("sqlite://", "sqlite:///:memory:"):
        # one in-memory database shared by every thread (the card log writes from its own thread)
        engine = create_engine(database_url, connect_args={"check_same_thread": False}, poolclass=StaticPool)
    elif database_url.startswith("sqlite"):
        engine = _sqlite_engine(database_url, limits)
    else:
        engine = _postgres_engine(database_url, limits)
    return _with_tables(engine) if create_tables else engine


def _sqlite_engine(database_url: str, limits: DbLimits) -> Engine:
    busy_ms = int(limits.statement_timeout * 1000)
    engine = create_engine(database_url, connect_args={"check_same_thread": False, "timeout": limits.statement_timeout})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(connection, _record):  # several gunicorn workers share one file
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    return engine


def _postgres_engine(database_url: str, limits: DbLimits) -> Engine:
    statement_ms = int(limits.statement_timeout * 1000)
    engine = create_engine(
        database_url,
        pool_pre_ping=True,
        pool_size=limits.pool_size,
        max_overflow=limits.pool_size,
        pool_timeout=limits.pool_timeout,
        connect_args={
            "connect_timeout": max(2, math.ceil(limits.connect_timeout)),  # libpq counts whole seconds, 2 at least
            "options": f"-c statement_timeout={statement_ms} -c lock_timeout={statement_ms}"
                       f" -c idle_in_transaction_session_timeout={statement_ms * 4}",
        },
    )
    connection_class = _deadline_connection_class(limits.statement_timeout + CLIENT_GRACE)
    if connection_class is not None:

        @event.listens_for(engine, "do_connect")
        def _connect(_dialect, _record, cargs, cparams):
            return connection_class.connect(*cargs, **cparams)

    return engine


def _deadline_connection_class(seconds: float):
    """A psycopg connection that gives up on a server silent for `seconds` (None without psycopg)."""
    try:
        import psycopg
        from psycopg import errors
    except ImportError:  # pragma: no cover - PostgreSQL URLs need psycopg anyway
        return None

    class DeadlineConnection(psycopg.Connection):
        def wait(self, gen, interval=0.1, timeout=None):
            try:
                return super().wait(gen, interval=interval, timeout=seconds if timeout is None else timeout)
            except errors._WaitTimeout:
                self.pgconn.finish()  # mid-protocol: the connection cannot be reused
                raise psycopg.OperationalError(f"the database did not answer within {seconds:g} s") from None

    return DeadlineConnection


def _with_tables(engine: Engine) -> Engine:
    try:
        Base.metadata.create_all(engine)
    except OperationalError:  # another process created the tables between the check and the CREATE
        Base.metadata.create_all(engine)
    add_missing_columns(engine)
    return engine


class CallTimedOut(Exception):
    """A bounded database call did not finish in time (it may still finish later)."""


class BoundedCalls:
    """Runs blocking calls on `workers` threads of its own; the caller waits at most `timeout`.

    A call still queued when its caller gave up is skipped, so that no late write happens for a
    request already answered 503. A call already running may still complete: callers make their
    writes idempotent (feedback by fingerprint). When every thread holds a call older than
    `stuck_after` seconds the database is not answering: new calls fail at once instead of
    holding a request thread for `timeout` too.
    """

    def __init__(self, workers: int, name: str, stuck_after: float = 1.0):
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._workers = workers
        self._stuck_after = stuck_after
        self._started: dict[int, float] = {}  # running calls: id -> start time
        self._lock = threading.Lock()

    def run(self, function: Callable[[], T], timeout: float) -> T:
        if self._all_stuck():
            raise CallTimedOut("every database thread is waiting for a database that does not answer")
        expires = time.monotonic() + timeout

        def unless_expired() -> T:
            if time.monotonic() > expires:
                raise CallTimedOut("given up before it started")
            key = id(threading.current_thread())
            with self._lock:
                self._started[key] = time.monotonic()
            try:
                return function()
            finally:
                with self._lock:
                    self._started.pop(key, None)

        future = self._executor.submit(unless_expired)
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            future.cancel()
            raise CallTimedOut(f"no answer within {timeout:g} s") from None

    def _all_stuck(self) -> bool:
        oldest_allowed = time.monotonic() - self._stuck_after
        with self._lock:
            return len(self._started) >= self._workers and all(t < oldest_allowed for t in self._started.values())


class SingleFlight:
    """At most one call in flight (readiness probes): while one is stuck, the next answers at once."""

    def __init__(self, name: str):
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._pending: Future | None = None

    def run(self, function: Callable[[], T], timeout: float) -> T:
        with self._lock:
            if self._pending is not None and not self._pending.done():
                raise CallTimedOut("the previous call has not finished")
            future = self._pending = self._executor.submit(function)
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            raise CallTimedOut(f"no answer within {timeout:g} s") from None


def replay_engine(settings, main: Engine) -> Engine:
    """The JWT replay check's own engine: short limits, its own 2-connection pool (never starved by feedback)."""
    if main.url.database in (None, "", ":memory:"):
        return main  # an in-memory database exists once: share it
    limits = DbLimits.from_settings(settings).shorter(settings.db_replay_timeout)
    return make_engine(settings.database_url, limits, create_tables=False)
