"""The SMART pathway app against a mock EHR: an authorization server and a FHIR server (responses).

The mock checks what a real EHR would: PKCE S256 (the verifier matches the challenge of the
authorize request), the redirect URI, the client's authentication (HTTP Basic for a confidential
client, client_id alone for a public one) and the bearer token on every FHIR call. The page is
checked by value for fixture patients: axis states, the IVUS value against 61 %, the sizing range.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import parse_qs, urlsplit

import requests
import responses

from cds_service.app import create_app
from cds_service.config import Settings
from cds_service.fixtures import FixtureStore, all_fixtures, build_request

ISS = "https://ehr.example.test/fhir"
AUTHORIZE = "https://auth.example.test/authorize"
TOKEN = "https://auth.example.test/token"
PUBLIC = "https://cds.example.test"
CLIENT_ID = "pathway-app"
FIXTURES = {f.id: f for f in all_fixtures()}
FHIR_URL = re.compile(re.escape(ISS) + r"/.*")


@dataclass
class MockEhr:
    """What the EHR saw: authorize requests, token requests, FHIR calls; and what it will answer."""

    fixture_ids: tuple[str, ...]
    v2: bool = True
    well_known: bool = True
    token_error: str = ""
    extra_fhir: dict = field(default_factory=dict)  # "Type/id" -> resource (e.g. a saved draft order)
    app_context: str = ""
    failing: tuple[str, ...] = ()  # resource types the FHIR server answers 500 for
    codes: dict = field(default_factory=dict)
    token_requests: list = field(default_factory=list)
    fhir_calls: list = field(default_factory=list)
    tokens: set = field(default_factory=set)

    def __post_init__(self):
        self.store = FixtureStore([FIXTURES[i] for i in self.fixture_ids])

    def install(self, mock: responses.RequestsMock) -> None:
        capabilities = ["launch-ehr", "launch-standalone", "permission-v2" if self.v2 else "permission-v1"]
        if self.well_known:
            mock.add(responses.GET, f"{ISS}/.well-known/smart-configuration", json={
                "authorization_endpoint": AUTHORIZE, "token_endpoint": TOKEN, "capabilities": capabilities,
                "code_challenge_methods_supported": ["S256"]})
        else:
            mock.add(responses.GET, f"{ISS}/.well-known/smart-configuration", status=404)
            mock.add(responses.GET, f"{ISS}/metadata", json={"resourceType": "CapabilityStatement", "rest": [{
                "mode": "server", "security": {"extension": [{
                    "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                    "extension": [{"url": "authorize", "valueUri": AUTHORIZE}, {"url": "token", "valueUri": TOKEN}]}]}}]})
        mock.add_callback(responses.POST, TOKEN, callback=self._token)
        mock.add_callback(responses.GET, FHIR_URL, callback=self._fhir)

    def authorize(self, url: str, patient: str) -> str:
        """The EHR's user approves at once: the code is bound to the request's PKCE challenge."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        code = secrets.token_urlsafe(16)
        self.codes[code] = {**query, "patient": patient}
        return code

    def _token(self, request):
        form = {k: v[0] for k, v in parse_qs(request.body).items()}
        self.token_requests.append({"form": form, "authorization": request.headers.get("Authorization", "")})
        grant = self.codes.pop(form.get("code", ""), None)
        if self.token_error or grant is None:
            return 400, {}, json.dumps({"error": self.token_error or "invalid_grant"})
        challenge = base64.urlsafe_b64encode(hashlib.sha256(form["code_verifier"].encode()).digest()).rstrip(b"=").decode()
        if challenge != grant["code_challenge"] or form.get("redirect_uri") != grant["redirect_uri"]:
            return 400, {}, json.dumps({"error": "invalid_grant"})
        token = "tok-" + secrets.token_urlsafe(16)
        self.tokens.add(token)
        body = {"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": grant["scope"],
                "patient": grant["patient"], "id_token": "x.y.z"}
        if self.app_context:
            body["appContext"] = self.app_context
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    def _fhir(self, request):
        authorization = request.headers.get("Authorization", "")
        self.fhir_calls.append((request.url, authorization))
        relative = request.url[len(ISS) + 1:]
        if relative.startswith((".well-known", "metadata")):
            return 404, {}, "{}"
        if authorization.removeprefix("Bearer ") not in self.tokens:
            return 401, {}, json.dumps({"resourceType": "OperationOutcome"})
        if relative.split("?")[0].split("/")[0] in self.failing:
            return 500, {}, "{}"
        if relative in self.extra_fhir:
            return 200, {"Content-Type": "application/fhir+json"}, json.dumps(self.extra_fhir[relative])
        status, body = self.store.respond(relative, ISS)
        return status, {"Content-Type": "application/fhir+json"}, json.dumps(body)


