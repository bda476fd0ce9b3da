"""The narrow validators (cds_service/fhir/validation.py) against the full fhir.resources models.

- every element an extractor reads, given a value of the wrong FHIR type, makes the resource invalid
  (one generated row per element and wrong value, over resources that carry every read element);
- every fixture resource gets the verdict the full model gives it, and so do mutated copies: each read
  element replaced by wrong-typed JSON, removed, or given an element R4B does not define;
- a resource the validator rejects is skipped and noted, never raised; sandbox-style single objects
  where R4 wants an array are still repaired.
"""
from __future__ import annotations

import copy
import json
import logging
import types
import typing
from functools import lru_cache

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir_core.types import CodeType, IdType, MarkdownType, UriType
from typing_extensions import Required, is_typeddict

from cds_service.fhir.fhir_json import Validator
from cds_service.fhir import validation
from cds_service.fhir.validation import NARROW_TYPES, list_elements, narrow_outcome
from cds_service.fixtures import all_fixtures

SUBJECT = {"reference": "Patient/p1", "type": "Patient", "display": "the patient"}


def concept(code: str = "123", text: str = "a text") -> dict:
    return {"coding": [{"system": "http://snomed.info/sct", "code": code, "display": "a display",
                        "version": "2025", "userSelected": True}], "text": text}


QUANTITY = {"value": 5.5, "comparator": "<", "unit": "mm", "system": "http://unitsofmeasure.org", "code": "mm"}
DOSAGE = {"text": "80 mg twice daily", "route": concept(), "method": concept(),
          "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}, "code": concept()},
          "doseAndRate": [{"doseQuantity": QUANTITY}]}
# One resource of each narrow type that carries every element the extractors read.
COMPLETE = (
    {"resourceType": "Condition", "id": "c1", "clinicalStatus": concept(), "verificationStatus": concept(),
     "severity": concept(), "code": concept(), "subject": SUBJECT, "onsetDateTime": "2025-02-01",
     "recordedDate": "2025-02-01T10:00:00Z", "evidence": [{"detail": [{"reference": "Condition/c2"}]}],
     "note": [{"text": "a note"}],
     "bodySite": [{**concept(), "extension": [{"url": "http://example.org/laterality", "valueCodeableConcept": concept(),
                                               "extension": [
         {"url": "http://example.org/x", "valueCoding": concept()["coding"][0]},
         {"url": "http://example.org/y", "valueCoding": {
             "code": "x", "extension": [{"url": "http://example.org/z", "valueString": "ok"}]}}]}]}]},
    {"resourceType": "Condition", "id": "c2", "subject": SUBJECT, "onsetPeriod": {"start": "2025-01-01", "end": "2025-02-01"}},
    {"resourceType": "Observation", "id": "o1", "status": "final", "code": concept(), "subject": SUBJECT,
     "focus": [{"reference": "Condition/c1"}], "effectiveDateTime": "2025-02-10T08:00:00Z",
     "issued": "2025-02-10T09:00:00Z", "valueQuantity": QUANTITY, "method": concept(), "bodySite": concept(),
     "component": [{"code": concept(), "valueQuantity": QUANTITY}, {"code": concept(), "valueCodeableConcept": concept()},
                   {"code": concept(), "valueBoolean": True}]},
    {"resourceType": "Observation", "id": "o2", "status": "final", "code": concept(),
     "effectivePeriod": {"start": "2025-02-10"}, "valueCodeableConcept": concept()},
    {"resourceType": "Observation", "id": "o3", "status": "final", "code": concept(),
     "effectiveInstant": "2025-02-10T08:00:00.123+01:00", "valueBoolean": True},
    {"resourceType": "DiagnosticReport", "id": "d1", "status": "final", "code": concept(), "subject": SUBJECT,
     "effectiveDateTime": "2025-02-10", "issued": "2025-02-10T09:00:00Z", "conclusionCode": [concept()]},
    {"resourceType": "DiagnosticReport", "id": "d2", "status": "final", "code": concept(),
     "effectivePeriod": {"start": "2025-02-10"}},
    {"resourceType": "ImagingStudy", "id": "i1", "status": "available", "subject": SUBJECT,
     "started": "2025-02-10T08:00:00Z", "description": "CT venography", "modality": [concept()["coding"][0]],
     "procedureCode": [concept()], "series": [{"uid": "1.2.3", "modality": concept()["coding"][0],
                                               "bodySite": concept()["coding"][0], "laterality": concept()["coding"][0]}]},
    {"resourceType": "Procedure", "id": "p1", "status": "completed", "subject": SUBJECT, "code": concept(),
     "performedDateTime": "2025-02-10", "bodySite": [concept()], "reasonCode": [concept()], "note": [{"text": "a note"}]},
    {"resourceType": "Procedure", "id": "p2", "status": "completed", "subject": SUBJECT,
     "performedPeriod": {"start": "2025-02-10"}},
    {"resourceType": "MedicationRequest", "id": "m1", "status": "active", "intent": "order", "subject": SUBJECT,
     "authoredOn": "2025-02-20T10:00:00Z", "medicationReference": {"reference": "#med", "display": "enoxaparin"},
     "contained": [{"resourceType": "Medication", "id": "med", "code": concept(),
                    "ingredient": [{"itemCodeableConcept": concept()}]}],
     "dosageInstruction": [DOSAGE], "reasonCode": [concept()], "reasonReference": [{"reference": "Condition/c1"}]},
    {"resourceType": "MedicationStatement", "id": "s1", "status": "active", "subject": SUBJECT,
     "medicationCodeableConcept": concept(), "effectiveDateTime": "2025-01-05", "dateAsserted": "2025-01-06",
     "dosage": [DOSAGE], "reasonCode": [concept()], "reasonReference": [{"reference": "Condition/c1"}]},
    {"resourceType": "MedicationStatement", "id": "s2", "status": "active", "subject": SUBJECT,
     "medicationReference": {"reference": "#med"}, "effectivePeriod": {"start": "2025-01-05"},
     "contained": [{"resourceType": "Medication", "id": "med", "code": concept()}]},
    {"resourceType": "MedicationRequest", "id": "m2", "status": "active", "intent": "order", "subject": SUBJECT,
     "medicationCodeableConcept": concept()},
    {"resourceType": "Medication", "id": "med2", "code": concept(),
     "ingredient": [{"itemReference": {"reference": "Medication/x"}}]},
    {"resourceType": "Medication", "id": "med3", "ingredient": [{"itemCodeableConcept": concept()}]},
)


