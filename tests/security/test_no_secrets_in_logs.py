"""No JWT, access token or patient identifier ever reaches the logs, whatever the request.

All log output is captured twice: every record at DEBUG (caplog, including the
arguments and extra fields of each record) and the text the app's own root
handler writes. A FHIR server is mocked with `responses`.
"""
from __future__ import annotations

import io
import logging
import re
import uuid

import pytest
import responses

from cds_service.app import create_app
from cds_service.auth.testkit import cds_claims, new_es384_key
from tests.helpers.security import (
    DISCOVERY_PATH,
    EHR_ISS,
    FEEDBACK_PATH,
    FHIR_BASE,
    PUBLIC_BASE,
    SERVICE_PATH,
    auth_settings,
    empty_searchset,
    feedback_body,
    patient_view_request,
    token_for,
)

PATIENT_ID = f"pat-{uuid.uuid4().hex[:12]}"
FAILING_PATIENT_ID = f"pat-{uuid.uuid4().hex[:12]}"  # the FHIR server errors on this one
OTHER_PATIENT_ID = f"pat-{uuid.uuid4().hex[:12]}"
FAILING_PATIENT_ID = f"pat-{uuid.uuid4().hex[:12]}"  # the FHIR server errors on this one
MRN = f"MRN{uuid.uuid4().int % 10**9:09d}"
FAMILY_NAME = "Zyxwvutsrq"
ACCESS_TOKEN = f"fhir-at-{uuid.uuid4().hex}"
OTHER_ACCESS_TOKEN = f"fhir-at-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def key():
    return new_es384_key("ehr-logs-1")


@pytest.fixture
def root_output():
    """What the app's own log handler(s) on the root logger write, redirected into a buffer."""
    buffer = io.StringIO()
    handlers = [h for h in logging.getLogger().handlers if getattr(h, "_cds_json", False)]
    assert handlers, "the app's JSON log handler is not installed"
    previous = [h.setStream(buffer) for h in handlers]
    yield buffer
    for handler, stream in zip(handlers, previous):
        handler.setStream(stream)


@pytest.fixture
def client(tmp_path, key):
    from cds_service.services import patient_view

    app = create_app(auth_settings(tmp_path, key), services=[patient_view.SERVICE])
    return app.test_client()


def patient_resource(patient_id: str) -> dict:
    return {
        "resourceType": "Patient",
        "id": patient_id,
        "identifier": [{"system": "urn:oid:2.16.840.1.113883.19.5", "value": MRN}],
        "name": [{"family": FAMILY_NAME, "given": ["Quinta"]}],
        "birthDate": "1961-02-03",
    }


def mock_fhir_server(mock: responses.RequestsMock) -> None:
    failing = re.escape(FAILING_PATIENT_ID)
    mock.get(re.compile(re.escape(f"{FHIR_BASE}/Patient/") + failing), status=404, body="no " + FAILING_PATIENT_ID)
    mock.get(re.compile(re.escape(f"{FHIR_BASE}/Condition?") + ".*" + failing), status=500, body="boom " + MRN)
    mock.get(re.compile(re.escape(f"{FHIR_BASE}/Observation?") + ".*" + failing), status=401, json={"error": ACCESS_TOKEN})
    mock.get(re.compile(re.escape(f"{FHIR_BASE}/Patient/") + ".*"), json=patient_resource(PATIENT_ID))
    mock.get(re.compile(re.escape(FHIR_BASE) + r"/\w+\?.*"), json=empty_searchset())


def fetching_request(patient_id: str) -> dict:
    """A call without prefetch: the service must query the FHIR server with the access token."""
    return patient_view_request(
        patient_id,
        with_prefetch=False,
        fhirServer=FHIR_BASE,
        fhirAuthorization={
            "access_token": ACCESS_TOKEN,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "iliac-vein-cds",
            "patient": patient_id,
        },
    )


def every_logged_text(caplog, root_output) -> str:
    parts = [caplog.text, root_output.getvalue()]
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        parts.extend(repr(value) for name, value in vars(record).items() if name not in ("msg", "args"))
    return "\n".join(parts)


def secrets_in(text: str, secrets: set[str]) -> list[str]:
    return sorted(secret for secret in secrets if secret in text)


def jwt_fragments(token: str) -> set[str]:
    return {token} | {part for part in token.split(".") if len(part) >= 12}


