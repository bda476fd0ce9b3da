"""Key sets fetched from a configured `jku`: fetched once, cached, refreshed on rotation at most once a minute.

`responses` stands in for EHR C's key endpoint and fails on any call not registered.
"""
from __future__ import annotations

import json

import pytest
import responses

from cds_service.auth import AuthenticationFailed
from cds_service.auth.jwks_fetcher import CONNECT_TIMEOUT, MAX_JWKS_BYTES, MIN_REFRESH_INTERVAL, READ_TIMEOUT
from cds_service.auth.testkit import jwks_of
from tests.helpers.auth import ISS_C, JKU_C, NOW, SERVICE_URL, TENANT_C, bearer, claims

EVIL = "https://attacker.example.net/jwks.json"


@pytest.fixture
def endpoint():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def token_c(key, now=NOW, **header):
    header.setdefault("jku", JKU_C)
    return key.sign(claims(ISS_C, now=now, tenant=TENANT_C), **header)


def accepted(authenticator, token) -> bool:
    try:
        authenticator.authenticate(bearer(token), SERVICE_URL)
    except AuthenticationFailed:
        return False
    return True


def reason(authenticator, token) -> str:
    with pytest.raises(AuthenticationFailed) as raised:
        authenticator.authenticate(bearer(token), SERVICE_URL)
    return raised.value.reason


def test_configured_jku_is_fetched_with_timeouts_and_then_cached(authenticator, keys, endpoint):
    endpoint.get(JKU_C, json=jwks_of([keys.c]))
    assert accepted(authenticator, token_c(keys.c))
    assert accepted(authenticator, token_c(keys.c))
    assert len(endpoint.calls) == 1
    assert endpoint.calls[0].request.req_kwargs["timeout"] == (CONNECT_TIMEOUT, READ_TIMEOUT)


def test_token_without_jku_header_uses_the_configured_jku(authenticator, keys, endpoint):
    endpoint.get(JKU_C, json=jwks_of([keys.c]))
    assert accepted(authenticator, token_c(keys.c, jku=None))
    assert len(endpoint.calls) == 1


def test_untrusted_jku_of_a_jku_client_is_never_contacted(authenticator, keys, endpoint):
    endpoint.get(EVIL, json=jwks_of([keys.attacker]))
    endpoint.get(JKU_C, json=jwks_of([keys.c]))
    assert reason(authenticator, token_c(keys.attacker, jku=EVIL)) == "untrusted-jku"
    assert len(endpoint.calls) == 0


def test_rotated_key_is_found_by_a_refresh_at_most_once_a_minute(authenticator, keys, endpoint, clock):
    endpoint.get(JKU_C, json=jwks_of([keys.c]))
    assert accepted(authenticator, token_c(keys.c))
    # The EHR rotates: its endpoint now publishes the new key as well.
    endpoint.replace(responses.GET, JKU_C, json=jwks_of([keys.c, keys.c_rotated]))

    clock.advance(MIN_REFRESH_INTERVAL - 1)
    assert reason(authenticator, token_c(keys.c_rotated, clock.now)) == "unknown-kid"
    assert len(endpoint.calls) == 1  # too soon after the last fetch: no refresh

    clock.advance(1)
    assert accepted(authenticator, token_c(keys.c_rotated, clock.now))
    assert len(endpoint.calls) == 2


def test_stream_of_unknown_kids_causes_one_fetch_per_minute(authenticator, keys, endpoint, clock):
    endpoint.get(JKU_C, json=jwks_of([keys.c]))
    assert accepted(authenticator, token_c(keys.c))
    clock.advance(MIN_REFRESH_INTERVAL)
    for number in range(20):
        assert reason(authenticator, token_c(keys.attacker, clock.now, kid=f"made-up-{number}")) == "unknown-kid"
        clock.advance(1)
    assert len(endpoint.calls) == 2  # the first made-up kid refreshed; the next 19 within the minute did not


def test_key_set_is_fetched_again_when_its_ttl_runs_out(make_authenticator, keys, endpoint, clock):
    authenticator = make_authenticator(jwks_cache_ttl=600)
    endpoint.get(JKU_C, json=jwks_of([keys.c]))
    assert accepted(authenticator, token_c(keys.c))
    clock.advance(599)
    assert accepted(authenticator, token_c(keys.c, clock.now))
    assert len(endpoint.calls) == 1
    clock.advance(1)
    assert accepted(authenticator, token_c(keys.c, clock.now))
    assert len(endpoint.calls) == 2