def full_verdict(resource: dict) -> bool:
    """The full model's verdict, with the repair the Validator applies (a single object where R4 wants an array)."""
    resource_type = resource["resourceType"]
    wrapped = {k: [v] if k in list_elements(resource_type) and isinstance(v, dict) else v for k, v in resource.items()}
    try:
        get_fhir_model_class(resource_type).model_validate(wrapped)
        return True
    except (ValueError, TypeError):  # pydantic's ValidationError is a ValueError
        return False


def narrow_verdict(resource: dict) -> bool:
    return narrow_outcome(resource, resource["resourceType"]) is not None


# ---------------------------------------------------------------- the paths the narrow schemas declare

def _unwrap(hint: object) -> object:
    """The type under Required / Optional, and under the Annotated checks of a schema (not of a primitive)."""
    while True:
        origin = typing.get_origin(hint)
        if origin is Required or origin is typing.Annotated and _is_structure(typing.get_args(hint)[0]):
            hint = typing.get_args(hint)[0]
        elif origin is typing.Union or origin is types.UnionType:  # Optional[X] or X | None
            hint = next(a for a in typing.get_args(hint) if a is not type(None))
        else:
            return hint


def _is_structure(hint: object) -> bool:
    return is_typeddict(hint) or typing.get_origin(hint) in (list, Required, typing.Union) or hint is dict


@lru_cache(maxsize=None)
def _hints(schema: type) -> dict:
    return typing.get_type_hints(schema, include_extras=True)


def read_paths(value: object, schema: type, prefix: tuple = ()):
    """(path, declared type) of every element of `value` that the narrow schema declares, at any depth."""
    if not is_typeddict(schema) or not isinstance(value, dict):
        return
    for name, item in value.items():
        if name not in _hints(schema) or name == "resourceType":
            continue
        declared = _unwrap(_hints(schema)[name])
        yield prefix + (name,), declared
        if typing.get_origin(declared) is list:
            inner = _unwrap(typing.get_args(declared)[0])
            for index, element in enumerate(item if isinstance(item, list) else ()):
                yield prefix + (name, index), inner
                yield from read_paths(element, inner, prefix + (name, index))
        else:
            yield from read_paths(item, declared, prefix + (name,))


