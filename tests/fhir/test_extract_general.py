"""extract_facts as a whole: unreadable data, invalid resources, speed, PHI-free logs, site codes, ordering."""
from __future__ import annotations

import copy
import json
import logging
import time
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds_service.fhir import fhir_json
from cds_service.fhir.dates import parse_fhir_datetime
from cds_service.fhir.extract import extract_facts
from cds_service.fhir.valuesets import ICD10CM, LOINC, SNOMED, load_value_sets
from cds_service.pathway.facts import Side

SWELLING_LEFT = {"system": ICD10CM, "code": "R22.42"}
DVT_LEFT = {"system": ICD10CM, "code": "I82.412"}


def test_unreadable_resource_types_are_copied(fhir, facts_of):
    facts = facts_of(unreadable={"Observation", "MedicationRequest"})
    assert facts.unreadable == frozenset({"Observation", "MedicationRequest"})
    assert not facts.known("Observation") and facts.known("Condition")


def test_patient_reference_and_gender(fhir, facts_of):
    facts = facts_of()
    assert facts.patient_ref == f"Patient/{fhir.PATIENT_ID}" and facts.gender == "female"
    assert facts.now == fhir.NOW
    assert facts_of(patient={}).patient_ref == "Patient"  # no id: the bare type, never a made-up id


def test_an_empty_record_has_no_facts(facts_of):
    facts = facts_of()
    assert all(value == [] for value in vars(facts).values() if isinstance(value, list))


def test_invalid_resources_are_skipped_without_failing(fhir, facts_of, caplog):
    valid = fhir.condition(SWELLING_LEFT, id="ok")
    extra_field = fhir.condition(DVT_LEFT, id="bad-1", notAFhirElement=True)
    naive_time = fhir.condition(DVT_LEFT, id="bad-2", onset="2025-02-01T10:00:00")  # dateTime with a time needs a zone
    no_subject = {k: v for k, v in fhir.condition(DVT_LEFT, id="bad-3").items() if k != "subject"}
    bad_observation = fhir.observation({"system": LOINC, "code": "777-3"}, id="bad-4", value_quantity={"value": "many"})
    with caplog.at_level(logging.WARNING):
        facts = facts_of(valid, extra_field, naive_time, no_subject, bad_observation)
    assert [s.evidence.ref for s in facts.swellings] == ["Condition/ok"]
    assert facts.dvt_diagnoses == [] and facts.platelets == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 4 and all("Condition" in w or "Observation" in w for w in warnings)


def test_skipped_resources_are_noted_on_the_record(fhir, value_sets):
    record = fhir.record(fhir.condition(DVT_LEFT, notAFhirElement=True))
    extract_facts(record, fhir.NOW, value_sets)
    extract_facts(record, fhir.NOW, value_sets)
    assert record.notes == ["Some Condition resources were not valid FHIR R4 and were skipped."]


def test_logs_never_name_the_patient_or_the_resource(fhir, facts_of, caplog):
    secret = fhir.condition(DVT_LEFT, id="cond-secret-99", text="Mrs Example's DVT", notAFhirElement=True)
    with caplog.at_level(logging.DEBUG):
        facts_of(secret)
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert logged  # the skip was logged...
    for private in (fhir.PATIENT_ID, "cond-secret-99", "Mrs Example", "notAFhirElement"):
        assert private not in logged  # ...without ids or content


def test_garbage_entries_do_not_fail_the_request(fhir, value_sets):
    record = fhir.record(fhir.condition(SWELLING_LEFT, id="ok"))
    record.resources["Condition"] += [None, "text", 42, {"resourceType": "Observation", "id": "misfiled"},
                                      {"resourceType": "Condition"}]
    record.resources["Observation"] = [{"no": "type"}]
    facts = extract_facts(record, fhir.NOW, value_sets)
    assert [s.evidence.ref for s in facts.swellings] == ["Condition/ok"]


def test_resource_without_an_id_is_still_read_and_cited_by_its_type(fhir, facts_of):
    resource = fhir.condition(SWELLING_LEFT)
    del resource["id"]
    assert [s.evidence.ref for s in facts_of(resource).swellings] == ["Condition"]