def make_app(tmp_path, fixture_id: str = "may-thurner-stent-candidate", **changes):
    values = {"auth": "off", "database_url": f"sqlite:///{tmp_path}/cds.db", "fhir_allowlist": (ISS,),
              "public_base_url": PUBLIC, "smart_client_id": CLIENT_ID, "log_level": "WARNING",
              "clock": lambda: FIXTURES[fixture_id].now}
    values.update(changes)
    return create_app(Settings(**values))


def launch(client, ehr: MockEhr, patient: str, launch_id: str | None = "launch-123"):
    """/app/launch, the EHR's approval, /app/callback: the response of the callback."""
    query = f"iss={ISS}" + (f"&launch={launch_id}" if launch_id else "")
    started = client.get(f"/app/launch?{query}")
    assert started.status_code == 302, started.get_data(as_text=True)
    authorize_url = started.headers["Location"]
    code = ehr.authorize(authorize_url, patient)
    state = parse_qs(urlsplit(authorize_url).query)["state"][0]
    return client.get(f"/app/callback?code={code}&state={state}"), authorize_url


def open_page(tmp_path, fixture_id: str, app_context: str = "", extra_fhir: dict | None = None, **changes):
    ehr = MockEhr((fixture_id,), app_context=app_context, extra_fhir=extra_fhir or {})
    client = make_app(tmp_path, fixture_id, **changes).test_client()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        ehr.install(mock)
        callback, _ = launch(client, ehr, FIXTURES[fixture_id].patient_id)
        assert callback.status_code == 302 and callback.headers["Location"] == f"{PUBLIC}/app/"
        page = client.get("/app/")
    assert page.status_code == 200
    return page.get_data(as_text=True), ehr


def text_of(html: str) -> str:
    html = re.sub(r"<(style|svg)\b.*?</\1>", " ", html, flags=re.DOTALL)
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))).strip()


def said(response) -> str:
    """The text a reader sees on a page."""
    return text_of(response.get_data(as_text=True))


def axis_states(html: str) -> dict[str, str]:
    return dict(re.findall(r'<div class="axis" id="axis-(\w+)" data-state="([\w-]+)"', html))


def card_rules(html: str) -> list[str]:
    return re.findall(r'<tr class="card" data-rule="([\w-]+)"', html)


# ------------------------------------------------------------------ the code flow