def wrong_values(declared: object, path: tuple) -> list:
    """JSON that is not of the declared FHIR type."""
    if typing.get_origin(declared) is list:
        return [7, "text", [7]]
    if is_typeddict(declared):
        return [7, "text", [{}], True]
    if declared is dict:  # a contained resource
        return [7, "text", ["text"]]
    if declared in (validation.Decimal, validation.PositiveInt):
        return ["many", "5", True, [5]] + ([0, 2.5] if declared == validation.PositiveInt else [])
    if declared == validation.Boolean:
        return ["maybe", "true", 1, [True]]
    wrong: list = [7, True, ["text"], {"text": "x"}] + ([] if declared in (UriType, MarkdownType) else [""])
    if declared in (validation.DateTime, validation.Instant):
        wrong += [2.5, "2025-13-45", "yesterday", "2025-02-01T10:00:00"]  # the last: a time needs a zone
    if declared == validation.Instant:
        wrong.append("2025-02-01")  # an instant needs a time
    if declared == CodeType:
        wrong.append(" final")
    if declared == IdType:
        wrong.append("has space")
    return wrong


JSON_TYPES = {validation.DateTime: (str,), validation.Instant: (str,), validation.Decimal: (int, float),
              validation.PositiveInt: (int,), validation.Boolean: (bool,)}


def stricter_here(declared: object, value: object) -> bool:
    """The one deliberate difference on read elements: a primitive must have its JSON type (validation._json);
    the full model reads 7 as a dateTime, "5" as a decimal, true as a positiveInt."""
    types = JSON_TYPES.get(declared)
    if types is None or value is None:
        return False
    return not isinstance(value, types) or (isinstance(value, bool) and bool not in types)


def at(resource: dict, path: tuple) -> tuple[object, object]:
    parent = resource
    for step in path[:-1]:
        parent = parent[step]
    return parent, path[-1]


def mutated(resource: dict, path: tuple, value: object) -> dict:
    copied = copy.deepcopy(resource)
    parent, key = at(copied, path)
    parent[key] = copy.deepcopy(value)
    return copied


# ---------------------------------------------------------------- every read element, wrong-typed

def wrong_typed_rows() -> list:
    rows = []
    for resource in COMPLETE:
        for path, declared in read_paths(resource, NARROW_TYPES[resource["resourceType"]]):
            for value in wrong_values(declared, path):
                rows.append(pytest.param(resource, path, declared, value, id=f"{resource['id']}.{'.'.join(map(str, path))}={value!r}"))
    return rows


def test_the_complete_resources_are_valid_for_both():
    for resource in COMPLETE:
        assert full_verdict(resource), resource["id"]
        assert narrow_verdict(resource), resource["id"]


def test_every_declared_element_is_in_the_table():
    """The table covers every element of every narrow schema (so every element an extractor reads)."""
    seen: set[tuple[str, str]] = set()

    def collect(schema: type) -> None:
        for name, hint in _hints(schema).items():
            key = (schema.__name__, name)
            if key in seen:
                continue
            seen.add(key)
            inner = _unwrap(hint)
            inner = _unwrap(typing.get_args(inner)[0]) if typing.get_origin(inner) is list else inner
            if is_typeddict(inner):
                collect(inner)

    for schema in NARROW_TYPES.values():
        collect(schema)
    exercised = set()
    for resource in COMPLETE:
        def walk(value, schema):
            if not (is_typeddict(schema) and isinstance(value, dict)):
                return
            for name, item in value.items():
                if name in _hints(schema):
                    exercised.add((schema.__name__, name))
                    inner = _unwrap(_hints(schema)[name])
                    if typing.get_origin(inner) is list:
                        for element in item:
                            walk(element, _unwrap(typing.get_args(inner)[0]))
                    else:
                        walk(item, inner)
        walk(resource, NARROW_TYPES[resource["resourceType"]])
    assert seen - exercised == set()


@pytest.mark.parametrize("resource, path, declared, value", wrong_typed_rows())
def test_a_wrong_typed_read_element_is_rejected(resource, path, declared, value):
    broken = mutated(resource, path, value)
    assert not narrow_verdict(broken)
    assert not full_verdict(broken) or stricter_here(declared, value)  # as the full model says, or stricter


@pytest.mark.parametrize("path, value", [(("code",), 7), (("code", "coding", 0, "code"), 7), (("ingredient", 0), {})])
def test_a_contained_medication_is_checked_like_a_medication(path, value):
    request = COMPLETE[10]
    broken = mutated(request, ("contained", 0) + path, value)
    assert not narrow_verdict(broken) and not full_verdict(broken)


def test_a_wrong_typed_element_is_skipped_noted_and_never_raised(caplog):
    validator = Validator()
    broken = mutated(COMPLETE[2], ("valueQuantity", "value"), "many")
    with caplog.at_level(logging.WARNING):
        assert validator.is_valid(broken) is False
    assert validator.failed_types == {"Observation"}
    assert "o1" not in caplog.text and "many" not in caplog.text  # type and error kinds only