def test_irrelevant_observations_are_cheap_and_never_validated(fhir, value_sets, monkeypatch):
    validated: list[str] = []
    original = fhir_json.Validator.is_valid

    def counting(self, resource):
        validated.append(resource.get("resourceType"))
        return original(self, resource)

    monkeypatch.setattr(fhir_json.Validator, "is_valid", counting)
    noise = [fhir.observation({"system": LOINC, "code": "2345-7"}, value_quantity=fhir.quantity(5.4, "mmol/L"))
             for _ in range(5000)]
    relevant = fhir.observation({"system": LOINC, "code": "777-3"}, value_quantity=fhir.quantity(30, "10*3/uL"))
    record = fhir.record(*noise, relevant)
    started = time.perf_counter()
    facts = extract_facts(record, fhir.NOW, value_sets)
    elapsed = time.perf_counter() - started
    assert [m.value for m in facts.platelets] == [30.0]
    assert validated == ["Observation"]  # only the one that passed the code filter
    assert elapsed < 1.0


def test_site_codes_from_a_local_value_set_file_are_read(fhir, facts_of, tmp_path):
    extra = tmp_path / "site.json"
    extra.write_text(json.dumps({"valueSets": [
        {"id": "leg-swelling", "codes": [{"system": "urn:oid:1.2.3.4", "code": "LEG-SWELL-L"}]},
        {"id": "side-left", "codes": [{"system": "urn:oid:1.2.3.4", "code": "LEG-SWELL-L"}]},
        {"id": "bleeding", "codes": [{"system": SNOMED, "code": "131148009"}]},
    ]}))
    resources = (fhir.condition({"system": "urn:oid:1.2.3.4", "code": "LEG-SWELL-L"}),
                 fhir.condition({"system": SNOMED, "code": "131148009"}))
    assert facts_of(*resources).swellings == []
    facts = facts_of(*resources, value_sets_=load_value_sets(extra))
    assert [s.side for s in facts.swellings] == [Side.LEFT]
    assert len(facts.bleeding) == 1


def test_every_list_is_sorted_newest_first_with_undated_last(fhir, facts_of):
    facts = facts_of(
        fhir.condition({"system": SNOMED, "code": "74474003"}, id="b1", onset="2024-01-01"),
        fhir.condition({"system": SNOMED, "code": "74474003"}, id="b2", onset=None),
        fhir.condition({"system": SNOMED, "code": "74474003"}, id="b3", onset="2025-01-01"),
    )
    assert [b.evidence.ref for b in facts.bleeding] == ["Condition/b3", "Condition/b1", "Condition/b2"]


def test_no_time_window_is_applied(fhir, facts_of):
    old = fhir.condition(DVT_LEFT, onset="2001-05-05")
    future = fhir.observation({"system": LOINC, "code": "777-3"}, value_quantity=fhir.quantity(200, "10*3/uL"),
                              effective="2031-01-01T00:00:00Z")
    facts = facts_of(old, future)
    assert len(facts.dvt_diagnoses) == 1 and len(facts.platelets) == 1


@pytest.mark.parametrize("text, expected", [
    ("2025-02-01", datetime(2025, 2, 1, tzinfo=timezone.utc)),
    ("2025-02", datetime(2025, 2, 1, tzinfo=timezone.utc)),
    ("2025", datetime(2025, 1, 1, tzinfo=timezone.utc)),
    ("2025-02-01T10:00:00Z", datetime(2025, 2, 1, 10, 0, tzinfo=timezone.utc)),
    ("2025-02-01T10:00:00-05:00", datetime(2025, 2, 1, 15, 0, tzinfo=timezone.utc)),
    ("2025-02-01T10:00:00", datetime(2025, 2, 1, 10, 0, tzinfo=timezone.utc)),
    ("2025-02-01T10:00:00.123+00:00", datetime(2025, 2, 1, 10, 0, 0, 123000, tzinfo=timezone.utc)),
    ("yesterday", None), ("2025-13-01", None), ("", None), (None, None), (20250201, None),
])
def test_lenient_dates(text, expected):
    assert parse_fhir_datetime(text) == expected


