"""Prefetch states: present, null, OperationOutcome, missing → fetched, fetch failure, paging, SSRF."""

import pytest
import requests
import responses

from cds_service.config import Settings
from cds_service.fhir.prefetch import PrefetchResolver, fill_template
from cds_service.protocol.request import parse_request
from cds_service.services.base import PATIENT_PREFETCH
from tests.helpers.hooks import FHIR_BASE, patient_view_body, searchset

PATIENT = {"resourceType": "Patient", "id": "pat-1"}
CONDITION = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/pat-1"}}
OBSERVATION = {"resourceType": "Observation", "id": "o1", "subject": {"reference": "Patient/pat-1"}}
TOKEN = "secret-access-token-123"


def resolver(**changes) -> PrefetchResolver:
    settings = Settings(auth="off", fhir_allowlist=(FHIR_BASE,), **changes)
    return PrefetchResolver(settings, requests.Session())


def full_prefetch(**overrides) -> dict:
    prefetch = {key: searchset() for key in PATIENT_PREFETCH}
    prefetch["patient"] = PATIENT
    prefetch.update(overrides)
    return prefetch


def request_with(prefetch=None, server=FHIR_BASE, token=TOKEN):
    body = patient_view_body()
    if prefetch is not None:
        body["prefetch"] = prefetch
    if server:
        body["fhirServer"] = server
        if token:
            body["fhirAuthorization"] = {"access_token": token, "token_type": "Bearer", "expires_in": 300,
                                         "scope": "user/*.read", "subject": "cds"}
    return parse_request(body, "patient-view")


def mock_all_searches(rsps, status=200):
    rsps.add(responses.GET, f"{FHIR_BASE}/Patient/pat-1", json=PATIENT, status=status)
    for key, template in PATIENT_PREFETCH.items():
        if key == "patient":
            continue
        resource_type = template.split("?")[0]
        body = searchset(CONDITION) if resource_type == "Condition" else searchset()
        rsps.add(responses.GET, f"{FHIR_BASE}/{resource_type}", json=body, status=status)


@responses.activate
def test_present_prefetch_is_used_without_any_fhir_call():
    record = resolver().resolve(request_with(full_prefetch(conditions=searchset(CONDITION))), PATIENT_PREFETCH)
    assert record.patient == PATIENT
    assert [c["id"] for c in record.of_type("Condition")] == ["c1"]
    assert record.unreadable == set()
    assert len(responses.calls) == 0


@responses.activate
def test_null_prefetch_means_no_data_and_is_never_requeried():
    record = resolver().resolve(request_with(full_prefetch(conditions=None)), PATIENT_PREFETCH)
    assert record.of_type("Condition") == [] and "Condition" not in record.unreadable
    assert len(responses.calls) == 0


@responses.activate
def test_operation_outcome_marks_the_key_unreadable_and_is_not_requeried():
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]}
    record = resolver().resolve(request_with(full_prefetch(observations=outcome)), PATIENT_PREFETCH)
    assert record.unreadable == {"Observation"}
    assert record.notes and "Observation" in record.notes[0]
    assert len(responses.calls) == 0


@responses.activate
def test_missing_keys_are_fetched_with_the_access_token():
    mock_all_searches(responses)
    record = resolver().resolve(request_with(prefetch=None), PATIENT_PREFETCH)
    assert record.patient == PATIENT and record.unreadable == set()
    assert [c["id"] for c in record.of_type("Condition")] == ["c1"]
    assert len(responses.calls) == len(PATIENT_PREFETCH)
    for call in responses.calls:
        assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert "patient=pat-1" in call.request.url or call.request.url.endswith("/Patient/pat-1")


@responses.activate
def test_only_missing_keys_are_fetched():
    responses.add(responses.GET, f"{FHIR_BASE}/Observation", json=searchset(OBSERVATION))
    prefetch = full_prefetch()
    del prefetch["observations"]
    record = resolver().resolve(request_with(prefetch), PATIENT_PREFETCH)
    assert [o["id"] for o in record.of_type("Observation")] == ["o1"]
    assert len(responses.calls) == 1


@responses.activate
@pytest.mark.parametrize("status", [401, 403, 404, 500, 503])
def test_failed_fetch_marks_types_unreadable(status):
    mock_all_searches(responses, status=status)
    record = resolver().resolve(request_with(prefetch=None), PATIENT_PREFETCH)
    assert record.unreadable == {"Patient", "Condition", "Observation", "ImagingStudy", "DiagnosticReport",
                                 "Procedure", "MedicationRequest", "MedicationStatement"}


@responses.activate
def test_paging_follows_next_links_up_to_the_cap():
    page = f"{FHIR_BASE}/Observation?patient=pat-1&_page="
    for n in range(1, 5):
        obs = dict(OBSERVATION, id=f"o{n}")
        responses.add(responses.GET, f"{page}{n}", json=searchset(obs, next_url=f"{page}{n + 1}"))
    responses.add(responses.GET, f"{FHIR_BASE}/Observation",
                  json=searchset(dict(OBSERVATION, id="o0"), next_url=f"{page}1"))
    prefetch = full_prefetch()
    del prefetch["observations"]
    record = resolver(fhir_max_pages=3).resolve(request_with(prefetch), PATIENT_PREFETCH)
    assert [o["id"] for o in record.of_type("Observation")] == ["o0", "o1", "o2"]


