"""Constants and helpers for the authentication tests (fixtures are in conftest.py)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from cds_service.auth.testkit import SigningKey, cds_claims

BASE_URL = "https://cds.example.org"
SERVICE_URL = BASE_URL + "/cds-services/iliac-vein-patient-view"
DISCOVERY_URL = BASE_URL + "/cds-services"
ISS_A = "https://ehr-a.example.org/cds"
ISS_B = "https://ehr-b.example.org"
ISS_C = "https://ehr-c.example.org"
JKU_C = "https://ehr-c.example.org/.well-known/jwks.json"
TENANT_C = "org-c"
SANDBOX_KID = "44823f3d-0b01-4a6c-a80e-b9d3e8a7226f"
NOW = 1_750_000_000.0  # a fixed "now" for every test, so time boundaries are exact


@dataclass(frozen=True)
class Keys:
    a: SigningKey
    b: SigningKey
    c: SigningKey
    c_rotated: SigningKey
    attacker: SigningKey
    sandbox_stand_in: SigningKey  # signs as the sandbox; its private key is not ours to use


class FakeClock:
    def __init__(self, now: float = NOW):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def claims(iss: str, aud=SERVICE_URL, now: float = NOW, lifetime: float = 300, **extra):
    return cds_claims(iss, aud, now=now, lifetime=lifetime, **extra)


def bearer(token: str) -> str:
    return f"Bearer {token}"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def segment(obj) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode("utf-8"))


def unsigned_token(header: dict, payload: dict, signature: bytes = b"") -> str:
    """A compact JWS assembled by hand: the attacker is not bound by what PyJWT's encoder allows."""
    return f"{segment(header)}.{segment(payload)}.{b64url(signature)}"


def hmac_token(algorithm: str, secret: bytes, header: dict, payload: dict) -> str:
    """An HS* token whose secret is e.g. a trusted public key (the algorithm-confusion attack)."""
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[algorithm]
    full_header = {"alg": algorithm, "typ": "JWT", **header}
    signing_input = f"{segment(full_header)}.{segment(payload)}"
    signature = hmac.new(secret, signing_input.encode("ascii"), digest).digest()
    return f"{signing_input}.{b64url(signature)}"