@responses.activate
def test_ehr_launch_asks_for_a_code_with_pkce_s256_state_scopes_aud_and_launch(tmp_path):
    ehr = MockEhr(("may-thurner-stent-candidate",))
    ehr.install(responses.mock)
    client = make_app(tmp_path).test_client()

    callback, authorize_url = launch(client, ehr, "may-thurner-stent-candidate")

    assert authorize_url.startswith(AUTHORIZE + "?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == f"{PUBLIC}/app/callback"
    assert query["scope"] == "launch openid fhirUser patient/*.rs"
    assert query["aud"] == ISS and query["launch"] == "launch-123"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32
    assert callback.status_code == 302
    # the mock token endpoint accepted the verifier: it matched the challenge
    assert len(ehr.token_requests) == 1 and ehr.tokens
    form = ehr.token_requests[0]["form"]
    assert form["grant_type"] == "authorization_code" and form["redirect_uri"] == f"{PUBLIC}/app/callback"
    assert 43 <= len(form["code_verifier"]) <= 128


@responses.activate
def test_a_confidential_client_authenticates_with_http_basic(tmp_path):
    ehr = MockEhr(("may-thurner-stent-candidate",))
    ehr.install(responses.mock)
    client = make_app(tmp_path, smart_client_secret="s3cret-value").test_client()

    callback, _ = launch(client, ehr, "may-thurner-stent-candidate")

    assert callback.status_code == 302
    request = ehr.token_requests[0]
    expected = base64.b64encode(f"{CLIENT_ID}:s3cret-value".encode()).decode()
    assert request["authorization"] == f"Basic {expected}"
    assert "client_secret" not in request["form"]


@responses.activate
def test_a_public_client_sends_its_client_id_and_no_secret(tmp_path):
    ehr = MockEhr(("may-thurner-stent-candidate",))
    ehr.install(responses.mock)
    client = make_app(tmp_path).test_client()

    launch(client, ehr, "may-thurner-stent-candidate")

    request = ehr.token_requests[0]
    assert request["authorization"] == ""
    assert request["form"]["client_id"] == CLIENT_ID and "client_secret" not in request["form"]


def test_every_fhir_call_carries_the_bearer_token_of_the_launch(tmp_path):
    _, ehr = open_page(tmp_path, "may-thurner-stent-candidate")

    reads = [(url, auth) for url, auth in ehr.fhir_calls if "/.well-known/" not in url and not url.endswith("/metadata")]
    assert len(reads) >= 8  # the patient and the patient-view prefetch queries
    (token,) = ehr.tokens
    assert all(auth == f"Bearer {token}" for _, auth in reads), reads
    assert any(url.endswith("/Patient/may-thurner-stent-candidate") for url, _ in reads)


@responses.activate
def test_a_smart_v1_server_found_through_its_capability_statement_gets_read_scopes(tmp_path):
    ehr = MockEhr(("may-thurner-stent-candidate",), v2=False, well_known=False)
    ehr.install(responses.mock)
    client = make_app(tmp_path).test_client()

    callback, authorize_url = launch(client, ehr, "may-thurner-stent-candidate")

    assert parse_qs(urlsplit(authorize_url).query)["scope"][0] == "launch openid fhirUser patient/*.read"
    assert callback.status_code == 302
    assert client.get("/app/").status_code == 200


@responses.activate
def test_a_standalone_launch_asks_the_ehr_to_pick_the_patient(tmp_path):
    ehr = MockEhr(("may-thurner-stent-candidate",))
    ehr.install(responses.mock)
    client = make_app(tmp_path).test_client()

    callback, authorize_url = launch(client, ehr, "may-thurner-stent-candidate", launch_id=None)

    query = parse_qs(urlsplit(authorize_url).query)
    assert query["scope"][0] == "launch/patient openid fhirUser patient/*.rs" and "launch" not in query
    assert callback.status_code == 302


@responses.activate
def test_the_session_cookie_is_secure_httponly_samesite_and_holds_no_token(tmp_path):
    ehr = MockEhr(("may-thurner-stent-candidate",))
    ehr.install(responses.mock)
    client = make_app(tmp_path).test_client()

    callback, _ = launch(client, ehr, "may-thurner-stent-candidate")

    cookie = callback.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/app" in cookie
    (token,) = ehr.tokens
    assert token not in cookie
    stored = (tmp_path / "cds.db").read_bytes()
    assert token.encode() not in stored and b"may-thurner-stent-candidate" not in stored


# ------------------------------------------------------------------ negative cases: clear pages, never 500

@responses.activate
def test_a_wrong_state_is_refused_and_no_token_is_asked_for(tmp_path):
    ehr = MockEhr(("may-thurner-stent-candidate",))
    ehr.install(responses.mock)
    client = make_app(tmp_path).test_client()
    started = client.get(f"/app/launch?iss={ISS}&launch=l-1")
    code = ehr.authorize(started.headers["Location"], "may-thurner-stent-candidate")

    answer = client.get(f"/app/callback?code={code}&state=forged-state")

    assert answer.status_code == 400
    assert "does not match this launch" in said(answer)
    assert ehr.token_requests == []
    # the pending launch is gone: replaying with the right state no longer works either
    state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]
    assert client.get(f"/app/callback?code={code}&state={state}").status_code == 400