def test_no_token_or_patient_identifier_is_logged(client, key, caplog, root_output):
    caplog.set_level(logging.DEBUG)
    secrets = {PATIENT_ID, FAILING_PATIENT_ID, OTHER_PATIENT_ID, MRN, FAMILY_NAME, ACCESS_TOKEN, OTHER_ACCESS_TOKEN}
    sent_tokens: list[str] = []

    def bearer(token: str) -> dict:
        sent_tokens.append(token)
        return {"Authorization": f"Bearer {token}"}

    intruder = new_es384_key(key.kid)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as fhir:
        mock_fhir_server(fhir)
        statuses = []
        # valid calls: discovery, a service call with prefetch, one that must query the FHIR server, feedback
        statuses.append(client.get(DISCOVERY_PATH, headers=bearer(token_for(key, DISCOVERY_PATH))).status_code)
        statuses.append(
            client.post(SERVICE_PATH, json=patient_view_request(PATIENT_ID), headers=bearer(token_for(key, SERVICE_PATH))).status_code
        )
        fetching = fetching_request(PATIENT_ID)
        statuses.append(client.post(SERVICE_PATH, json=fetching, headers=bearer(token_for(key, SERVICE_PATH))).status_code)
        failing = fetching_request(FAILING_PATIENT_ID)
        statuses.append(client.post(SERVICE_PATH, json=failing, headers=bearer(token_for(key, SERVICE_PATH))).status_code)
        statuses.append(
            client.post(FEEDBACK_PATH, json=feedback_body(), headers=bearer(token_for(key, FEEDBACK_PATH))).status_code
        )
        # a prefetch of another patient, with a FHIR server not on the allowlist
        mixed = patient_view_request(OTHER_PATIENT_ID, fhirServer="https://evil.example.net/fhir",
                                     fhirAuthorization={"access_token": OTHER_ACCESS_TOKEN, "token_type": "Bearer",
                                                        "expires_in": 300, "scope": "patient/*.read",
                                                        "subject": "x", "patient": OTHER_PATIENT_ID})
        mixed["prefetch"]["patient"] = patient_resource(PATIENT_ID)
        statuses.append(client.post(SERVICE_PATH, json=mixed, headers=bearer(token_for(key, SERVICE_PATH))).status_code)
        # invalid tokens of every kind
        replayed = token_for(key, DISCOVERY_PATH)
        client.get(DISCOVERY_PATH, headers=bearer(replayed))
        refused = [
            client.get(DISCOVERY_PATH, headers=bearer(replayed)),
            client.post(SERVICE_PATH, json=patient_view_request(PATIENT_ID), headers=bearer(token_for(intruder, SERVICE_PATH))),
            client.post(SERVICE_PATH, json=fetching, headers=bearer(token_for(key, DISCOVERY_PATH))),
            client.get(DISCOVERY_PATH, headers=bearer(token_for(key, DISCOVERY_PATH, now=1_000_000_000))),
            client.get(DISCOVERY_PATH, headers=bearer(key.sign(cds_claims(f"https://{PATIENT_ID}.example", PUBLIC_BASE + DISCOVERY_PATH)))),
            client.get(DISCOVERY_PATH, headers=bearer(key.sign(cds_claims(EHR_ISS, PUBLIC_BASE + DISCOVERY_PATH), jku=f"https://x.example/{PATIENT_ID}"))),
            client.get(DISCOVERY_PATH, headers=bearer(f"not-a-jwt-{ACCESS_TOKEN}")),
            client.get(DISCOVERY_PATH, headers={"Authorization": f"Basic {OTHER_ACCESS_TOKEN}"}),
        ]
        assert len(fhir.calls) > 0  # the FHIR server was really queried, with the access token
        assert all(call.request.headers.get("Authorization") == f"Bearer {ACCESS_TOKEN}" for call in fhir.calls)

    # discovery, prefetch call, fetching call, failing fetch (412: data unobtainable), feedback, mixed call
    assert statuses[:5] == [200, 200, 200, 412, 200]
    assert [response.status_code for response in refused] == [401] * len(refused)
    for token in sent_tokens:
        secrets |= jwt_fragments(token)
    secrets.add(OTHER_ACCESS_TOKEN)

    logged = every_logged_text(caplog, root_output)
    assert caplog.records and root_output.getvalue(), "nothing was logged: the capture is broken"
    assert "authentication failed" in logged  # the refusals were logged, by reason
    assert secrets_in(logged, secrets) == []


def test_refusal_logs_name_the_reason(client, key, caplog, root_output):
    caplog.set_level(logging.DEBUG)
    token = token_for(key, SERVICE_PATH)  # used on the wrong endpoint
    assert client.get(DISCOVERY_PATH, headers={"Authorization": f"Bearer {token}"}).status_code == 401
    reasons = [getattr(record, "reason", None) for record in caplog.records]
    assert "bad-audience" in reasons
    assert secrets_in(every_logged_text(caplog, root_output), jwt_fragments(token)) == []