@responses.activate
def test_prefetched_bundle_with_next_link_is_completed_from_the_server():
    next_url = f"{FHIR_BASE}/Condition?patient=pat-1&_page=2"
    responses.add(responses.GET, next_url, json=searchset(dict(CONDITION, id="c2")))
    prefetch = full_prefetch(conditions=searchset(CONDITION, next_url=next_url))
    record = resolver().resolve(request_with(prefetch), PATIENT_PREFETCH)
    assert [c["id"] for c in record.of_type("Condition")] == ["c1", "c2"]


@responses.activate
def test_next_link_to_another_host_is_never_followed():
    prefetch = full_prefetch(conditions=searchset(CONDITION, next_url="https://evil.example/steal"))
    record = resolver().resolve(request_with(prefetch), PATIENT_PREFETCH)
    assert "Condition" in record.unreadable
    assert len(responses.calls) == 0


@responses.activate
@pytest.mark.parametrize("server", [
    "https://evil.example/fhir",
    "https://fhir.example.test.evil.example/r4",
    "https://user@fhir.example.test/r4",
    "http://169.254.169.254/latest",
])
def test_servers_off_the_allowlist_are_never_contacted(server):
    record = resolver().resolve(request_with(prefetch=None, server=server), PATIENT_PREFETCH)
    assert "Patient" in record.unreadable
    assert len(responses.calls) == 0


@responses.activate
def test_no_token_means_no_fetch_unless_the_server_is_open():
    record = resolver().resolve(request_with(prefetch=None, token=None), PATIENT_PREFETCH)
    assert "Condition" in record.unreadable and len(responses.calls) == 0
    mock_all_searches(responses)
    record = resolver(fhir_open_servers=(FHIR_BASE,)).resolve(request_with(prefetch=None, token=None), PATIENT_PREFETCH)
    assert record.unreadable == set()
    assert all("Authorization" not in c.request.headers for c in responses.calls)


@responses.activate
def test_redirects_are_not_followed():
    responses.add(responses.GET, f"{FHIR_BASE}/Patient/pat-1", status=302, headers={"Location": "https://evil.example/x"})
    prefetch = full_prefetch()
    del prefetch["patient"]
    record = resolver().resolve(request_with(prefetch), PATIENT_PREFETCH)
    assert "Patient" in record.unreadable
    assert [c.request.url for c in responses.calls] == [f"{FHIR_BASE}/Patient/pat-1"]


@responses.activate
@pytest.mark.parametrize("body, headers", [
    (b"<html>not json</html>", {}),
    (b"[1, 2]", {}),
    (b"x" * 2048, {}),
])
def test_responses_that_are_not_fhir_json_or_too_large_are_unreadable(body, headers):
    responses.add(responses.GET, f"{FHIR_BASE}/Patient/pat-1", body=body, headers=headers)
    prefetch = full_prefetch()
    del prefetch["patient"]
    record = resolver(fhir_max_response_bytes=1024).resolve(request_with(prefetch), PATIENT_PREFETCH)
    assert "Patient" in record.unreadable


@responses.activate
def test_timeouts_make_the_key_unreadable():
    responses.add(responses.GET, f"{FHIR_BASE}/Patient/pat-1", body=requests.ReadTimeout("slow"))
    prefetch = full_prefetch()
    del prefetch["patient"]
    record = resolver().resolve(request_with(prefetch), PATIENT_PREFETCH)
    assert "Patient" in record.unreadable


@responses.activate
def test_resources_of_another_patient_are_ignored():
    foreign = {"resourceType": "Condition", "id": "x", "subject": {"reference": "Patient/someone-else"}}
    record = resolver().resolve(request_with(full_prefetch(conditions=searchset(CONDITION, foreign))),
                                PATIENT_PREFETCH)
    assert [c["id"] for c in record.of_type("Condition")] == ["c1"]


@responses.activate
def test_referenced_medications_are_fetched_by_id():
    request_resource = {"resourceType": "MedicationRequest", "id": "m1", "status": "active",
                        "subject": {"reference": "Patient/pat-1"}, "medicationReference": {"reference": "Medication/enox"}}
    responses.add(responses.GET, f"{FHIR_BASE}/Medication/enox", json={"resourceType": "Medication", "id": "enox"})
    record = resolver().resolve(request_with(full_prefetch(medicationRequests=searchset(request_resource))),
                                PATIENT_PREFETCH)
    assert [m["id"] for m in record.of_type("Medication")] == ["enox"]


def test_template_tokens_are_filled_and_encoded():
    context = {"patientId": "a b", "userId": "Practitioner/p1"}
    assert fill_template("Condition?patient={{context.patientId}}", context) == "Condition?patient=a%20b"
    assert fill_template("Practitioner/{{userPractitionerId}}", context) == "Practitioner/p1"
    assert fill_template("Encounter/{{context.encounterId}}", context) is None
    assert fill_template("PractitionerRole/{{userPractitionerRoleId}}", context) is None



@pytest.mark.parametrize("url, allowed", [
    ("http://127.0.0.1:8080/fixtures-fhir", True),
    ("http://127.0.0.1/fixtures-fhir", True),
    ("http://127.0.0.1.evil.example:8080/fhir", False),
    ("https://127.0.0.1:8080/fhir", False),
    ("http://localhost:9000/fhir", False),
])
def test_a_port_wildcard_allows_any_port_of_that_host_only(url, allowed):
    from cds_service.fhir.client import is_allowed

    assert is_allowed(url, ("http://127.0.0.1:*",)) is allowed