@responses.activate
def test_a_token_endpoint_error_gives_a_clear_page(tmp_path):
    ehr = MockEhr(("may-thurner-stent-candidate",), token_error="invalid_client")
    ehr.install(responses.mock)
    client = make_app(tmp_path).test_client()

    answer, _ = launch(client, ehr, "may-thurner-stent-candidate")

    assert answer.status_code == 502
    assert "The EHR did not issue an access token" in said(answer)
    assert "text/html" in answer.content_type
    assert client.get("/app/").status_code == 200 and "No patient is open" in said(client.get("/app/"))


@responses.activate
def test_an_unreachable_token_endpoint_gives_a_clear_page(tmp_path):
    ehr = MockEhr(("may-thurner-stent-candidate",))
    ehr.install(responses.mock)
    responses.replace(responses.POST, TOKEN, body=requests.ConnectionError("refused"))
    client = make_app(tmp_path).test_client()

    answer, _ = launch(client, ehr, "may-thurner-stent-candidate")

    assert answer.status_code == 502 and "did not issue an access token" in said(answer)


@responses.activate
def test_an_iss_off_the_allowlist_gets_400_and_nothing_is_contacted(tmp_path):
    client = make_app(tmp_path).test_client()

    for iss in ("https://evil.example.test/fhir", "https://ehr.example.test.evil.test/fhir", "file:///etc/passwd"):
        answer = client.get(f"/app/launch?iss={iss}&launch=x")
        assert answer.status_code == 400, iss
        assert "not on this service's allowlist" in said(answer)
    assert len(responses.calls) == 0
    assert "Set-Cookie" not in answer.headers


def test_a_launch_without_iss_is_400(tmp_path):
    answer = make_app(tmp_path).test_client().get("/app/launch")
    assert answer.status_code == 400 and "names no FHIR server" in said(answer)


def test_without_a_session_the_app_shows_how_to_launch_and_no_patient_data(tmp_path):
    client = make_app(tmp_path).test_client()

    page = client.get("/app/")
    callback = client.get("/app/callback?code=abc&state=def")

    assert page.status_code == 200
    text = text_of(page.get_data(as_text=True))
    assert "Open this app from a patient's chart" in text and "/app/launch?iss=" in text
    assert "pathway-timeline" not in said(page)
    assert callback.status_code == 400 and "not part of a launch" in said(callback)


def test_a_forged_session_cookie_reads_as_no_session(tmp_path):
    client = make_app(tmp_path).test_client()
    client.set_cookie("cds_app_session", "made-up-value", path="/app")
    page = client.get("/app/")
    assert page.status_code == 200 and "No patient is open" in said(page)


@responses.activate
def test_an_expired_session_shows_how_to_launch_again(tmp_path):
    ehr = MockEhr(("may-thurner-stent-candidate",))
    ehr.install(responses.mock)
    app = make_app(tmp_path)
    client = app.test_client()
    launch(client, ehr, "may-thurner-stent-candidate")
    store = app.extensions["smart_app"]
    store.clock = lambda: 10 ** 12  # far beyond the token's hour

    page = client.get("/app/")

    assert page.status_code == 200
    assert "Your earlier session has ended" in said(page)
    assert "Pat Fixture" not in said(page)


@responses.activate
def test_an_authorization_denial_gives_a_403_page(tmp_path):
    ehr = MockEhr(("may-thurner-stent-candidate",))
    ehr.install(responses.mock)
    client = make_app(tmp_path).test_client()
    started = client.get(f"/app/launch?iss={ISS}&launch=l-1")
    state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]

    answer = client.get(f"/app/callback?error=access_denied&state={state}")

    assert answer.status_code == 403 and "did not authorize" in said(answer)


@responses.activate
def test_a_server_without_smart_endpoints_gives_a_502_page(tmp_path):
    responses.add(responses.GET, f"{ISS}/.well-known/smart-configuration", status=404)
    responses.add(responses.GET, f"{ISS}/metadata", json={"resourceType": "CapabilityStatement", "rest": []})
    answer = make_app(tmp_path).test_client().get(f"/app/launch?iss={ISS}&launch=l")
    assert answer.status_code == 502 and "SMART configuration could not be read" in said(answer)


def test_without_a_client_id_the_app_says_it_is_not_registered(tmp_path):
    answer = make_app(tmp_path, smart_client_id="").test_client().get(f"/app/launch?iss={ISS}&launch=l")
    assert answer.status_code == 503 and "CDS_SMART_CLIENT_ID" in said(answer)


