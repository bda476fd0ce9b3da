"""Public verification keys read from JWK Sets, and which algorithms each key may verify.

A key only ever verifies the algorithms its type allows (and its own `alg`, when
the JWK names one), so a token can never make an RSA key act as an HMAC secret.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
EC_ALGORITHM_BY_CURVE = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512", "secp256k1": "ES256K"}
OKP_CURVES = frozenset({"Ed25519", "Ed448"})
MIN_RSA_BITS = 2048  # RFC 7518 §3.3
# JWK members that hold private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class UnusableKey(ValueError):
    """A JWK that cannot serve as a trusted verification key (message names no key material)."""


@dataclass(frozen=True)
class VerificationKey:
    kid: str
    algorithms: frozenset[str]  # algorithms this key may verify
    public_key: Any  # a cryptography public key object


def algorithms_for_jwk(jwk: Mapping[str, Any]) -> frozenset[str]:
    kty = jwk.get("kty")
    if kty == "RSA":
        candidates = RSA_ALGORITHMS
    elif kty == "EC" and jwk.get("crv") in EC_ALGORITHM_BY_CURVE:
        candidates = frozenset({EC_ALGORITHM_BY_CURVE[jwk["crv"]]})
    elif kty == "OKP" and jwk.get("crv") in OKP_CURVES:
        candidates = frozenset({"EdDSA"})
    else:
        return frozenset()
    declared = jwk.get("alg")
    if declared is None:
        return candidates
    return candidates & {declared}


def verification_key(jwk: Any) -> VerificationKey:
    """Parse one public signing JWK; raise UnusableKey if it is unusable or not public."""
    if not isinstance(jwk, Mapping):
        raise UnusableKey("a key is not a JSON object")
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not kid:
        raise UnusableKey("a key has no 'kid'")
    if PRIVATE_MEMBERS & set(jwk):
        raise UnusableKey(f"key {kid!r} contains private or symmetric key material: publish only public keys")
    if jwk.get("use", "sig") != "sig":
        raise UnusableKey(f"key {kid!r} is not a signing key (use={jwk.get('use')!r})")
    algorithms = algorithms_for_jwk(jwk)
    if not algorithms:
        raise UnusableKey(f"key {kid!r} has an unsupported type, curve or alg")
    try:
        # The algorithm passed only selects the JWK parser for the key type.
        parsed = jwt.PyJWK(dict(jwk), algorithm=sorted(algorithms)[0])
    except jwt.PyJWTError as error:
        raise UnusableKey(f"key {kid!r} cannot be read: {type(error).__name__}") from None
    if isinstance(parsed.key, rsa.RSAPublicKey) and parsed.key.key_size < MIN_RSA_BITS:
        raise UnusableKey(f"key {kid!r} is an RSA key shorter than {MIN_RSA_BITS} bits")
    return VerificationKey(kid=kid, algorithms=algorithms, public_key=parsed.key)


def keys_of_jwks(jwks: Any) -> dict[str, VerificationKey]:
    """Every key of a JWK Set, strictly: one unusable key makes the whole set an error."""
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        raise UnusableKey("a JWK Set must be an object with a 'keys' list")
    keys: dict[str, VerificationKey] = {}
    for jwk in jwks["keys"]:
        key = verification_key(jwk)
        if key.kid in keys:
            raise UnusableKey(f"kid {key.kid!r} appears twice in one JWK Set")
        keys[key.kid] = key
    if not keys:
        raise UnusableKey("the JWK Set has no keys")
    return keys


def usable_keys_of_jwks(jwks: Any) -> tuple[dict[str, VerificationKey], int]:
    """The usable signing keys of a remote JWK Set, and how many keys were skipped.

    A published set may legitimately mix in encryption keys or key types we do not
    use; those are skipped rather than making the whole set unusable.
    """
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        raise UnusableKey("a JWK Set must be an object with a 'keys' list")
    parsed: list[VerificationKey] = []
    for jwk in jwks["keys"]:
        try:
            parsed.append(verification_key(jwk))
        except UnusableKey:
            continue
    kid_counts = Counter(key.kid for key in parsed)
    # Two keys under one kid: we cannot tell which one is meant, so trust neither.
    keys = {key.kid: key for key in parsed if kid_counts[key.kid] == 1}
    return keys, len(jwks["keys"]) - len(keys)
