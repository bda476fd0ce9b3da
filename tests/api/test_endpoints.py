"""The HTTP surface with a fake service: every endpoint and error path of the service core."""
import json

import pytest
import responses

from cds_service.app import create_app
from tests.helpers.hooks import ECHO, ECHO_ORDERS, FHIR_BASE, patient_view_body, searchset

PATIENT = {"resourceType": "Patient", "id": "pat-1"}


@pytest.fixture
def app(settings):
    return create_app(settings, services=[ECHO, ECHO_ORDERS])


@pytest.fixture
def client(app):
    return app.test_client()


def post(client, path, body, content_type="application/json"):
    return client.post(path, data=json.dumps(body), content_type=content_type)


def full_prefetch():
    prefetch = {key: searchset() for key in ECHO.prefetch}
    prefetch["patient"] = PATIENT
    return prefetch


def assert_operation_outcome(response, status, text=""):
    assert response.status_code == status
    assert response.is_json
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    assert "Traceback" not in response.get_data(as_text=True)
    if text:
        assert text in body["issue"][0]["diagnostics"]


def test_discovery_lists_services_with_prefetch(client):
    body = client.get("/cds-services").get_json()
    assert [s["id"] for s in body["services"]] == ["echo", "echo-orders"]
    assert body["services"][0]["prefetch"]["patient"] == "Patient/{{context.patientId}}"


def test_hook_call_with_full_prefetch_returns_cards(client):
    response = post(client, "/cds-services/echo", patient_view_body(prefetch=full_prefetch()))
    assert response.status_code == 200
    (card,) = response.get_json()["cards"]
    assert card["source"]["url"] == "https://cds.example.test/rules/TEST-ECHO"
    assert card["source"]["topic"]["code"] == "TEST-ECHO"


def test_cards_issued_are_recorded_with_hashed_patient(app, client):
    post(client, "/cds-services/echo", patient_view_body(prefetch=full_prefetch()))
    app.extensions["cds"]["card_log"].flush()
    (row,) = app.extensions["cds"]["store"].cards_issued()
    assert row.rule_id == "TEST-ECHO" and row.service_id == "echo"
    assert "pat-1" not in row.patient_hash


def test_unknown_service_is_404(client):
    assert_operation_outcome(post(client, "/cds-services/nope", patient_view_body()), 404, "No CDS service")


def test_unknown_path_is_404_json(client):
    assert_operation_outcome(client.get("/nothing-here"), 404)


def test_wrong_method_is_405_json(client):
    assert_operation_outcome(client.get("/cds-services/echo"), 405)


def test_wrong_hook_is_400(client):
    body = patient_view_body()
    body["hook"] = "order-sign"
    assert_operation_outcome(post(client, "/cds-services/echo", body), 400, "patient-view")


@pytest.mark.parametrize("data", [b"{not json", b"\xff\xfe\x00", b"[" * 100000 + b"]" * 100000, b""])
def test_unreadable_bodies_are_400(client, data):
    response = client.post("/cds-services/echo", data=data, content_type="application/json")
    assert_operation_outcome(response, 400)


def test_wrong_content_type_is_415(client):
    response = client.post("/cds-services/echo", data="hook=patient-view", content_type="application/x-www-form-urlencoded")
    assert_operation_outcome(response, 415)


def test_body_over_the_limit_is_413(settings):
    client = create_app(settings.with_(max_body_bytes=1000), services=[ECHO]).test_client()
    body = patient_view_body(padding="x" * 2000)
    assert_operation_outcome(post(client, "/cds-services/echo", body), 413)


def test_patient_view_without_obtainable_data_is_412(client):
    assert_operation_outcome(post(client, "/cds-services/echo", patient_view_body()), 412, "could not be obtained")


@responses.activate
def test_patient_view_fetch_failure_is_412(client):
    responses.add(responses.GET, f"{FHIR_BASE}/Patient/pat-1", status=503)
    for template in ECHO.prefetch.values():
        responses.add(responses.GET, f"{FHIR_BASE}/{template.split('?')[0]}", status=503)
    body = patient_view_body(fhirServer=FHIR_BASE, fhirAuthorization={"access_token": "t", "token_type": "Bearer",
                                                                       "expires_in": 300, "scope": "x", "subject": "y"})
    assert_operation_outcome(post(client, "/cds-services/echo", body), 412)


