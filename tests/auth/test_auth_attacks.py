"""The attack suite: each test is one way to forge, stretch or replay a CDS Client's JWT.

Every refusal must name its reason, and the reason must not echo the token.
"""
from __future__ import annotations

import json

import pytest
import responses

from cds_service.auth import AuthenticationFailed, Authenticator, TrustedClientsError
from cds_service.auth.testkit import jwks_of
from cds_service.auth.trusted_clients import SANDBOX_ISS, SANDBOX_JKU
from cds_service.config import Settings
from tests.helpers.auth import (
    DISCOVERY_URL,
    ISS_A,
    ISS_B,
    ISS_C,
    JKU_C,
    SERVICE_URL,
    TENANT_C,
    bearer,
    claims,
    hmac_token,
    segment,
    unsigned_token,
)


def refusal(authenticator: Authenticator, authorization: str | None, audience: str = SERVICE_URL) -> str:
    with pytest.raises(AuthenticationFailed) as raised:
        authenticator.authenticate(authorization, audience)
    error = raised.value
    token = (authorization or "").split()[-1] if (authorization or "").split() else ""
    if len(token) > 8:
        assert token not in str(error) and token not in repr(error) and token not in str(error.args)
    return error.reason


@pytest.fixture
def jku_c(keys):
    """EHR C's key endpoint, mocked; fails the test on any unexpected HTTP call."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(JKU_C, json=jwks_of([keys.c]))
        yield mock


# --- tokens that must be accepted ---------------------------------------------------------


def test_valid_es384_token_of_ehr_a_is_accepted(authenticator, keys):
    sent = claims(ISS_A)
    assert authenticator.authenticate(bearer(keys.a.sign(sent)), SERVICE_URL) == sent


def test_valid_rs384_token_of_ehr_b_is_accepted(authenticator, keys):
    sent = claims(ISS_B)
    assert keys.b.algorithm == "RS384"
    assert authenticator.authenticate(bearer(keys.b.sign(sent)), SERVICE_URL) == sent


def test_aud_as_array_containing_the_called_url_is_accepted(authenticator, keys):
    sent = claims(ISS_A, aud=["https://other.example.org/cds-services/x", SERVICE_URL])
    assert authenticator.authenticate(bearer(keys.a.sign(sent)), SERVICE_URL)["aud"] == sent["aud"]


def test_token_without_sub_is_accepted_and_sub_is_not_required(authenticator, keys):
    sent = claims(ISS_A)
    assert "sub" not in sent
    assert authenticator.authenticate(bearer(keys.a.sign(sent)), SERVICE_URL)["jti"] == sent["jti"]


def test_bearer_scheme_is_case_insensitive(authenticator, keys):
    token = keys.a.sign(claims(ISS_A))
    assert authenticator.authenticate(f"bearer {token}", SERVICE_URL)["iss"] == ISS_A


def test_sandbox_shaped_token_is_accepted_when_sandbox_trust_is_on(make_authenticator, keys):
    authenticator = make_authenticator(trust_cds_hooks_sandbox=True, sandbox_jwks=jwks_of([keys.sandbox_stand_in]))
    sent = claims(SANDBOX_ISS, lifetime=300)  # the sandbox: exp = iat + 300, no sub, no tenant
    assert set(sent) == {"iss", "aud", "iat", "exp", "jti"}
    token = keys.sandbox_stand_in.sign(sent, jku=SANDBOX_JKU)
    with responses.RequestsMock() as mock:  # the sandbox's keys ship with the service: nothing is fetched
        assert authenticator.authenticate(bearer(token), SERVICE_URL) == sent
        assert len(mock.calls) == 0


def test_sandbox_token_is_refused_when_sandbox_trust_is_off(authenticator, keys):
    token = keys.sandbox_stand_in.sign(claims(SANDBOX_ISS), jku=SANDBOX_JKU)
    assert refusal(authenticator, bearer(token)) == "untrusted-issuer"


def test_sandbox_token_with_another_jku_is_refused(make_authenticator, keys):
    authenticator = make_authenticator(trust_cds_hooks_sandbox=True, sandbox_jwks=jwks_of([keys.sandbox_stand_in]))
    token = keys.sandbox_stand_in.sign(claims(SANDBOX_ISS), jku="https://attacker.example.net/jwks.json")
    with responses.RequestsMock() as mock:
        assert refusal(authenticator, bearer(token)) == "untrusted-jku"
        assert len(mock.calls) == 0


def test_shipped_sandbox_key_set_is_used_when_no_stand_in_is_given(make_authenticator, keys):
    authenticator = make_authenticator(trust_cds_hooks_sandbox=True)
    # Our stand-in shares the sandbox kid but not its key: the shipped public key must reject it.
    token = keys.sandbox_stand_in.sign(claims(SANDBOX_ISS), jku=SANDBOX_JKU)
    assert refusal(authenticator, bearer(token)) == "bad-signature"


# --- algorithm attacks ----------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_refused(authenticator, keys, alg):
    token = unsigned_token({"alg": alg, "typ": "JWT", "kid": keys.a.kid}, claims(ISS_A))
    assert refusal(authenticator, bearer(token)) == "bad-algorithm"


def test_token_without_alg_is_refused(authenticator, keys):
    token = unsigned_token({"typ": "JWT", "kid": keys.a.kid}, claims(ISS_A), b"x" * 96)
    assert refusal(authenticator, bearer(token)) == "bad-algorithm"


def test_alg_none_with_a_signature_copied_from_a_valid_token_is_refused(authenticator, keys):
    valid = keys.a.sign(claims(ISS_A))
    header = {"alg": "none", "typ": "JWT", "kid": keys.a.kid}
    forged = f"{segment(header)}.{valid.split('.')[1]}.{valid.split('.')[2]}"
    assert refusal(authenticator, bearer(forged)) == "bad-algorithm"


@pytest.mark.parametrize("alg", ["HS256", "HS384"])
def test_hmac_token_signed_with_the_trusted_ec_public_key_is_refused(authenticator, keys, alg):
    token = hmac_token(alg, keys.a.public_pem(), {"kid": keys.a.kid}, claims(ISS_A))
    assert refusal(authenticator, bearer(token)) == "bad-algorithm"


@pytest.mark.parametrize("alg", ["HS256", "HS384"])
def test_hmac_token_signed_with_the_trusted_rsa_public_key_is_refused(authenticator, keys, alg):
    token = hmac_token(alg, keys.b.public_pem(), {"kid": keys.b.kid}, claims(ISS_B))
    assert refusal(authenticator, bearer(token)) == "bad-algorithm"


def test_hmac_token_signed_with_the_public_jwk_json_is_refused(authenticator, keys):
    secret = json.dumps(keys.a.public_jwk()).encode()
    token = hmac_token("HS256", secret, {"kid": keys.a.kid}, claims(ISS_A))
    assert refusal(authenticator, bearer(token)) == "bad-algorithm"


def test_hmac_in_the_configured_algorithms_is_refused_at_start_up(clients_file, engine):
    # Settings.with_ already refuses this; a Settings built directly must not slip through either.
    settings = Settings(trusted_clients_file=str(clients_file), jwt_algorithms=("HS256", "ES384"))
    with pytest.raises(TrustedClientsError):
        Authenticator(settings, engine)


def test_algorithm_outside_the_configured_list_is_refused(make_authenticator, keys):
    authenticator = make_authenticator(jwt_algorithms=("RS384",))
    assert refusal(authenticator, bearer(keys.a.sign(claims(ISS_A)))) == "bad-algorithm"


def test_rsa_signature_presented_for_an_ec_key_is_refused(authenticator, keys):
    # kid names EHR A's EC key, but the token is RS384, signed with EHR B's RSA key.
    token = keys.b.sign(claims(ISS_A), kid=keys.a.kid)
    assert refusal(authenticator, bearer(token)) == "bad-algorithm"


# --- issuer and key attacks -----------------------------------------------------------------


def test_unknown_issuer_is_refused(authenticator, keys):
    token = keys.attacker.sign(claims("https://attacker.example.net"))
    assert refusal(authenticator, bearer(token)) == "untrusted-issuer"


def test_issuer_differing_only_by_a_trailing_slash_is_refused(authenticator, keys):
    assert refusal(authenticator, bearer(keys.a.sign(claims(ISS_A + "/")))) == "untrusted-issuer"


def test_missing_issuer_is_refused(authenticator, keys):
    sent = claims(ISS_A)
    del sent["iss"]
    assert refusal(authenticator, bearer(keys.a.sign(sent))) == "missing-iss"


def test_issuer_that_is_not_a_string_is_refused(authenticator, keys):
    sent = claims(ISS_A)
    sent["iss"] = [ISS_A]
    assert refusal(authenticator, bearer(keys.a.sign_unchecked(sent))) == "untrusted-issuer"


def test_unknown_kid_is_refused(authenticator, keys):
    token = keys.a.sign(claims(ISS_A), kid="not-a-kid-of-ehr-a")
    assert refusal(authenticator, bearer(token)) == "unknown-kid"


def test_missing_kid_is_refused(authenticator, keys):
    token = keys.a.sign(claims(ISS_A), kid=None)
    assert refusal(authenticator, bearer(token)) == "missing-kid"


def test_key_of_another_trusted_client_is_refused(authenticator, keys):
    # A real EHR B token relabelled as EHR A: EHR A's key set has no such kid.
    token = keys.b.sign(claims(ISS_A))
    assert refusal(authenticator, bearer(token)) == "unknown-kid"


def test_attacker_key_under_a_trusted_kid_is_refused(authenticator, keys):
    token = keys.attacker.sign(claims(ISS_A), kid=keys.a.kid)
    assert refusal(authenticator, bearer(token)) == "bad-signature"


def test_key_embedded_in_the_token_header_is_ignored(authenticator, keys):
    token = keys.attacker.sign(claims(ISS_A), kid=keys.a.kid, jwk=keys.attacker.public_jwk())
    assert refusal(authenticator, bearer(token)) == "bad-signature"


def test_tampered_payload_breaks_the_signature(authenticator, keys):
    header, _, signature = keys.a.sign(claims(ISS_A)).split(".")
    tampered = f"{header}.{segment(claims(ISS_A, tenant='other-org'))}.{signature}"
    assert refusal(authenticator, bearer(tampered)) == "bad-signature"


def test_tampered_header_breaks_the_signature(authenticator, keys):
    _, payload, signature = keys.a.sign(claims(ISS_A)).split(".")
    header = segment({"alg": "ES384", "typ": "JWT", "kid": keys.a.kid, "x": 1})
    assert refusal(authenticator, bearer(f"{header}.{payload}.{signature}")) == "bad-signature"


def test_untrusted_jku_is_never_contacted(authenticator, keys):
    evil_jku = "https://attacker.example.net/jwks.json"
    token = keys.attacker.sign(claims(ISS_A), jku=evil_jku)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(evil_jku, json=jwks_of([keys.attacker]))
        assert refusal(authenticator, bearer(token)) == "untrusted-jku"
        assert len(mock.calls) == 0


def test_jku_of_another_client_is_untrusted_for_this_issuer(authenticator, keys, jku_c):
    token = keys.c.sign(claims(ISS_A), jku=JKU_C)
    assert refusal(authenticator, bearer(token)) == "untrusted-jku"
    assert len(jku_c.calls) == 0


# --- audience --------------------------------------------------------------------------------


def test_token_for_another_endpoint_is_refused(authenticator, keys):
    token = keys.a.sign(claims(ISS_A, aud=DISCOVERY_URL))
    assert refusal(authenticator, bearer(token), audience=SERVICE_URL) == "bad-audience"


def test_aud_array_without_the_called_url_is_refused(authenticator, keys):
    token = keys.a.sign(claims(ISS_A, aud=[DISCOVERY_URL, SERVICE_URL + "/feedback"]))
    assert refusal(authenticator, bearer(token)) == "bad-audience"


@pytest.mark.parametrize("near_miss", [SERVICE_URL + "/", SERVICE_URL.replace("https", "http"), SERVICE_URL.upper()])
def test_aud_must_match_exactly(authenticator, keys, near_miss):
    assert refusal(authenticator, bearer(keys.a.sign(claims(ISS_A, aud=near_miss)))) == "bad-audience"


def test_missing_aud_is_refused(authenticator, keys):
    sent = claims(ISS_A)
    del sent["aud"]
    assert refusal(authenticator, bearer(keys.a.sign(sent))) == "missing-aud"


def test_empty_expected_audience_refuses_everything(authenticator, keys):
    token = keys.a.sign(claims(ISS_A, aud=""))
    assert refusal(authenticator, bearer(token), audience="") == "bad-audience"


# --- lifetime, replay, tenant ----------------------------------------------------------------


def test_expired_token_is_refused(authenticator, keys):
    token = keys.a.sign(claims(ISS_A, now=1_749_990_000.0))  # 10 000 s ago, lived 300 s
    assert refusal(authenticator, bearer(token)) == "expired"


def test_token_issued_in_the_future_is_refused(authenticator, keys):
    token = keys.a.sign(claims(ISS_A, now=1_750_000_600.0))  # 10 minutes ahead
    assert refusal(authenticator, bearer(token)) == "issued-in-future"


def test_token_living_too_long_is_refused(authenticator, keys):
    token = keys.a.sign(claims(ISS_A, lifetime=24 * 3600))
    assert refusal(authenticator, bearer(token)) == "lifetime-too-long"


@pytest.mark.parametrize("claim", ["exp", "iat"])
def test_missing_time_claim_is_refused(authenticator, keys, claim):
    sent = claims(ISS_A)
    del sent[claim]
    assert refusal(authenticator, bearer(keys.a.sign(sent))) == f"missing-{claim}"


def test_missing_jti_is_refused(authenticator, keys):
    sent = claims(ISS_A)
    del sent["jti"]
    assert refusal(authenticator, bearer(keys.a.sign(sent))) == "missing-jti"


@pytest.mark.parametrize("jti", [12345, "", "x" * 257, ["a"]])
def test_unusable_jti_is_refused(authenticator, keys, jti):
    assert refusal(authenticator, bearer(keys.a.sign(claims(ISS_A, jti=jti)))) == "bad-jti"


def test_jti_of_the_longest_storable_length_is_accepted(authenticator, keys):
    assert authenticator.authenticate(bearer(keys.a.sign(claims(ISS_A, jti="x" * 256))), SERVICE_URL)


def test_replayed_jti_is_refused(authenticator, keys):
    token = keys.a.sign(claims(ISS_A))
    authenticator.authenticate(bearer(token), SERVICE_URL)
    assert refusal(authenticator, bearer(token)) == "replayed-jti"


def test_replay_in_a_fresh_token_with_the_same_jti_is_refused(authenticator, keys):
    first = claims(ISS_A)
    authenticator.authenticate(bearer(keys.a.sign(first)), SERVICE_URL)
    again = claims(ISS_A, aud=DISCOVERY_URL, jti=first["jti"])
    assert refusal(authenticator, bearer(keys.a.sign(again)), audience=DISCOVERY_URL) == "replayed-jti"


def test_same_jti_from_two_issuers_is_two_tokens(authenticator, keys):
    shared_jti = "same-nonce-by-coincidence"
    authenticator.authenticate(bearer(keys.a.sign(claims(ISS_A, jti=shared_jti))), SERVICE_URL)
    assert authenticator.authenticate(bearer(keys.b.sign(claims(ISS_B, jti=shared_jti))), SERVICE_URL)["iss"] == ISS_B


def test_refused_token_does_not_burn_its_jti(authenticator, keys):
    sent = claims(ISS_A)
    forged = keys.attacker.sign(sent, kid=keys.a.kid)  # an attacker who saw the jti go by
    assert refusal(authenticator, bearer(forged)) == "bad-signature"
    assert authenticator.authenticate(bearer(keys.a.sign(sent)), SERVICE_URL)["jti"] == sent["jti"]


def test_replay_is_refused_by_another_worker_sharing_the_database(make_authenticator, keys):
    worker_1, worker_2 = make_authenticator(), make_authenticator()
    token = keys.a.sign(claims(ISS_A))
    worker_1.authenticate(bearer(token), SERVICE_URL)
    assert refusal(worker_2, bearer(token)) == "replayed-jti"


def test_tenant_of_the_client_is_accepted(authenticator, keys, jku_c):
    sent = claims(ISS_C, tenant=TENANT_C)
    assert authenticator.authenticate(bearer(keys.c.sign(sent, jku=JKU_C)), SERVICE_URL)["tenant"] == TENANT_C


@pytest.mark.parametrize("tenant", ["org-x", "ORG-C", None, 42, [TENANT_C]])
def test_tenant_mismatch_is_refused(authenticator, keys, jku_c, tenant):
    sent = claims(ISS_C) if tenant is None else claims(ISS_C, tenant=tenant)
    assert refusal(authenticator, bearer(keys.c.sign(sent, jku=JKU_C))) == "bad-tenant"


def test_tenant_is_free_for_a_client_that_names_no_tenants(authenticator, keys):
    assert authenticator.authenticate(bearer(keys.a.sign(claims(ISS_A, tenant="any-org"))), SERVICE_URL)


# --- the Authorization header itself -------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", "   ", "Bearer", "Bearer   "])
def test_missing_token_is_refused(authenticator, header):
    assert refusal(authenticator, header) == "missing-token"


@pytest.mark.parametrize("scheme", ["Basic", "Digest", "Token", "JWT", "Bearer:"])
def test_scheme_other_than_bearer_is_refused(authenticator, keys, scheme):
    token = keys.a.sign(claims(ISS_A))
    assert refusal(authenticator, f"{scheme} {token}") == "not-bearer"


def test_token_passed_without_scheme_is_refused(authenticator, keys):
    assert refusal(authenticator, keys.a.sign(claims(ISS_A))) == "not-bearer"


@pytest.mark.parametrize(
    "garbage",
    [
        "garbage",
        "a.b.c",
        "a.b",
        "...",
        "eyJhbGciOiJFUzM4NCJ9.bm90IGpzb24.c2ln",  # payload is not JSON
        "ImEi.e30.",  # header is a JSON string, not an object
        "Bearer x y",
        "\u00e9\u00e9.\u00e9.\u00e9",
    ],
)
def test_garbage_token_is_refused_as_malformed(authenticator, garbage):
    assert refusal(authenticator, f"Bearer {garbage}") == "malformed"


def test_oversized_token_is_refused_before_parsing(authenticator):
    assert refusal(authenticator, "Bearer " + "A" * (16 * 1024 + 1)) == "malformed"


def test_payload_that_is_not_an_object_is_refused(authenticator, keys):
    token = unsigned_token({"alg": "ES384", "kid": keys.a.kid}, [ISS_A], b"x" * 96)
    assert refusal(authenticator, bearer(token)) == "malformed"


def test_header_jku_that_is_not_a_string_is_refused(authenticator, keys):
    token = keys.a.sign(claims(ISS_A), jku=["https://ehr-a.example.org/jwks"])
    assert refusal(authenticator, bearer(token)) == "malformed"


def test_unknown_critical_header_extension_is_refused(authenticator, keys):
    token = keys.a.sign(claims(ISS_A), crit=["exp"], exp=1)
    assert refusal(authenticator, bearer(token)) == "malformed"


def test_failure_reason_is_a_short_slug_without_token_content(authenticator, keys):
    token = keys.attacker.sign(claims(ISS_A), kid=keys.a.kid)
    with pytest.raises(AuthenticationFailed) as raised:
        authenticator.authenticate(bearer(token), SERVICE_URL)
    assert str(raised.value) == "bad-signature"
    assert raised.value.issuer == ISS_A
    assert all(part not in repr(raised.value.__dict__) for part in token.split("."))


def test_issuer_is_not_echoed_when_untrusted(authenticator, keys):
    token = keys.attacker.sign(claims("https://attacker.example.net/<script>"))
    with pytest.raises(AuthenticationFailed) as raised:
        authenticator.authenticate(bearer(token), SERVICE_URL)
    assert raised.value.issuer is None


def test_reasons_are_a_closed_set():
    with pytest.raises(ValueError):
        AuthenticationFailed("a reason made of request data")
