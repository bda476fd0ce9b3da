import copy

import pytest

from cds_service.errors import BadRequest
from cds_service.protocol.request import parse_request
from tests.helpers.hooks import SANDBOX_REQUESTS, load_json, patient_view_body

ORDER_SIGN = {
    "hook": "order-sign",
    "hookInstance": "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
    "context": {
        "userId": "PractitionerRole/123",
        "patientId": "1288992",
        "draftOrders": {"resourceType": "Bundle", "entry": [
            {"resource": {"resourceType": "DeviceRequest", "id": "d1"}},
            {"fullUrl": "urn:x"},
        ]},
    },
}


def test_minimal_patient_view_request_is_valid():
    request = parse_request(patient_view_body(), "patient-view")
    assert request.patient_id == "pat-1" and request.prefetch == {}


def test_unknown_fields_and_extension_are_accepted():
    body = patient_view_body(extension={"org.example.x": {"a": 1}}, somethingNew=True)
    assert parse_request(body, "patient-view").hook == "patient-view"


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b.pop("hookInstance"), "hookInstance"),
    (lambda b: b.update(hook="order-sign"), "patient-view"),
    (lambda b: b.pop("context"), "context"),
    (lambda b: b["context"].pop("patientId"), "patientId"),
    (lambda b: b["context"].pop("userId"), "userId"),
    (lambda b: b["context"].update(patientId=12), "patientId"),
    (lambda b: b["context"].update(patientId="../Patient/1"), "patientId"),
    (lambda b: b.update(fhirAuthorization={"access_token": "t", "token_type": "Bearer"}), "fhirServer"),
    (lambda b: b.update(fhirServer="ftp://x"), "fhirServer"),
    (lambda b: b.update(prefetch=[1]), "prefetch"),
])
def test_invalid_requests_say_why(mutate, message):
    body = patient_view_body()
    mutate(body)
    with pytest.raises(BadRequest) as error:
        parse_request(body, "patient-view")
    assert message in error.value.message


def test_body_must_be_an_object():
    with pytest.raises(BadRequest):
        parse_request(["hook"], "patient-view")


def test_fhir_authorization_needs_bearer_token():
    body = patient_view_body(fhirServer="https://ehr/fhir", fhirAuthorization={"access_token": "abc", "token_type": "MAC"})
    with pytest.raises(BadRequest):
        parse_request(body, "patient-view")
    body["fhirAuthorization"]["token_type"] = "Bearer"
    request = parse_request(body, "patient-view")
    assert request.fhir_authorization.access_token == "abc"
    assert "abc" not in repr(request)


def test_order_sign_reads_draft_orders_and_skips_entries_without_resource():
    request = parse_request(copy.deepcopy(ORDER_SIGN), "order-sign")
    assert [r["id"] for r in request.draft_order_resources] == ["d1"]


def test_draft_orders_must_be_a_bundle():
    body = copy.deepcopy(ORDER_SIGN)
    body["context"]["draftOrders"] = [{"resourceType": "DeviceRequest"}]
    with pytest.raises(BadRequest):
        parse_request(body, "order-sign")


def test_order_select_needs_type_id_selections():
    body = copy.deepcopy(ORDER_SIGN)
    body["hook"] = "order-select"
    body["context"]["selections"] = ["not a reference"]
    with pytest.raises(BadRequest):
        parse_request(body, "order-select")
    body["context"]["selections"] = ["DeviceRequest/d1"]
    assert parse_request(body, "order-select").selections == ["DeviceRequest/d1"]


@pytest.mark.parametrize("name, hook", [
    ("patient-view-request.json", "patient-view"),
    ("order-select-request.json", "order-select"),
    ("order-sign-request.json", "order-sign"),
])
def test_requests_captured_from_the_cds_hooks_sandbox_are_valid(name, hook):
    body = load_json(SANDBOX_REQUESTS / name)
    assert parse_request(body, hook).hook == hook
