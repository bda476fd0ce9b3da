"""Refuse a JWT whose `jti` was already accepted, across all workers and replicas.

The seen (issuer, jti) pairs live in the shared database, not in process memory:
with several gunicorn workers or replicas, an in-memory set would let a captured
token be replayed once per process. The unique constraint on (issuer, jti) makes
"check and remember" one atomic insert, so two workers racing with the same token
cannot both win.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import delete, insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..store.database import BoundedCalls, CallTimedOut
from ..store.models import SeenJwt
from .errors import AuthenticationFailed

log = logging.getLogger(__name__)

PURGE_INTERVAL = 60.0  # seconds between two purges of expired rows, per process
MAX_JTI_LENGTH = 256  # the width of seen_jwt.jti


class ReplayGuard:
    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time, timeout: float = 1.0):
        self._engine = engine
        self._clock = clock
        self._timeout = timeout  # the check's own limit: a stuck database costs a hook call this, then 503
        self._calls = BoundedCalls(workers=4, name="jwt-replay")
        self._next_purge = 0.0
        self._purge_lock = threading.Lock()

    def remember(self, issuer: str, jti: str, keep_until: float) -> None:
        """Record the token id until `keep_until` (epoch seconds); refuse it if already recorded.

        Fails closed (reason `replay-store-unavailable`, answered 503) when the database does not
        answer within the guard's timeout: without it a replay cannot be told from a first use.
        """
        try:
            first_use = self._calls.run(lambda: self._record(issuer, jti, keep_until), self._timeout)
        except (SQLAlchemyError, CallTimedOut) as error:
            log.error("replay store unavailable (%s)", type(error).__name__)
            raise AuthenticationFailed("replay-store-unavailable", issuer) from None
        if not first_use:
            raise AuthenticationFailed("replayed-jti", issuer)

    def _record(self, issuer: str, jti: str, keep_until: float) -> bool:
        self._purge_if_due()
        if self._insert(issuer, jti, keep_until):
            return True
        # The pair is known. If the old row has only outlived its token, a purge
        # is merely late: drop it and record the new token.
        return self._delete_expired(issuer, jti) and self._insert(issuer, jti, keep_until)

    def purge_expired(self) -> int:
        with self._engine.begin() as connection:
            result = connection.execute(delete(SeenJwt).where(SeenJwt.expires_at < self._now()))
        return result.rowcount or 0

    def _insert(self, issuer: str, jti: str, keep_until: float) -> bool:
        """True if recorded, False if the pair was already there."""
        row = {"issuer": issuer, "jti": jti, "expires_at": datetime.fromtimestamp(keep_until, UTC)}
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(SeenJwt).values(**row))
        except IntegrityError:
            return False
        return True

    def _delete_expired(self, issuer: str, jti: str) -> bool:
        with self._engine.begin() as connection:
            result = connection.execute(
                delete(SeenJwt).where(
                    SeenJwt.issuer == issuer, SeenJwt.jti == jti, SeenJwt.expires_at < self._now()
                )
            )
        return bool(result.rowcount)

    def _purge_if_due(self) -> None:
        now = self._clock()
        with self._purge_lock:
            if now < self._next_purge:
                return
            self._next_purge = now + PURGE_INTERVAL
        try:
            purged = self.purge_expired()
        except SQLAlchemyError as error:
            log.warning("could not purge expired token ids (%s)", type(error).__name__)
            return
        if purged:
            log.debug("purged %d expired token id(s)", purged)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)