def test_key_removed_by_the_ehr_is_no_longer_trusted_after_the_ttl(make_authenticator, keys, endpoint, clock):
    authenticator = make_authenticator(jwks_cache_ttl=600)
    endpoint.get(JKU_C, json=jwks_of([keys.c, keys.c_rotated]))
    assert accepted(authenticator, token_c(keys.c))
    endpoint.replace(responses.GET, JKU_C, json=jwks_of([keys.c_rotated]))
    clock.advance(600)
    assert reason(authenticator, token_c(keys.c, clock.now)) == "unknown-kid"


def test_unreachable_key_set_with_nothing_cached_is_refused(authenticator, keys, endpoint):
    endpoint.get(JKU_C, status=503)
    assert reason(authenticator, token_c(keys.c)) == "jwks-unavailable"


def test_outage_after_a_fetch_keeps_the_cached_keys(make_authenticator, keys, endpoint, clock):
    authenticator = make_authenticator(jwks_cache_ttl=600)
    endpoint.get(JKU_C, json=jwks_of([keys.c]))
    assert accepted(authenticator, token_c(keys.c))
    endpoint.replace(responses.GET, JKU_C, status=500)
    clock.advance(601)
    assert accepted(authenticator, token_c(keys.c, clock.now))
    assert len(endpoint.calls) == 2


def test_failed_first_fetch_is_retried_only_after_a_minute(authenticator, keys, endpoint, clock):
    endpoint.get(JKU_C, status=500)
    assert reason(authenticator, token_c(keys.c)) == "jwks-unavailable"
    endpoint.replace(responses.GET, JKU_C, json=jwks_of([keys.c]))
    clock.advance(MIN_REFRESH_INTERVAL - 1)
    assert reason(authenticator, token_c(keys.c, clock.now)) == "jwks-unavailable"
    clock.advance(1)
    assert accepted(authenticator, token_c(keys.c, clock.now))
    assert len(endpoint.calls) == 2


def test_redirect_is_not_followed(authenticator, keys, endpoint):
    endpoint.get(JKU_C, status=302, headers={"Location": EVIL})
    endpoint.get(EVIL, json=jwks_of([keys.attacker]))
    assert reason(authenticator, token_c(keys.attacker, kid=keys.c.kid)) == "jwks-unavailable"
    assert [call.request.url for call in endpoint.calls] == [JKU_C]


def test_oversized_key_set_is_refused(authenticator, keys, endpoint):
    padded = {**jwks_of([keys.c]), "padding": "x" * MAX_JWKS_BYTES}
    endpoint.get(JKU_C, body=json.dumps(padded), content_type="application/json")
    assert reason(authenticator, token_c(keys.c)) == "jwks-unavailable"


def test_key_set_of_exactly_the_size_cap_is_read(authenticator, keys, endpoint):
    body = json.dumps(jwks_of([keys.c]))
    body = body[:-1] + ', "padding": "' + "x" * (MAX_JWKS_BYTES - len(body) - 15) + '"}'
    assert len(body.encode()) == MAX_JWKS_BYTES
    endpoint.get(JKU_C, body=body, content_type="application/json")
    assert accepted(authenticator, token_c(keys.c))


def test_key_set_that_is_not_json_is_refused(authenticator, keys, endpoint):
    endpoint.get(JKU_C, body="<html>login</html>", content_type="text/html")
    assert reason(authenticator, token_c(keys.c)) == "jwks-unavailable"


def test_private_and_symmetric_keys_in_a_fetched_set_are_skipped(authenticator, keys, endpoint):
    leaked = {**keys.c_rotated.public_jwk(), "d": "AAAA"}
    secret = {"kty": "oct", "kid": "hmac-1", "k": "c2VjcmV0"}
    endpoint.get(JKU_C, json={"keys": [keys.c.public_jwk(), leaked, secret]})
    assert accepted(authenticator, token_c(keys.c))
    assert reason(authenticator, token_c(keys.c_rotated)) == "unknown-kid"


def test_two_keys_under_one_kid_in_a_fetched_set_are_both_distrusted(authenticator, keys, endpoint):
    impostor = {**keys.attacker.public_jwk(), "kid": keys.c.kid}
    endpoint.get(JKU_C, json={"keys": [keys.c.public_jwk(), impostor, keys.c_rotated.public_jwk()]})
    assert reason(authenticator, token_c(keys.c)) == "unknown-kid"
    assert accepted(authenticator, token_c(keys.c_rotated))
