"""Authenticate a CDS Client from the JWT in its Authorization header (CDS Hooks 2.0, "Trusting CDS Clients").

Order of checks: the token's header and payload are read *unverified* only to pick
the trusted client (`iss`) and its key (`kid`, `jku`); nothing else is believed
before the signature verifies. The algorithm is never taken from the token: it
must be on the configured asymmetric allowlist *and* be one the chosen key can
verify, and that intersection is what PyJWT is told to accept. The `jti` is
recorded last, so a token that fails any other check cannot burn a real token's id.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import jwt
import requests
from sqlalchemy.engine import Engine

from ..config import Settings
from .errors import REASONS, AuthenticationFailed, TrustedClientsError
from .jwks_fetcher import JwksFetchError, RemoteKeySets
from .keys import VerificationKey
from .replay import MAX_JTI_LENGTH, ReplayGuard
from .trusted_clients import TrustedClient, configured_clients

log = logging.getLogger(__name__)

MAX_TOKEN_LENGTH = 16 * 1024  # characters; real CDS Hooks JWTs are well under 2 KiB
REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "jti")  # CDS Hooks 2.0: no `sub`


class Authenticator:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
        sandbox_jwks: Mapping[str, Any] | None = None,
    ):
        """`clock`, `session` and `sandbox_jwks` are test seams; the app passes none of them."""
        self._algorithms = _asymmetric_only(settings.jwt_algorithms)
        self._clients = configured_clients(
            settings.trusted_clients_file, settings.trust_cds_hooks_sandbox, sandbox_jwks
        )
        self._skew = settings.jwt_clock_skew
        self._max_lifetime = settings.jwt_max_lifetime
        self._clock = clock
        self._remote_keys = RemoteKeySets(ttl=settings.jwks_cache_ttl, clock=clock, session=session)
        self._replay = ReplayGuard(engine, clock=clock, timeout=settings.db_replay_timeout)
        if not settings.public_base_url:
            # The app then builds the expected `aud` from the Host header, which the caller chooses.
            log.warning("CDS_PUBLIC_BASE_URL is not set: set it so that JWT audiences are checked against this service's own URL")

    @property
    def trusted_issuers(self) -> tuple[str, ...]:
        return tuple(self._clients)

    def authenticate(self, authorization_header: str | None, audience: str) -> dict[str, Any]:
        """The verified claims of the request's JWT; AuthenticationFailed(reason) otherwise."""
        if not isinstance(audience, str) or not audience:
            raise AuthenticationFailed("bad-audience")  # no endpoint URL: nothing could match
        token = _bearer_token(authorization_header)
        header, unverified_claims = _unverified_parts(token)
        algorithm = self._allowed_algorithm(header)
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthenticationFailed("missing-kid")
        client = self._client_for(unverified_claims)
        key = self._key_for(client, kid, header)
        if algorithm not in key.algorithms:
            raise AuthenticationFailed("bad-algorithm", client.iss)
        claims = self._verified_claims(token, key, client, audience)
        self._check_times(claims, client.iss)
        self._check_tenant(claims, client)
        jti = _checked_jti(claims, client.iss)
        self._replay.remember(client.iss, jti, keep_until=claims["exp"] + self._skew)
        log.debug("authenticated a call from %s", client.iss)
        return claims

    def _allowed_algorithm(self, header: Mapping[str, Any]) -> str:
        algorithm = header.get("alg")
        # `none` and HMAC never are in self._algorithms, whatever the token asks for.
        if not isinstance(algorithm, str) or algorithm not in self._algorithms:
            raise AuthenticationFailed("bad-algorithm")
        return algorithm

    def _client_for(self, unverified_claims: Mapping[str, Any]) -> TrustedClient:
        iss = unverified_claims.get("iss")
        if iss is None:
            raise AuthenticationFailed("missing-iss")
        client = self._clients.get(iss) if isinstance(iss, str) else None
        if client is None:
            raise AuthenticationFailed("untrusted-issuer")
        return client

    def _key_for(self, client: TrustedClient, kid: str, header: Mapping[str, Any]) -> VerificationKey:
        jku = header.get("jku")
        if jku is not None and jku not in client.accepted_jkus:
            # Never fetched: a key URL chosen by the token would let anyone vouch for themselves.
            raise AuthenticationFailed("untrusted-jku", client.iss)
        if kid in client.keys:
            return client.keys[kid]
        jkus_to_search = [jku] if jku in client.jkus else list(client.jkus)
        unreachable = 0
        for url in jkus_to_search:
            try:
                key = self._remote_keys.key(url, kid)
            except JwksFetchError:
                unreachable += 1
                continue
            if key is not None:
                return key
        if jkus_to_search and unreachable == len(jkus_to_search):
            raise AuthenticationFailed("jwks-unavailable", client.iss)
        raise AuthenticationFailed("unknown-kid", client.iss)

    def _verified_claims(
        self, token: str, key: VerificationKey, client: TrustedClient, audience: str
    ) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key=key.public_key,
                algorithms=sorted(self._algorithms & key.algorithms),
                audience=audience,
                issuer=client.iss,
                options={
                    "require": list(REQUIRED_CLAIMS),
                    # Times are checked below with our own clock, to give each failure its own reason.
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_sub": False,  # CDS Hooks 2.0 has no `sub`; Epic sends one, unused here
                    "enforce_minimum_key_length": True,
                },
            )
        except jwt.PyJWTError as error:
            raise AuthenticationFailed(_reason_for(error), client.iss) from None

    def _check_times(self, claims: Mapping[str, Any], iss: str) -> None:
        now = self._clock()
        expires, issued = claims["exp"], claims["iat"]
        not_before = claims.get("nbf", issued)
        if not all(_is_epoch_seconds(value) for value in (expires, issued, not_before)) or expires <= issued:
            raise AuthenticationFailed("bad-time-claim", iss)
        if now >= expires + self._skew:
            raise AuthenticationFailed("expired", iss)
        if issued > now + self._skew:
            raise AuthenticationFailed("issued-in-future", iss)
        if not_before > now + self._skew:
            raise AuthenticationFailed("not-yet-valid", iss)
        # A long-lived token is a long replay window for anyone who captures it.
        if expires - issued > self._max_lifetime:
            raise AuthenticationFailed("lifetime-too-long", iss)

    def _check_tenant(self, claims: Mapping[str, Any], client: TrustedClient) -> None:
        tenant = claims.get("tenant")
        if client.tenants and (not isinstance(tenant, str) or tenant not in client.tenants):
            raise AuthenticationFailed("bad-tenant", client.iss)


