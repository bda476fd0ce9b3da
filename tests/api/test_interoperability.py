"""Rough edges met with requests of other CDS Hooks clients: an empty access token, a 412 that says why."""
import json

import pytest
import responses

from cds_service.app import create_app
from tests.helpers.hooks import ECHO, FHIR_BASE, patient_view_body, searchset

PATIENT = {"resourceType": "Patient", "id": "pat-1"}
EMPTY_TOKEN = {"access_token": "", "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read"}


@pytest.fixture
def client(settings):
    return create_app(settings, services=[ECHO]).test_client()


def post(client, body):
    return client.post("/cds-services/echo", data=json.dumps(body), content_type="application/json")


def full_prefetch() -> dict:
    prefetch = {key: searchset() for key in ECHO.prefetch}
    prefetch["patient"] = PATIENT
    return prefetch


def diagnostics(response, status: int) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    outcome = response.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    return outcome["issue"][0]["diagnostics"]


def test_an_empty_access_token_with_full_prefetch_is_answered(client):
    body = patient_view_body(fhirServer=FHIR_BASE, fhirAuthorization=EMPTY_TOKEN, prefetch=full_prefetch())
    response = post(client, body)
    assert response.status_code == 200
    assert response.get_json()["cards"]


def test_an_empty_access_token_is_no_token(client):
    text = diagnostics(post(client, patient_view_body(fhirServer=FHIR_BASE, fhirAuthorization=EMPTY_TOKEN)), 412)
    assert "no fhirAuthorization access token" in text and "CDS_FHIR_OPEN_SERVERS" in text


def test_a_missing_access_token_is_still_a_bad_request(client):
    body = patient_view_body(fhirServer=FHIR_BASE, fhirAuthorization={"token_type": "Bearer"})
    assert "access_token" in diagnostics(post(client, body), 400)


def test_412_names_a_server_off_the_allowlist(client):
    body = patient_view_body(fhirServer="https://elsewhere.example.test/fhir",
                             fhirAuthorization={"access_token": "secret-token", "token_type": "Bearer"})
    text = diagnostics(post(client, body), 412)
    assert "not on this service's allowlist" in text and "CDS_FHIR_ALLOWLIST" in text
    assert "elsewhere.example.test" not in text and "secret-token" not in text and "pat-1" not in text


def test_412_names_a_missing_fhir_server(client):
    assert "names no fhirServer" in diagnostics(post(client, patient_view_body()), 412)


@responses.activate
def test_412_names_a_failed_fetch_without_phi(client):
    responses.add(responses.GET, f"{FHIR_BASE}/Patient/pat-1", status=503)
    for template in ECHO.prefetch.values():
        responses.add(responses.GET, f"{FHIR_BASE}/{template.split('?')[0]}", status=503)
    body = patient_view_body(fhirServer=FHIR_BASE,
                             fhirAuthorization={"access_token": "secret-token", "token_type": "Bearer"})
    text = diagnostics(post(client, body), 412)
    assert "fetching it from the fhirServer failed (http-503)" in text
    assert FHIR_BASE not in text and "secret-token" not in text and "pat-1" not in text
