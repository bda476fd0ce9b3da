"""The two ways authentication goes wrong: a refused request, or a bad configuration."""
from __future__ import annotations

# Every reason a request can be refused. A closed set, so that metrics labels stay
# bounded and a reason can never carry data taken from the request.
REASONS = frozenset(
    {
        "missing-token",  # no Authorization header, or an empty one
        "not-bearer",  # an Authorization scheme other than Bearer
        "malformed",  # not a parseable compact JWS / JWT
        "bad-algorithm",  # alg none, HMAC, not allowlisted, or not usable with the key
        "missing-kid",
        "missing-iss",
        "untrusted-issuer",
        "untrusted-jku",  # header jku not configured for this issuer
        "unknown-kid",  # no key with this kid in the issuer's key set
        "jwks-unavailable",  # the issuer's jku could not be fetched and no keys are cached
        "bad-key",  # the key on record cannot verify (e.g. too short)
        "bad-signature",
        "missing-aud",
        "bad-audience",
        "missing-exp",
        "missing-iat",
        "bad-time-claim",  # exp / iat / nbf not a number
        "expired",
        "issued-in-future",
        "not-yet-valid",  # nbf in the future
        "lifetime-too-long",
        "missing-jti",
        "bad-jti",  # not a string, or too long to store
        "replayed-jti",
        "bad-tenant",
        "replay-store-unavailable",  # the seen-jti table could not be written: fail closed
    }
)


class AuthenticationFailed(Exception):
    """The request is not authenticated. `reason` is a slug from REASONS, never request data.

    `issuer` is set only when it names a trusted client (configuration, not secret),
    so logging it cannot echo attacker-controlled text.
    """

    def __init__(self, reason: str, issuer: str | None = None):
        if reason not in REASONS:
            raise ValueError(f"unknown authentication failure reason {reason!r}")
        super().__init__(reason)
        self.reason = reason
        self.issuer = issuer


class TrustedClientsError(ValueError):
    """The trusted-clients configuration cannot be used; raised at start-up."""