def _asymmetric_only(algorithms: tuple[str, ...]) -> frozenset[str]:
    """Re-check here what Settings already refuses: this module must stand on its own."""
    allowed = frozenset(algorithms)
    symmetric = {name for name in allowed if name.lower() == "none" or name.upper().startswith("HS")}
    if symmetric or not allowed:
        raise TrustedClientsError(f"JWT algorithms must be a non-empty list of asymmetric algorithms, not {sorted(allowed)}")
    unknown = allowed - set(jwt.algorithms.get_default_algorithms())
    if unknown:
        raise TrustedClientsError(f"unsupported JWT algorithm(s) {sorted(unknown)}")
    return allowed


def _bearer_token(authorization_header: str | None) -> str:
    if authorization_header is None or not authorization_header.strip():
        raise AuthenticationFailed("missing-token")
    parts = authorization_header.split()
    if parts[0].lower() != "bearer":  # the scheme name is case-insensitive (RFC 7235 §2.1)
        raise AuthenticationFailed("not-bearer")
    if len(parts) == 1:
        raise AuthenticationFailed("missing-token")
    if len(parts) > 2 or len(parts[1]) > MAX_TOKEN_LENGTH:
        raise AuthenticationFailed("malformed")
    return parts[1]


def _unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims, NOT verified: only to choose the client and key."""
    try:
        decoded = jwt.decode_complete(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, TypeError):
        raise AuthenticationFailed("malformed") from None
    header = decoded["header"]
    if not isinstance(header.get("jku", ""), str):
        raise AuthenticationFailed("malformed")
    return header, decoded["payload"]


def _checked_jti(claims: Mapping[str, Any], iss: str) -> str:
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
        raise AuthenticationFailed("bad-jti", iss)
    return jti


def _is_epoch_seconds(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _reason_for(error: jwt.PyJWTError) -> str:
    if isinstance(error, jwt.InvalidSignatureError):
        return "bad-signature"
    if isinstance(error, jwt.MissingRequiredClaimError):
        reason = f"missing-{error.claim}"
        return reason if reason in REASONS else "malformed"
    for error_type, reason in (
        (jwt.InvalidAlgorithmError, "bad-algorithm"),
        (jwt.InvalidAudienceError, "bad-audience"),
        (jwt.InvalidIssuerError, "untrusted-issuer"),
        (jwt.exceptions.InvalidJTIError, "bad-jti"),
        (jwt.InvalidKeyError, "bad-key"),
    ):
        if isinstance(error, error_type):
            return reason
    return "malformed"
