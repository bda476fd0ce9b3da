"""Dev mode's SMART endpoints for the fixture FHIR server: a launch from the CDS Hooks sandbox works
offline, and none of it exists without --dev."""
from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from cds_service.app import create_app
from cds_service.fixtures import all_fixtures, build_request

BASE = "http://localhost"
FIXTURES = {f.id: f for f in all_fixtures()}
FIXTURE = FIXTURES["may-thurner-stent-candidate"]
SMART_PATHS = [
    ("GET", "/fixtures-fhir/.well-known/smart-configuration"),
    ("POST", "/fixtures-fhir/_services/smart/Launch"),
    ("GET", "/fixtures-fhir/auth/authorize"),
    ("POST", "/fixtures-fhir/auth/token"),
]


@pytest.fixture
def app(settings):
    return create_app(settings.with_(dev_mode=True, fhir_allowlist=(BASE,), fhir_open_servers=(BASE,),
                                     public_base_url=BASE, clock=lambda: FIXTURE.now))


@pytest.fixture
def client(app):
    return app.test_client()


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _launch_id(client, app_context: str = "") -> str:
    body = {"launchUrl": f"{BASE}/app/launch", "parameters": {"patient": FIXTURE.patient_id, "appContext": app_context}}
    return client.post("/fixtures-fhir/_services/smart/Launch", json=body).get_json()["launch_id"]


def _authorize(client, verifier: str, launch: str = "", redirect_uri: str = f"{BASE}/app/callback"):
    query = {"response_type": "code", "client_id": "x", "redirect_uri": redirect_uri, "scope": "launch openid",
             "state": "st-1", "aud": f"{BASE}/fixtures-fhir", "code_challenge": _challenge(verifier),
             "code_challenge_method": "S256"}
    if launch:
        query["launch"] = launch
    return client.get("/fixtures-fhir/auth/authorize", query_string=query)


@pytest.mark.parametrize("method,path", SMART_PATHS)
def test_without_dev_mode_no_smart_endpoint_exists(settings, method, path):
    client = create_app(settings).test_client()
    assert client.open(path, method=method, json={}).status_code == 404
    metadata = client.get("/fixtures-fhir/metadata")
    assert metadata.status_code == 404


def test_discovery_documents_name_the_endpoints(client):
    config = client.get("/fixtures-fhir/.well-known/smart-configuration").get_json()
    assert config["authorization_endpoint"] == f"{BASE}/fixtures-fhir/auth/authorize"
    assert config["token_endpoint"] == f"{BASE}/fixtures-fhir/auth/token"
    assert "S256" in config["code_challenge_methods_supported"] and "permission-v2" in config["capabilities"]
    security = client.get("/fixtures-fhir/metadata").get_json()["rest"][0]["security"]
    uris = {e["url"]: e["valueUri"] for e in security["extension"][0]["extension"]}
    assert uris == {"authorize": config["authorization_endpoint"], "token": config["token_endpoint"]}


def test_the_sandbox_launch_api_answers_with_cors_and_a_launch_id(client):
    preflight = client.options("/fixtures-fhir/_services/smart/Launch",
                               headers={"Origin": "http://sandbox.test", "Access-Control-Request-Method": "POST",
                                        "Access-Control-Request-Headers": "Content-Type"})
    assert preflight.headers.get("Access-Control-Allow-Origin") in ("*", "http://sandbox.test")
    answer = client.post("/fixtures-fhir/_services/smart/Launch", headers={"Origin": "http://sandbox.test"},
                         json={"launchUrl": "x", "parameters": {"patient": FIXTURE.patient_id, "appContext": "A;B"}})
    assert answer.status_code == 200 and answer.headers.get("Access-Control-Allow-Origin")
    assert isinstance(answer.get_json()["launch_id"], str)
    assert client.post("/fixtures-fhir/_services/smart/Launch", json={"parameters": {}}).status_code == 400


def test_authorize_and_token_carry_the_launch_patient_and_app_context_and_check_pkce(client):
    launch = _launch_id(client, "STENT-LENGTH;DeviceRequest/d-1")
    answer = _authorize(client, "v" * 50, launch)
    assert answer.status_code == 302
    back = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert answer.headers["Location"].startswith(f"{BASE}/app/callback?") and back["state"] == ["st-1"]
    form = {"grant_type": "authorization_code", "code": back["code"][0], "redirect_uri": f"{BASE}/app/callback"}

    assert client.post("/fixtures-fhir/auth/token", data={**form, "code_verifier": "w" * 50}).status_code == 400
    token = client.post("/fixtures-fhir/auth/token", data={**form, "code_verifier": "v" * 50}).get_json()
    assert token["patient"] == FIXTURE.patient_id and token["appContext"] == "STENT-LENGTH;DeviceRequest/d-1"
    assert token["token_type"] == "Bearer" and token["access_token"]