def test_order_hook_without_data_still_answers_and_knows_what_is_unreadable(client):
    body = {"hook": "order-sign", "hookInstance": "h-2",
            "context": {"userId": "Practitioner/x", "patientId": "pat-1",
                        "draftOrders": {"resourceType": "Bundle", "entry": []}}}
    response = post(client, "/cds-services/echo-orders", body)
    assert response.status_code == 200
    assert "Condition" in response.get_json()["cards"][0]["detail"]


def test_feedback_is_stored_once(app, client):
    item = {"card": "c-1", "outcome": "overridden", "outcomeTimestamp": "2026-11-26T10:05:31Z",
            "overrideReason": {"reason": {"system": "http://x", "code": "will-revise"}}}
    first = post(client, "/cds-services/echo/feedback", {"feedback": [item]})
    second = post(client, "/cds-services/echo/feedback", {"feedback": [item]})
    assert first.status_code == 200 and first.get_json() == {"stored": 1}
    assert second.status_code == 200 and second.get_json() == {"stored": 0}
    assert len(app.extensions["cds"]["store"].feedback()) == 1


def test_invalid_feedback_is_400(client):
    assert_operation_outcome(post(client, "/cds-services/echo/feedback", {"feedback": [{"card": "x"}]}), 400)


def test_feedback_for_unknown_service_is_404(client):
    assert_operation_outcome(post(client, "/cds-services/nope/feedback", {"feedback": []}), 404)


def test_cors_preflight_needs_no_credentials_and_allows_authorization(client):
    response = client.options("/cds-services/echo", headers={
        "Origin": "https://sandbox.cds-hooks.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] in ("*", "https://sandbox.cds-hooks.org")
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_cors_header_on_responses(client):
    response = client.get("/cds-services", headers={"Origin": "https://sandbox.cds-hooks.org"})
    assert response.headers["Access-Control-Allow-Origin"] in ("*", "https://sandbox.cds-hooks.org")


def test_health_and_readiness(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ok", "database": "ok"}


def test_readiness_fails_when_the_database_is_gone(app, client):
    app.extensions["cds"]["store"].engine.dispose()
    app.extensions["cds"]["store"].ping = lambda: (_ for _ in ()).throw(OSError("db down"))
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["database"] == "unreachable"


def test_auth_required_refuses_calls_without_a_token(settings, tmp_path):
    pytest.importorskip("cds_service.auth")
    client = create_app(settings.with_(auth="required", trust_cds_hooks_sandbox=True), services=[ECHO]).test_client()
    assert_operation_outcome(client.get("/cds-services"), 401)
    assert client.get("/healthz").status_code == 200
    assert client.options("/cds-services", headers={"Origin": "https://x", "Access-Control-Request-Method": "GET"}
                          ).status_code == 200


def test_the_data_unavailable_service_card_has_a_page(settings):
    client = create_app(settings).test_client()
    page = client.get("/rules/DATA-UNAVAILABLE")
    assert page.status_code == 200 and "could not be read" in page.get_data(as_text=True)
    assert client.get("/rules/NO-SUCH-RULE").status_code == 404


def test_401_names_the_bearer_scheme_and_look_alike_public_paths_need_a_token(settings):
    client = create_app(settings.with_(auth="required", trust_cds_hooks_sandbox=True), services=[ECHO]).test_client()
    response = client.get("/cds-services")
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metricsX").status_code == 401
    assert client.get("/rules-private").status_code == 401
    assert client.get("/metrics").status_code == 200


def test_auth_required_without_a_public_base_url_refuses_to_start(settings):
    from cds_service.config import SettingsError

    with pytest.raises(SettingsError, match="CDS_PUBLIC_BASE_URL"):
        create_app(settings.with_(auth="required", trust_cds_hooks_sandbox=True, public_base_url=""), services=[ECHO])


def test_a_replay_cache_outage_is_503_not_401(settings, monkeypatch):
    from cds_service.auth import AuthenticationFailed, Authenticator

    def outage(self, header, audience):
        raise AuthenticationFailed("replay-store-unavailable")

    monkeypatch.setattr(Authenticator, "authenticate", outage)
    client = create_app(settings.with_(auth="required", trust_cds_hooks_sandbox=True), services=[ECHO]).test_client()
    assert_operation_outcome(client.get("/cds-services"), 503)
