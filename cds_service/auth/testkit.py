"""Make keys and sign CDS Hooks JWTs, for tests and local demos only.

A throwaway key pair plays the part of an EHR: its public half goes into a
trusted-clients file, its private half signs tokens the way a CDS Client does.
"""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str  # ES384 or RS384
    private_key: Any

    def public_jwk(self) -> dict[str, Any]:
        public = self.private_key.public_key()
        algorithm_class = jwt.algorithms.ECAlgorithm if self.algorithm.startswith("ES") else jwt.algorithms.RSAAlgorithm
        jwk = algorithm_class.to_jwk(public, as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}

    def public_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        """A compact JWT with `kid`, `typ: JWT` and any extra header fields (e.g. jku=...); None drops a field."""
        headers = {name: value for name, value in {"kid": self.kid, "typ": "JWT", **header}.items() if value is not None}
        return jwt.encode(claims, self.private_key, algorithm=self.algorithm, headers=headers)

    def sign_unchecked(self, payload: Any, **header: Any) -> str:
        """Sign any JSON payload, even one PyJWT's JWT encoder refuses (e.g. a non-string iss)."""
        headers = {name: value for name, value in {"kid": self.kid, "typ": "JWT", **header}.items() if value is not None}
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        return jwt.api_jws.encode(body, self.private_key, algorithm=self.algorithm, headers=headers)


def new_es384_key(kid: str | None = None) -> SigningKey:
    return SigningKey(kid or str(uuid.uuid4()), "ES384", ec.generate_private_key(ec.SECP384R1()))


def new_rs384_key(kid: str | None = None, bits: int = 2048) -> SigningKey:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return SigningKey(kid or str(uuid.uuid4()), "RS384", private_key)


def jwks_of(keys: Iterable[SigningKey]) -> dict[str, Any]:
    return {"keys": [key.public_jwk() for key in keys]}


def cds_claims(iss: str, aud: str | list[str], now: float | None = None, lifetime: float = 300, **extra: Any) -> dict[str, Any]:
    """The claims a CDS Client sends (CDS Hooks 2.0): iss, aud, iat, exp, jti; no sub."""
    issued = int(time.time()) if now is None else now
    claims = {"iss": iss, "aud": aud, "iat": issued, "exp": issued + lifetime, "jti": str(uuid.uuid4())}
    claims.update(extra)
    return claims


def write_trusted_clients(path: Path, clients: list[dict[str, Any]]) -> Path:
    """Write a trusted-clients file, e.g. [{"iss": ..., "jwks": jwks_of([key])}]."""
    path.write_text(json.dumps({"clients": clients}, indent=2), "utf-8")
    return path