# ---------------------------------------------------------------- the same verdicts as the full model

@lru_cache(maxsize=1)
def fixture_resources() -> tuple[dict, ...]:
    """Every resource of a narrow type in the fixtures (and the Medications they contain), once."""
    found: dict[str, dict] = {}
    for fixture in all_fixtures():
        for resource in fixture.record():
            for candidate in [resource] + [c for c in resource.get("contained", ()) if isinstance(c, dict)]:
                if candidate.get("resourceType") in NARROW_TYPES:
                    found.setdefault(json.dumps(candidate, sort_keys=True), candidate)
    return tuple(found.values())


def test_every_fixture_resource_gets_the_full_models_verdict():
    resources = fixture_resources()
    assert len(resources) > 1000
    assert {r["resourceType"] for r in resources} >= {"Condition", "Observation", "DiagnosticReport", "ImagingStudy",
                                                      "Procedure", "MedicationRequest", "MedicationStatement"}
    differing = [r["id"] for r in resources if narrow_verdict(r) != full_verdict(r)]
    assert differing == []


MUTATIONS = (7, 2.5, True, "text", "5", "true", "", None, [], {}, [None], [{}], [7], {"notAnElement": 1},
             [{"notAnElement": 1}], "2025-13-45", " padded")


def test_mutated_copies_get_the_full_models_verdict():
    """Each read element of a sample of fixture resources (and of the complete ones) replaced by other
    JSON, removed, or given an element R4B does not define: narrow and full verdicts agree every time."""
    seeds = list(fixture_resources()[::40]) + list(COMPLETE)
    differing, compared = [], 0
    for resource in seeds:
        for path, declared in read_paths(resource, NARROW_TYPES[resource["resourceType"]]):
            parent, key = at(resource, path)
            copies = [(mutated(resource, path, value), stricter_here(declared, value)) for value in MUTATIONS]
            if isinstance(parent, dict):
                removed = copy.deepcopy(resource)
                del at(removed, path)[0][key]
                copies.append((removed, False))
            if isinstance(parent[key], dict):
                copies.append((mutated(resource, path, {**parent[key], "notAnElement": 1}), False))
            for copy_, stricter in copies:
                compared += 1
                if narrow_verdict(copy_) != (full_verdict(copy_) and not stricter):
                    differing.append((resource["id"], path))
    assert compared > 5_000
    assert differing == []


def test_deliberate_differences_from_the_full_model():
    """Elements no extractor reads are not type-checked; a JSON string where an object belongs is invalid
    (the full model would parse the string as JSON), and so is a number where a dateTime belongs."""
    observation = COMPLETE[3]
    unread = mutated(observation, ("id",), "o2") | {"category": [{"coding": [{"code": 7}]}]}
    assert narrow_verdict(unread) and not full_verdict(unread)
    stringified = mutated(observation, ("valueCodeableConcept",), json.dumps(concept()))
    assert not narrow_verdict(stringified) and full_verdict(stringified)
    timestamp = mutated(observation, ("id",), "o2") | {"effectivePeriod": {"start": 1739174400}}
    assert not narrow_verdict(timestamp) and full_verdict(timestamp)


# ---------------------------------------------------------------- repair, as before

SANDBOX_STYLE_REQUEST = {
    "resourceType": "MedicationRequest", "id": "m1", "status": "active", "intent": "order",
    "subject": {"reference": "Patient/p"}, "medicationCodeableConcept": {"text": "enoxaparin 80 mg"},
    "category": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                             "code": "community"}]},
}


def test_an_object_where_r4_wants_an_array_is_repaired_not_skipped():
    resource = {**SANDBOX_STYLE_REQUEST}
    validator = Validator()
    assert validator.is_valid(resource)
    assert isinstance(resource["category"], list) and resource["category"][0]["coding"][0]["code"] == "community"
    assert validator.failed_types == set()


def test_a_read_element_sent_as_one_object_is_repaired_and_checked():
    resource = {**COMPLETE[0], "bodySite": COMPLETE[0]["bodySite"][0]}
    assert Validator().is_valid(resource) and isinstance(resource["bodySite"], list)
    wrong = {**COMPLETE[0], "bodySite": {"coding": [{"code": 7}]}}
    assert not Validator().is_valid(wrong) and isinstance(wrong["bodySite"], dict)


def test_other_errors_are_not_repaired():
    broken = {**SANDBOX_STYLE_REQUEST, "status": 7}
    assert not Validator().is_valid(broken)
    assert isinstance(broken["category"], dict)
