"""Dev mode: the bundled fixtures as a read-only FHIR endpoint, and a hook call that uses it."""
import re

import pytest
import responses

from cds_service.app import create_app
from cds_service.fixtures import all_fixtures
from tests.helpers.hooks import ECHO

FIXTURE = next(f for f in all_fixtures() if f.resources)


@pytest.fixture
def client(settings):
    return create_app(settings.with_(dev_mode=True, fhir_allowlist=("http://localhost",),
                                     fhir_open_servers=("http://localhost",)), services=[ECHO]).test_client()


def test_fixtures_endpoint_exists_only_in_dev_mode(settings):
    client = create_app(settings, services=[ECHO]).test_client()
    assert client.get("/fixtures-fhir/metadata").status_code == 404


def test_metadata_is_a_capability_statement(client):
    body = client.get("/fixtures-fhir/metadata").get_json()
    assert body["resourceType"] == "CapabilityStatement" and body["fhirVersion"] == "4.0.1"


def test_read_and_search_by_patient(client):
    patient = client.get(f"/fixtures-fhir/Patient/{FIXTURE.patient_id}")
    assert patient.status_code == 200 and patient.get_json()["id"] == FIXTURE.patient_id
    resource_type = FIXTURE.resources[0]["resourceType"]
    bundle = client.get(f"/fixtures-fhir/{resource_type}?patient={FIXTURE.patient_id}").get_json()
    ids = {e["resource"]["id"] for e in bundle["entry"]}
    assert {r["id"] for r in FIXTURE.resources if r["resourceType"] == resource_type} <= ids
    posted = client.post(f"/fixtures-fhir/{resource_type}/_search", data={"patient": FIXTURE.patient_id}).get_json()
    assert {e["resource"]["id"] for e in posted["entry"]} == ids


def test_unknown_resource_is_404_operation_outcome(client):
    response = client.get("/fixtures-fhir/Patient/nobody-here")
    assert response.status_code == 404 and response.get_json()["resourceType"] == "OperationOutcome"


@responses.activate
def test_a_hook_call_can_fetch_everything_from_the_fixture_endpoint(client):
    """The service fetches its missing prefetch from /fixtures-fhir, as the CDS Hooks sandbox would make it."""

    def route_into_the_app(request):
        answer = client.get(request.url.split("http://localhost", 1)[1])
        return answer.status_code, {"Content-Type": "application/fhir+json"}, answer.get_data()

    responses.add_callback(responses.GET, re.compile(r"http://localhost/fixtures-fhir/.*"), callback=route_into_the_app)
    body = {"hook": "patient-view", "hookInstance": "x-1", "fhirServer": "http://localhost/fixtures-fhir",
            "context": {"userId": "Practitioner/p", "patientId": FIXTURE.patient_id}}
    response = client.post("/cds-services/echo", json=body)
    assert response.status_code == 200
    assert "Patient=1" in response.get_json()["cards"][0]["summary"]
    assert len(responses.calls) == len(ECHO.prefetch)