@responses.activate
def test_a_token_refused_by_the_fhir_server_gives_a_clear_page(tmp_path):
    ehr = MockEhr(("may-thurner-stent-candidate",))
    ehr.install(responses.mock)
    client = make_app(tmp_path).test_client()
    launch(client, ehr, "may-thurner-stent-candidate")
    ehr.tokens.clear()  # the EHR revoked the token

    page = client.get("/app/")

    assert page.status_code == 502 and "could not be read from the EHR" in said(page)


def test_app_pages_need_no_hook_jwt_when_hook_authentication_is_required(tmp_path):
    client = make_app(tmp_path, auth="required", trust_cds_hooks_sandbox=True).test_client()
    assert client.get("/app/").status_code == 200
    assert client.get("/app/launch?iss=https://evil.example.test").status_code == 400
    assert client.get("/cds-services").status_code == 401  # the hooks still are


@responses.activate
def test_no_token_code_or_state_reaches_the_log_or_the_page(tmp_path, caplog):
    ehr = MockEhr(("may-thurner-stent-candidate",))
    ehr.install(responses.mock)
    client = make_app(tmp_path, log_level="INFO").test_client()
    caplog.set_level(logging.DEBUG)

    _, authorize_url = launch(client, ehr, "may-thurner-stent-candidate")
    page = client.get("/app/").get_data(as_text=True)

    (token,) = ehr.tokens
    state = parse_qs(urlsplit(authorize_url).query)["state"][0]
    logged = "\n".join(record.getMessage() + json.dumps(record.__dict__, default=str) for record in caplog.records)
    for secret in (token, state, ehr.token_requests[0]["form"]["code"], ehr.token_requests[0]["form"]["code_verifier"]):
        assert secret not in logged and secret not in page


# ------------------------------------------------------------------ the page, by value

def test_stent_candidate_page_by_value(tmp_path):
    html, _ = open_page(tmp_path, "may-thurner-stent-candidate")
    text = text_of(html)

    assert axis_states(html) == {"dvt": "excluded", "lesion": "nivl-confirmed", "stent": "none"}
    assert "IVUS stenosis 75 % > threshold 61 % (2026-11-16)" in text
    assert re.search(r'id="ivus" data-value="75.0" data-threshold="61"', html)
    assert re.search(r'data-reference="14"\s+data-min="15"\s+data-max="18"\s+data-min-length="60"', html)
    assert "15 to 18 mm" in text and "at least 60 mm" in text and "15, 16, 17, 18 mm" in text
    assert card_rules(html) == ["NIVL-STENT-CANDIDATE"]
    assert f'href="{PUBLIC}/rules/NIVL-STENT-CANDIDATE"' in html


def test_ivus_exactly_61_percent_is_below_the_threshold_on_the_page(tmp_path):
    html, _ = open_page(tmp_path, "ivus-stenosis-exactly-61-percent")
    text = text_of(html)

    assert axis_states(html) == {"dvt": "excluded", "lesion": "below-threshold", "stent": "none"}
    assert "IVUS stenosis 61 % ≤ threshold 61 %: below the threshold" in text
    assert card_rules(html) == ["NIVL-BELOW-THRESHOLD"]
    assert re.search(r'data-min="15"\s+data-max="18"\s+data-min-length="60"', html)


def test_ivus_61_1_percent_is_above_the_threshold_on_the_page(tmp_path):
    html, _ = open_page(tmp_path, "ivus-stenosis-61-1-percent")

    assert axis_states(html)["lesion"] == "nivl-confirmed"
    assert "IVUS stenosis 61.1 % > threshold 61 %" in text_of(html)
    assert card_rules(html) == ["NIVL-STENT-CANDIDATE"]


def test_malignant_mass_with_dvt_page_by_value(tmp_path):
    html, _ = open_page(tmp_path, "malignant-iliac-mass-with-acute-dvt")
    text = text_of(html)

    assert axis_states(html) == {"dvt": "confirmed", "lesion": "extrinsic", "stent": "none"}
    assert sorted(card_rules(html)) == ["DVT-ANTICOAGULATE", "MASS-EXTRINSIC"]
    assert "No IVUS reference diameter on record" in text and 'id="sizing-table"' not in html
    assert 'id="ivus"' not in html


