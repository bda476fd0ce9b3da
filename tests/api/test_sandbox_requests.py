"""Requests captured from the CDS Hooks sandbox get 200 from the real services, with its JWT shape."""
import re

import pytest
import responses

from cds_service.app import create_app
from cds_service.auth.testkit import cds_claims, jwks_of, new_es384_key, write_trusted_clients
from tests.helpers.hooks import SANDBOX_REQUESTS, load_json, searchset

SANDBOX_ISS = "https://sandbox.cds-hooks.org"
SANDBOX_FHIR = "http://127.0.0.1:8091/fhir"
BASE = "https://cds.example.test"
CAPTURED = {
    "patient-view-request.json": "iliac-vein-patient-view",
    "order-select-request.json": "iliac-vein-order-select",
    "order-sign-request.json": "iliac-vein-order-sign",
}


@pytest.fixture
def sandbox_key():
    return new_es384_key(kid="44823f3d-0b01-4a6c-a80e-b9d3e8a7226f")


@pytest.fixture
def client(settings, tmp_path, sandbox_key):
    """Auth required; the sandbox is played by a generated key with the sandbox's issuer and kid."""
    clients = write_trusted_clients(tmp_path / "clients.json", [{"iss": SANDBOX_ISS, "jwks": jwks_of([sandbox_key])}])
    return create_app(settings.with_(auth="required", trusted_clients_file=str(clients), public_base_url=BASE,
                                     fhir_allowlist=("http://127.0.0.1:*",), fhir_open_servers=("http://127.0.0.1:*",))
                      ).test_client()


def sandbox_fhir_server(patient_id: str) -> None:
    """The sandbox's FHIR server: the patient exists and has no other data (sent without a token)."""
    responses.add(responses.GET, f"{SANDBOX_FHIR}/Patient/{patient_id}",
                  json={"resourceType": "Patient", "id": patient_id})
    responses.add(responses.GET, re.compile(re.escape(SANDBOX_FHIR) + r"/[A-Za-z]+\?patient=.*"), json=searchset())


@responses.activate
@pytest.mark.parametrize("name, service_id", CAPTURED.items())
def test_captured_sandbox_requests_get_200(client, sandbox_key, name, service_id):
    body = load_json(SANDBOX_REQUESTS / name)
    sandbox_fhir_server(body["context"]["patientId"])
    token = sandbox_key.sign(cds_claims(SANDBOX_ISS, f"{BASE}/cds-services/{service_id}", lifetime=300))
    response = client.post(f"/cds-services/{service_id}", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json() == {"cards": []}  # a patient with no iliac vein problem: nothing to say
    assert all("Authorization" not in call.request.headers for call in responses.calls)


@responses.activate
def test_sandbox_discovery_and_feedback_with_their_own_audience(client, sandbox_key):
    discovery = sandbox_key.sign(cds_claims(SANDBOX_ISS, f"{BASE}/cds-services"))
    assert client.get("/cds-services", headers={"Authorization": f"Bearer {discovery}"}).status_code == 200
    feedback_url = f"{BASE}/cds-services/iliac-vein-order-sign/feedback"
    token = sandbox_key.sign(cds_claims(SANDBOX_ISS, feedback_url))
    item = {"card": "card-1", "outcome": "overridden", "outcomeTimestamp": "2026-11-26T10:05:31Z",
            "overrideReason": {"reason": {"code": "will-revise", "system": "http://x"}}}  # no display: as the sandbox
    response = client.post("/cds-services/iliac-vein-order-sign/feedback", json={"feedback": [item]},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.get_json() == {"stored": 1}


def test_a_medication_request_with_category_as_an_object_still_counts(settings):
    """The sandbox sends MedicationRequest.category as an object: the anticoagulant must still be read,
    or DVT-ANTICOAGULATE would fire for a patient already on treatment-dose enoxaparin."""
    from cds_service.fixtures import DEFAULT_DIRECTORY, build_request, load_fixture
    from cds_service.services import all_services

    fixture = load_fixture(DEFAULT_DIRECTORY / "enoxaparin-0-9-mg-per-kg-is-treatment-dose.json")
    entry = next(s.discovery_json() for s in all_services() if s.id == "iliac-vein-patient-view")
    request = build_request(fixture, entry, prefetch=True)
    for item in request["prefetch"]["medicationRequests"]["entry"]:
        item["resource"]["category"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                                    "medicationrequest-category", "code": "inpatient"}]}
    client = create_app(settings.with_(clock=lambda: fixture.now)).test_client()
    response = client.post("/cds-services/iliac-vein-patient-view", json=request)
    assert response.status_code == 200
    assert "DVT-ANTICOAGULATE" not in {c["source"]["topic"]["code"] for c in response.get_json()["cards"]}
