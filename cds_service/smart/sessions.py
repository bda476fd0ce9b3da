"""Server-side sessions of the pathway app: the launch's state and PKCE verifier, then the access token.

The browser holds only a random 256-bit secret (the cookie). The database row is keyed by its SHA-256
and sealed with AES-GCM under a key derived from it, so the table alone (a backup, a read-only
database user) yields no token. Rows live in the service's own database, so every gunicorn worker
sees every session; expired rows are removed as new ones are written.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import (
    Column,
    Engine,
    Float,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
)
from sqlalchemy.exc import DBAPIError

METADATA = MetaData()
SESSIONS = Table(
    "smart_app_sessions",
    METADATA,
    Column("id", String(64), primary_key=True),  # sha256 of the cookie secret
    Column("expires_at", Float, index=True),  # unix time
    Column("sealed", Text, nullable=False),  # base64(nonce + AES-GCM ciphertext) of the JSON data
)
SECRET_BYTES = 32


def _key(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"cds-smart-app-session").derive(secret.encode())


def _row_id(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SessionStore:
    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time):
        self.engine = engine
        self.clock = clock
        try:
            METADATA.create_all(engine)
        except DBAPIError:  # another worker created the table between the check and the CREATE
            METADATA.create_all(engine)

    def create(self, data: dict, ttl_seconds: float) -> str:
        """Store `data` for `ttl_seconds`; returns the secret the cookie carries."""
        secret = secrets.token_urlsafe(SECRET_BYTES)
        nonce = secrets.token_bytes(12)
        sealed = nonce + AESGCM(_key(secret)).encrypt(nonce, json.dumps(data).encode(), None)
        now = self.clock()
        with self.engine.begin() as connection:
            connection.execute(delete(SESSIONS).where(SESSIONS.c.expires_at < now))
            connection.execute(insert(SESSIONS).values(id=_row_id(secret), expires_at=now + ttl_seconds,
                                                       sealed=base64.b64encode(sealed).decode()))
        return secret

    def load(self, secret: str | None) -> dict | None:
        """The session's data, or None: no cookie, unknown, expired or tampered with."""
        if not secret or len(secret) > 128:
            return None
        with self.engine.connect() as connection:
            row = connection.execute(select(SESSIONS.c.expires_at, SESSIONS.c.sealed)
                                     .where(SESSIONS.c.id == _row_id(secret))).first()
        if row is None or row.expires_at < self.clock():
            return None
        raw = base64.b64decode(row.sealed)
        try:
            return json.loads(AESGCM(_key(secret)).decrypt(raw[:12], raw[12:], None))
        except (InvalidTag, ValueError):
            return None

    def delete(self, secret: str | None) -> None:
        if secret:
            with self.engine.begin() as connection:
                connection.execute(delete(SESSIONS).where(SESSIONS.c.id == _row_id(secret)))