def test_a_standalone_authorize_gets_the_default_fixture_patient(client):
    answer = _authorize(client, "v" * 50)
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    token = client.post("/fixtures-fhir/auth/token", data={"grant_type": "authorization_code", "code": code,
                                                           "redirect_uri": f"{BASE}/app/callback",
                                                           "code_verifier": "v" * 50}).get_json()
    assert token["patient"] == "may-thurner-stent-candidate"


def test_authorize_refuses_a_foreign_redirect_and_a_forged_launch(client):
    assert _authorize(client, "v" * 50, redirect_uri="https://evil.test/cb").status_code == 400
    forged = _authorize(client, "v" * 50, launch="eyJwYXRpZW50IjoieCJ9.0000")
    assert "error=invalid_request" in forged.headers["Location"]
    bad_code = client.post("/fixtures-fhir/auth/token", data={"grant_type": "authorization_code", "code": "nope"})
    assert bad_code.status_code == 400 and bad_code.get_json()["error"] == "invalid_grant"


def _open_the_app(client, launch_url: str, patient_id: str, app_context: str) -> str:
    """What the CDS Hooks sandbox does with a card's smart link, end to end inside the service: the
    launch API, /app/launch, the authorization, the callback; the pathway page's HTML."""

    def into_the_app(request):
        path = request.url.split(BASE, 1)[1]
        if request.method == "POST":
            answer = client.post(path, data=request.body, headers={"Content-Type": request.headers["Content-Type"]})
        else:
            answer = client.get(path, headers={"Authorization": request.headers.get("Authorization", "")})
        return answer.status_code, {"Content-Type": answer.content_type}, answer.get_data()

    body = {"launchUrl": launch_url, "parameters": {"patient": patient_id, "appContext": app_context}}
    launch = client.post("/fixtures-fhir/_services/smart/Launch", json=body).get_json()["launch_id"]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in (responses.GET, responses.POST):
            mock.add_callback(method, re.compile(re.escape(BASE) + r"/fixtures-fhir/.*"), callback=into_the_app)
        step = client.get(launch_url, query_string={"iss": f"{BASE}/fixtures-fhir", "launch": launch})
        for _ in range(3):  # launch -> authorize -> callback -> page
            assert step.status_code == 302, step.get_data(as_text=True)
            step = client.get(step.headers["Location"])
    assert step.status_code == 200
    return step.get_data(as_text=True)


def test_the_whole_dev_launch_opens_the_pathway_page(client):
    page = _open_the_app(client, f"{BASE}/app/launch", FIXTURE.patient_id, "NIVL-STENT-CANDIDATE")
    assert 'id="pathway-timeline"' in page and 'data-state="nivl-confirmed"' in page
    assert 'data-rule="NIVL-STENT-CANDIDATE"' in page


def _card_link(client, fixture, rule_id: str) -> dict:
    """The smart link of `rule_id`'s card in the hook's answer for `fixture` (as the sandbox gets it)."""
    entry = next(e for e in client.get("/cds-services").get_json()["services"] if e["hook"] == fixture.hook)
    cards = client.post(f"/cds-services/{entry['id']}", json=build_request(fixture, entry)).get_json()["cards"]
    [card] = [c for c in cards if c["source"]["topic"]["code"] == rule_id]
    [link] = [link for link in card["links"] if link["type"] == "smart"]
    return link


@pytest.mark.parametrize("fixture_id,rule_id,state", [
    ("may-thurner-stent-candidate", "NIVL-STENT-CANDIDATE", "nivl-confirmed"),
    ("order-sign-stent-50mm-devicerequest", "STENT-LENGTH", None),
])
def test_a_cards_smart_link_opens_the_app_in_dev_mode(settings, fixture_id, rule_id, state):
    fixture = FIXTURES[fixture_id]
    client = create_app(settings.with_(dev_mode=True, fhir_allowlist=(BASE,), fhir_open_servers=(BASE,),
                                       public_base_url=BASE, clock=lambda: fixture.now)).test_client()
    link = _card_link(client, fixture, rule_id)
    assert link["type"] == "smart" and link["url"] == f"{BASE}/app/launch"

    page = _open_the_app(client, link["url"], fixture.patient_id, link["appContext"])
    assert 'id="pathway-timeline"' in page and f"opened from {rule_id}" in page
    if state:
        assert f'data-state="{state}"' in page
    if fixture.hook != "patient-view":  # the draft order is named, and the fixture server has no unsigned draft
        assert link["appContext"] == f"{rule_id};DeviceRequest/{fixture.draft_orders[0]['id']}"
        assert "The draft order could not be read from the FHIR server (it may not be saved yet)." in page
