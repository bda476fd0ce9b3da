"""The one FHIR-JSON reader: references and tolerant access over untrusted JSON."""
from __future__ import annotations

import pytest

from cds_service.fhir.fhir_json import as_dict, codings, objects, reference_of, reference_target, string, texts


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ({"resourceType": "Condition", "id": "c1"}, "Condition/c1"),
        ({"resourceType": "ServiceRequest"}, "ServiceRequest"),  # no id: names no resource
        ({"resourceType": "ServiceRequest", "id": ""}, "ServiceRequest"),
        ({"resourceType": "ServiceRequest", "id": 7}, "ServiceRequest"),  # FHIR JSON ids are strings
        ({"resourceType": "ServiceRequest", "id": ["x"]}, "ServiceRequest"),
        ({"id": "x"}, "Resource/x"),
        ({"resourceType": 3, "id": "x"}, "Resource/x"),
    ],
)
def test_reference_of(resource, expected):
    assert reference_of(resource) == expected


def test_a_resource_without_an_id_can_never_be_the_target_of_an_action():
    # Actions (update, delete) need "Type/id"; a reference without "/" tells the caller there is none.
    assert "/" not in reference_of({"resourceType": "DeviceRequest", "status": "draft"})


def test_reference_target_reads_relative_absolute_and_contained_references():
    assert reference_target({"reference": "ServiceRequest/s1"}) == "ServiceRequest/s1"
    assert reference_target({"reference": "https://ehr.example/fhir/ServiceRequest/s1/_history/2"}) == "ServiceRequest/s1"
    assert reference_target({"reference": "#med"}) == "#med"
    assert reference_target({"reference": 5}) == "" and reference_target("ServiceRequest/s1") == ""


def test_tolerant_access_never_raises_on_the_wrong_shape():
    assert as_dict([1]) == {} and as_dict({"a": 1}) == {"a": 1}
    assert string(None) == "" and string(4) == "" and string("x") == "x"
    assert objects([{"a": 1}, "b", 2]) == [{"a": 1}] and objects({"a": 1}) == [{"a": 1}] and objects("x") == []


def test_codings_of_a_concept_a_bare_coding_and_sloppy_codes():
    concept = {"text": "Iliac stent", "coding": [{"system": "s", "code": 37238, "display": "Stent"}, "junk"]}
    assert codings(concept) == [{"system": "s", "code": "37238", "display": "Stent"}]
    assert codings({"system": "s", "code": "c"}) == [{"system": "s", "code": "c"}]
    assert texts(concept) == ["Iliac stent", "Stent"]
