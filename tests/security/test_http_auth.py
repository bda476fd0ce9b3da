"""Authentication through the HTTP surface: each endpoint accepts a token for its own URL only."""
from __future__ import annotations

import pytest

from cds_service.app import create_app
from cds_service.auth.testkit import cds_claims, new_es384_key
from tests.helpers.security import (
    DISCOVERY_PATH,
    EHR_ISS,
    FEEDBACK_PATH,
    SERVICE_PATH,
    auth_header,
    auth_settings,
    feedback_body,
    patient_view_request,
    token_for,
)

ENDPOINTS = {
    "discovery": ("GET", DISCOVERY_PATH),
    "service": ("POST", SERVICE_PATH),
    "feedback": ("POST", FEEDBACK_PATH),
}
AUTH_FAILED_TEXT = "Authentication failed."


@pytest.fixture(scope="module")
def key():
    return new_es384_key("ehr-http-1")


@pytest.fixture
def client(tmp_path, key):
    from cds_service.services import patient_view

    app = create_app(auth_settings(tmp_path, key), services=[patient_view.SERVICE])
    app.config["PROPAGATE_EXCEPTIONS"] = True
    return app.test_client()


def send(client, endpoint: str, headers: dict | None = None):
    method, path = ENDPOINTS[endpoint]
    if method == "GET":
        return client.get(path, headers=headers or {})
    body = patient_view_request("pat-http-1") if endpoint == "service" else feedback_body()
    return client.post(path, json=body, headers=headers or {})


def assert_refused(response, token: str | None = None):
    assert response.status_code == 401
    text = response.get_data(as_text=True)
    assert AUTH_FAILED_TEXT in text
    if token:
        assert token not in text
        assert all(part not in text for part in token.split(".") if len(part) > 8)
        assert all(token not in value for _, value in response.headers.items())


def test_discovery_accepts_its_own_audience(client, key):
    response = send(client, "discovery", auth_header(key, DISCOVERY_PATH))
    assert response.status_code == 200
    assert [s["id"] for s in response.get_json()["services"]] == ["iliac-vein-patient-view"]


def test_service_call_accepts_its_own_audience(client, key):
    response = send(client, "service", auth_header(key, SERVICE_PATH))
    assert response.status_code == 200
    assert "cards" in response.get_json()


def test_feedback_accepts_its_own_audience(client, key):
    response = send(client, "feedback", auth_header(key, FEEDBACK_PATH))
    assert response.status_code == 200
    assert response.get_json() == {"stored": 1}


@pytest.mark.parametrize(
    "endpoint, other_path",
    [
        ("discovery", SERVICE_PATH),
        ("discovery", FEEDBACK_PATH),
        ("service", DISCOVERY_PATH),
        ("service", FEEDBACK_PATH),
        ("feedback", DISCOVERY_PATH),
        ("feedback", SERVICE_PATH),
    ],
)
def test_endpoint_refuses_a_token_for_another_endpoint(client, key, endpoint, other_path):
    token = token_for(key, other_path)
    assert_refused(send(client, endpoint, {"Authorization": f"Bearer {token}"}), token)


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_endpoint_refuses_a_request_without_token(client, endpoint):
    assert_refused(send(client, endpoint))


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_endpoint_refuses_a_token_signed_by_an_unknown_key(client, endpoint):
    intruder = new_es384_key("ehr-http-1")  # same kid, different key
    token = token_for(intruder, ENDPOINTS[endpoint][1])
    assert_refused(send(client, endpoint, {"Authorization": f"Bearer {token}"}), token)


def test_replayed_token_is_refused_over_http(client, key):
    headers = auth_header(key, DISCOVERY_PATH)
    assert send(client, "discovery", headers).status_code == 200
    assert_refused(send(client, "discovery", headers), headers["Authorization"].split()[1])


def test_token_for_an_internal_host_name_is_refused(client, key):
    # The audience is the configured public URL, never the Host header an attacker controls.
    token = key.sign(cds_claims(EHR_ISS, "http://localhost" + DISCOVERY_PATH))
    response = client.get(DISCOVERY_PATH, headers={"Authorization": f"Bearer {token}", "Host": "localhost"})
    assert_refused(response, token)


def test_unknown_service_needs_a_token_before_it_is_reported_missing(client):
    # Without a token, a caller learns nothing, not even which service ids exist.
    assert_refused(client.post("/cds-services/no-such-service", json={}))


def test_refusal_body_says_only_that_authentication_failed(client, key):
    token = token_for(key, SERVICE_PATH, lifetime=24 * 3600)  # refused: lifetime too long
    response = send(client, "discovery", {"Authorization": f"Bearer {token}"})
    assert_refused(response, token)
    body = response.get_json()
    diagnostics = " ".join(issue.get("diagnostics", "") for issue in body.get("issue", []))
    assert diagnostics == AUTH_FAILED_TEXT
    for reason in ("lifetime", "audience", "expired", "signature", "kid", "issuer"):
        assert reason not in response.get_data(as_text=True).lower()


def test_cors_preflight_needs_no_token(client):
    response = client.options(
        SERVICE_PATH,
        headers={
            "Origin": "https://sandbox.cds-hooks.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code in (200, 204)
    assert response.headers.get("Access-Control-Allow-Origin")
    assert "authorization" in response.headers.get("Access-Control-Allow-Headers", "").lower()


def test_health_probe_needs_no_token(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}

