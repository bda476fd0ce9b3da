"""Both sides of every time threshold: clock skew (60 s), maximum lifetime (3600 s), nbf.

The clock is fixed at NOW, so each boundary is exact to the second.
"""
from __future__ import annotations

import pytest

from cds_service.auth import AuthenticationFailed
from cds_service.config import Settings
from tests.helpers.auth import ISS_A, NOW, SERVICE_URL, bearer, claims

SKEW = Settings().jwt_clock_skew
MAX_LIFETIME = Settings().jwt_max_lifetime


def test_defaults_are_the_documented_ones():
    assert (SKEW, MAX_LIFETIME) == (60, 3600)


def token_expiring_at(keys, exp: float, lifetime: float = 300, **extra) -> str:
    return keys.a.sign(claims(ISS_A, now=exp - lifetime, lifetime=lifetime, **extra))


def accepts(authenticator, token: str) -> bool:
    try:
        authenticator.authenticate(bearer(token), SERVICE_URL)
    except AuthenticationFailed:
        return False
    return True


def reason(authenticator, token: str) -> str:
    with pytest.raises(AuthenticationFailed) as raised:
        authenticator.authenticate(bearer(token), SERVICE_URL)
    return raised.value.reason


# exp: refused from exp + skew on.


def test_exp_passed_by_less_than_the_skew_is_accepted(authenticator, keys):
    assert accepts(authenticator, token_expiring_at(keys, NOW - SKEW + 1))


def test_exp_passed_by_just_under_the_skew_is_accepted(authenticator, keys):
    assert accepts(authenticator, token_expiring_at(keys, NOW - SKEW + 0.5))


def test_exp_passed_by_exactly_the_skew_is_refused(authenticator, keys):
    assert reason(authenticator, token_expiring_at(keys, NOW - SKEW)) == "expired"


def test_exp_passed_by_more_than_the_skew_is_refused(authenticator, keys):
    assert reason(authenticator, token_expiring_at(keys, NOW - SKEW - 1)) == "expired"


def test_token_becomes_expired_as_the_clock_moves(authenticator, keys, clock):
    token = keys.a.sign(claims(ISS_A, now=NOW, lifetime=300))
    clock.advance(300 + SKEW)
    assert reason(authenticator, token) == "expired"


# iat: refused when more than skew in the future.


def test_iat_exactly_skew_ahead_is_accepted(authenticator, keys):
    assert accepts(authenticator, keys.a.sign(claims(ISS_A, now=NOW + SKEW)))


def test_iat_one_second_beyond_the_skew_is_refused(authenticator, keys):
    assert reason(authenticator, keys.a.sign(claims(ISS_A, now=NOW + SKEW + 1))) == "issued-in-future"


def test_iat_a_fraction_beyond_the_skew_is_refused(authenticator, keys):
    sent = claims(ISS_A)
    sent.update(iat=NOW + SKEW + 0.1, exp=NOW + SKEW + 300)
    assert reason(authenticator, keys.a.sign(sent)) == "issued-in-future"


# nbf (optional, sent by Epic): refused when more than skew in the future.


def test_nbf_exactly_skew_ahead_is_accepted(authenticator, keys):
    assert accepts(authenticator, keys.a.sign(claims(ISS_A, nbf=NOW + SKEW)))


def test_nbf_beyond_the_skew_is_refused(authenticator, keys):
    assert reason(authenticator, keys.a.sign(claims(ISS_A, nbf=NOW + SKEW + 1))) == "not-yet-valid"


def test_nbf_in_the_past_as_epic_sends_it_is_accepted(authenticator, keys):
    assert accepts(authenticator, keys.a.sign(claims(ISS_A, nbf=NOW - 300)))


# lifetime: exp - iat <= max lifetime.


def test_lifetime_of_exactly_the_maximum_is_accepted(authenticator, keys):
    assert accepts(authenticator, keys.a.sign(claims(ISS_A, lifetime=MAX_LIFETIME)))


def test_lifetime_one_second_over_the_maximum_is_refused(authenticator, keys):
    assert reason(authenticator, keys.a.sign(claims(ISS_A, lifetime=MAX_LIFETIME + 1))) == "lifetime-too-long"


def test_lifetime_a_fraction_over_the_maximum_is_refused(authenticator, keys):
    assert reason(authenticator, keys.a.sign(claims(ISS_A, lifetime=MAX_LIFETIME + 0.1))) == "lifetime-too-long"


def test_old_token_cannot_hide_a_long_lifetime(authenticator, keys):
    # Issued an hour ago with two hours to live: still inside exp, but over the maximum lifetime.
    assert reason(authenticator, keys.a.sign(claims(ISS_A, now=NOW - 3600, lifetime=7200))) == "lifetime-too-long"


# The thresholds come from settings, not from literals in the verifier.


def test_configured_skew_of_zero_is_honoured(make_authenticator, keys):
    authenticator = make_authenticator(jwt_clock_skew=0)
    assert accepts(authenticator, token_expiring_at(keys, NOW + 1))
    assert reason(authenticator, token_expiring_at(keys, NOW)) == "expired"
    assert reason(authenticator, keys.a.sign(claims(ISS_A, now=NOW + 1))) == "issued-in-future"


def test_configured_skew_of_five_minutes_is_honoured(make_authenticator, keys):
    authenticator = make_authenticator(jwt_clock_skew=300)
    assert accepts(authenticator, token_expiring_at(keys, NOW - 299))
    assert reason(authenticator, token_expiring_at(keys, NOW - 300)) == "expired"


def test_configured_maximum_lifetime_is_honoured(make_authenticator, keys):
    authenticator = make_authenticator(jwt_max_lifetime=300)
    assert accepts(authenticator, keys.a.sign(claims(ISS_A, lifetime=300)))
    assert reason(authenticator, keys.a.sign(claims(ISS_A, lifetime=301))) == "lifetime-too-long"


# Time claims that are not times.


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": "1750000300"},
        {"iat": True},
        {"exp": True},
        {"nbf": "yesterday"},
        {"exp": NOW, "iat": NOW},  # exp must come after iat
        {"exp": NOW - 10, "iat": NOW},
    ],
)
def test_time_claims_that_are_not_valid_times_are_refused(authenticator, keys, changes):
    sent = claims(ISS_A)
    sent.update(changes)
    assert reason(authenticator, keys.a.sign_unchecked(sent)) == "bad-time-claim"