@pytest.mark.parametrize("sides, expected", [
    ([Side.LEFT, Side.RIGHT], Side.BOTH), ([Side.LEFT, Side.LEFT], Side.LEFT), ([Side.LEFT, Side.UNKNOWN], Side.LEFT),
    ([Side.RIGHT, Side.BOTH], Side.BOTH), ([Side.UNKNOWN], Side.UNKNOWN), ([], Side.UNKNOWN),
])
def test_combining_sides(sides, expected):
    assert fhir_json.combine_sides(sides) is expected


def test_a_left_and_a_right_swelling_stay_two_facts_for_the_pathway_to_combine(fhir, facts_of):
    facts = facts_of(fhir.condition({"system": ICD10CM, "code": "R22.42"}),
                     fhir.condition({"system": ICD10CM, "code": "R22.41"}))
    assert sorted(s.side.value for s in facts.swellings) == ["left", "right"]
    assert fhir_json.combine_sides(s.side for s in facts.swellings) is Side.BOTH


def test_sloppy_codings_never_raise(fhir, value_sets):
    sloppy = [
        {"coding": [{"system": ICD10CM, "code": 42}]},
        {"coding": [{"system": 7, "code": "R22.42"}, {"system": ICD10CM, "code": ["R22.42"]}]},
        {"coding": {"system": ICD10CM, "code": "R22.42"}},
        {"coding": ["R22.42", None]},
        "R22.42",
    ]
    record = fhir.record(*[{"resourceType": "Condition", "id": f"s{i}", "code": code} for i, code in enumerate(sloppy)],
                         *[{"resourceType": "Observation", "id": f"o{i}", "status": "final", "code": code}
                           for i, code in enumerate(sloppy)],
                         *[fhir.medication_request(code) for code in sloppy if isinstance(code, dict)])
    facts = extract_facts(record, fhir.NOW, value_sets)
    assert facts.swellings == [] and facts.medications == []



JUNK = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5),
                 st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def _representative_record(fhir) -> list[dict]:
    sct = lambda code: {"system": SNOMED, "code": code}  # noqa: E731
    local = fhir.local
    return [
        fhir.condition(SWELLING_LEFT, severity={"coding": [sct("24484000")]}, body_site=[{"coding": [sct("32153003")]}]),
        fhir.condition(sct("74285003"), id="mass"),
        fhir.condition({"system": ICD10CM, "code": "C85.90"}, evidence_detail=["Condition/mass"]),
        fhir.condition({"system": ICD10CM, "code": "I87.1"}, text="May-Thurner"),
        fhir.observation(local("venous-duplex-result"), value_concept={"coding": [local("thrombus-absent")]},
                         method={"coding": [local("whole-leg")]}),
        fhir.observation({"system": LOINC, "code": "85354-9"}, components=[
            {"code": {"coding": [{"system": LOINC, "code": "8480-6"}]}, "valueQuantity": fhir.quantity(80, "mm[Hg]")}]),
        fhir.observation(local("mass-nature"), focus=["Condition/mass"], value_concept={"coding": [local("abscess")]}),
        fhir.report({"system": LOINC, "code": "39432-0"}, conclusion=[local("thrombus-present")]),
        fhir.imaging_study(fhir.cpt("74174"), series_modality="CT", series_laterality=sct("7771000")),
        fhir.procedure(fhir.cpt("37238"), text="left CIV stent", body_site=[{"coding": [sct("46027005")]}]),
        fhir.medication_request(reference="#m", contained=[fhir.medication(fhir.rxnorm("67108"), id="m")],
                                dosages=[fhir.dosage(dose=80, frequency=2, period=1, period_unit="d")],
                                reason=[{"coding": [sct("128053003")]}], reason_reference=["Condition/mass"]),
    ]


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, prefix + (index,))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_sloppy_json_anywhere_never_fails_the_request(fhir, value_sets, data):
    resources = copy.deepcopy(_representative_record(fhir))  # builders share constants: never mutate them
    for _ in range(data.draw(st.integers(min_value=1, max_value=6))):
        resource = data.draw(st.sampled_from(resources))
        path = data.draw(st.sampled_from([p for p in _paths(resource) if p and p[0] != "resourceType"]))
        target = resource
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = data.draw(JUNK)
    facts = extract_facts(fhir.record(*resources), fhir.NOW, value_sets)
    assert facts.patient_ref == f"Patient/{fhir.PATIENT_ID}"
