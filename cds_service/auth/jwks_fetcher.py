"""Key sets fetched from the `jku` URLs configured for trusted clients, cached.

Only URLs from the trusted-clients file ever reach this module; a URL taken from a
token is never fetched. Fetches are bounded (timeouts, size cap, no redirects) and
rate-limited: a key set is fetched again when its TTL has run out, or on an
unknown `kid` (key rotation), but never more than once a minute, so a stream of
tokens with made-up kids cannot turn the service into a load generator against
the EHR.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from .keys import UnusableKey, VerificationKey, usable_keys_of_jwks

log = logging.getLogger(__name__)

MIN_REFRESH_INTERVAL = 60.0  # seconds between two fetches of one key set
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 5.0
TOTAL_DEADLINE = 10.0  # seconds for one whole fetch: a slow drip cannot hold a worker
MAX_JWKS_BYTES = 256 * 1024


class JwksFetchError(Exception):
    """A key set could not be fetched or read (message holds no response body)."""


@dataclass
class _CachedSet:
    keys: dict[str, VerificationKey]
    fetched_at: float | None  # None: never fetched successfully
    last_attempt: float


class RemoteKeySets:
    def __init__(
        self,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
        session: requests.Session | None = None,
    ):
        self._ttl = ttl
        self._clock = clock
        self._session = session or requests.Session()
        self._sets: dict[str, _CachedSet] = {}
        self._lock = threading.Lock()

    def key(self, jku: str, kid: str) -> VerificationKey | None:
        """The key `kid` of the set at `jku`, fetching or refreshing the set when allowed.

        Raises JwksFetchError when no copy of the set has been fetched yet.
        """
        with self._lock:  # one fetch at a time; concurrent callers then read the fresh cache
            cached = self._sets.get(jku)
            if cached is None or self._should_refresh(cached, kid):
                cached = self._refresh(jku, cached)
            if cached.fetched_at is None:
                raise JwksFetchError("no copy of the key set yet")
            return cached.keys.get(kid)

    def _should_refresh(self, cached: _CachedSet, kid: str) -> bool:
        now = self._clock()
        if now - cached.last_attempt < MIN_REFRESH_INTERVAL:
            return False
        stale = cached.fetched_at is None or now - cached.fetched_at >= self._ttl
        return stale or kid not in cached.keys

    def _refresh(self, jku: str, cached: _CachedSet | None) -> _CachedSet:
        now = self._clock()
        try:
            keys = self._fetch(jku)
        except JwksFetchError as error:
            log.warning("could not fetch the key set %s: %s", jku, error)
            # Keep the keys we had: an outage of the EHR's key endpoint must not lock it out.
            kept = cached or _CachedSet(keys={}, fetched_at=None, last_attempt=now)
            kept.last_attempt = now
            self._sets[jku] = kept
            return kept
        fresh = _CachedSet(keys=keys, fetched_at=now, last_attempt=now)
        self._sets[jku] = fresh
        return fresh

    def _fetch(self, jku: str) -> dict[str, VerificationKey]:
        body = self._download(jku)
        try:
            document = json.loads(body)
            keys, skipped = usable_keys_of_jwks(document)
        except (ValueError, UnusableKey) as error:
            raise JwksFetchError(f"not a JWK Set ({type(error).__name__})") from None
        if not keys:
            raise JwksFetchError("no usable signing key in the set")
        log.info("fetched key set %s: %d key(s), %d skipped", jku, len(keys), skipped)
        return keys

    def _download(self, jku: str) -> bytes:
        deadline = time.monotonic() + TOTAL_DEADLINE
        try:
            response = self._session.get(
                jku,
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                allow_redirects=False,  # a redirect could lead anywhere, including inside our network
                stream=True,
                headers={"Accept": "application/jwk-set+json, application/json"},
            )
        except requests.RequestException as error:
            raise JwksFetchError(type(error).__name__) from None
        with response:
            if response.status_code != 200:
                raise JwksFetchError(f"HTTP {response.status_code}")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > MAX_JWKS_BYTES:
                raise JwksFetchError("response too large")
            return _read_capped(response, deadline)


def _read_capped(response: requests.Response, deadline: float) -> bytes:
    body = bytearray()
    try:
        for chunk in response.iter_content(chunk_size=16 * 1024):
            body.extend(chunk)
            if len(body) > MAX_JWKS_BYTES:
                raise JwksFetchError("response too large")
            if time.monotonic() > deadline:
                raise JwksFetchError("response too slow")
    except requests.RequestException as error:
        raise JwksFetchError(type(error).__name__) from None
    return bytes(body)