def test_post_stent_page_shows_the_stent_its_schedule_and_the_overdue_card(tmp_path):
    fixture = FIXTURES["stent-250-days-six-month-study-missed"]
    html, _ = open_page(tmp_path, fixture.id)
    text = text_of(html)

    assert axis_states(html)["stent"] == "post-stent"
    assert card_rules(html) == ["POST-STENT-FOLLOWUP"]
    dues = sorted(set(re.findall(r"Study due by day (\d+)", text)), key=int)
    assert dues[:3] == ["30", "182", "365"]
    assert "Next surveillance study due by" in text


def test_the_cards_on_the_page_are_the_cards_of_the_patient_view_hook(tmp_path):
    for fixture_id in ("malignant-iliac-mass-with-acute-dvt", "may-thurner-stent-candidate"):
        fixture = FIXTURES[fixture_id]
        (tmp_path / fixture_id).mkdir()
        html, _ = open_page(tmp_path / fixture_id, fixture_id)
        hook_client = make_app(tmp_path / fixture_id, fixture_id).test_client()
        entry = next(s for s in hook_client.get("/cds-services").get_json()["services"] if s["hook"] == "patient-view")
        hook = hook_client.post(f"/cds-services/{entry['id']}", json=build_request(fixture, entry))
        hook_cards = [(c["source"]["topic"]["code"], c["summary"]) for c in hook.get_json()["cards"]]
        assert [rule for rule, _ in hook_cards] == card_rules(html)
        assert all(unescape(summary) in text_of(html) for _, summary in hook_cards)


def test_a_draft_stent_order_from_the_app_context_is_checked_against_the_range(tmp_path):
    order_fixture = FIXTURES["order-sign-stent-diameter-17mm-above-range"]
    draft = next(r for r in order_fixture.draft_orders if r["resourceType"] == "DeviceRequest")
    html, _ = open_page(tmp_path, order_fixture.id, app_context=f"STENT-DIAMETER;DeviceRequest/{draft['id']}",
                        extra_fhir={f"DeviceRequest/{draft['id']}": draft})
    checks = dict(re.findall(r'<tr class="order-check" data-meets="(\w+)">\s*<th>(\w+) ordered', html)[::1])

    assert re.search(r'data-reference="12"\s+data-min="13"\s+data-max="16"\s+data-min-length="60"', html), \
        re.findall(r'data-reference="[^"]*"\s+data-min="[^"]*"', html)
    assert checks == {"no": "Diameter", "yes": "Length"}
    assert "opened from STENT-DIAMETER" in text_of(html)


def test_a_draft_order_the_fhir_server_does_not_have_is_said_so(tmp_path):
    html, _ = open_page(tmp_path, "may-thurner-stent-candidate", app_context="STENT-LENGTH;DeviceRequest/not-saved")
    assert "could not be read from the FHIR server" in text_of(html)
    assert 'class="order-check"' not in html


def test_session_storage_failure_is_a_503_page(tmp_path, monkeypatch):
    from sqlalchemy.exc import OperationalError

    app = make_app(tmp_path)
    client = app.test_client()
    client.set_cookie("cds_app_session", "some-session", path="/app")

    def broken(secret):
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(app.extensions["smart_app"], "load", broken)
    answer = client.get("/app/")
    assert answer.status_code == 503 and "cannot reach its session storage" in said(answer)


def test_a_wrong_method_is_a_405_not_a_500(tmp_path):
    answer = make_app(tmp_path).test_client().post("/app/launch")
    assert answer.status_code == 405


@responses.activate
def test_unreadable_observations_are_unknown_not_absent_on_the_page(tmp_path):
    ehr = MockEhr(("may-thurner-stent-candidate",), failing=("Observation",))
    ehr.install(responses.mock)
    client = make_app(tmp_path).test_client()
    launch(client, ehr, "may-thurner-stent-candidate")

    page = client.get("/app/")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "The cards could not be computed: Observation could not be read" in said(page)
    assert 'class="card"' not in html  # no "nothing open" claim on a record read in part
    assert axis_states(html)["lesion"] == "unknown"  # the IVUS observation was not read
    assert "IVUS results could not be read." in said(page)
