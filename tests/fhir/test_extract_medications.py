"""Current therapy: MedicationRequest / MedicationStatement → Medication facts (DATA-CONTRACT "Medications")."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from cds_service.fhir.valuesets import ICD10CM, RXNORM, SNOMED, load_value_sets
from cds_service.pathway.facts import DrugClass


def rx(code: str, display: str | None = None) -> dict:
    found = {"system": RXNORM, "code": code}
    if display:
        found["display"] = display
    return found


def med(*codings: dict, text: str | None = None) -> dict:
    found: dict = {}
    if codings:
        found["coding"] = list(codings)
    if text:
        found["text"] = text
    return found


@pytest.mark.parametrize("code, drug_class, ingredient", [
    ("67108", DrugClass.LMWH, "enoxaparin"), ("67109", DrugClass.LMWH, "dalteparin"), ("69646", DrugClass.LMWH, "tinzaparin"),
    ("5224", DrugClass.ANTICOAGULANT, "heparin"), ("321208", DrugClass.ANTICOAGULANT, "fondaparinux"),
    ("1364430", DrugClass.ANTICOAGULANT, "apixaban"), ("1114195", DrugClass.ANTICOAGULANT, "rivaroxaban"),
    ("11289", DrugClass.ANTICOAGULANT, "warfarin"), ("1191", DrugClass.ANTIPLATELET, "aspirin"),
    ("32968", DrugClass.ANTIPLATELET, "clopidogrel"), ("8410", DrugClass.THROMBOLYTIC, "alteplase"),
    ("259280", DrugClass.THROMBOLYTIC, "tenecteplase"), ("76895", DrugClass.THROMBOLYTIC, "reteplase"),
    ("11055", DrugClass.THROMBOLYTIC, "urokinase"), ("10106", DrugClass.THROMBOLYTIC, "streptokinase"),
    ("17767", DrugClass.EDEMA_CAUSING, "amlodipine"), ("7417", DrugClass.EDEMA_CAUSING, "nifedipine"),
    ("4316", DrugClass.EDEMA_CAUSING, "felodipine"),
])
def test_ingredient_by_rxnorm_code(fhir, facts_of, code, drug_class, ingredient):
    request = fhir.medication_request(med(rx(code)))
    assert [(m.drug_class, m.ingredient, m.evidence.ref) for m in facts_of(request).medications] == [
        (drug_class, ingredient, f"MedicationRequest/{request['id']}")]


@pytest.mark.parametrize("text, drug_class, ingredient", [
    ("Enoxaparin sodium 80 mg/0.8 mL prefilled syringe", DrugClass.LMWH, "enoxaparin"),
    ("FRAGMIN (dalteparin) 10000 IU", DrugClass.LMWH, "dalteparin"),
    ("dabigatran etexilate 150 MG Oral Capsule", DrugClass.ANTICOAGULANT, "dabigatran"),
    ("Edoxaban 60 mg", DrugClass.ANTICOAGULANT, "edoxaban"),
    ("ARGATROBAN infusion", DrugClass.ANTICOAGULANT, "argatroban"),
    ("bivalirudin 250 mg", DrugClass.ANTICOAGULANT, "bivalirudin"),
    ("Prasugrel 10 mg", DrugClass.ANTIPLATELET, "prasugrel"),
    ("ticagrelor 90 mg tablet", DrugClass.ANTIPLATELET, "ticagrelor"),
    ("Norepinephrine 4 mg in 250 mL", DrugClass.VASOPRESSOR, "norepinephrine"),
    ("EPINEPHrine 1 mg/mL", DrugClass.VASOPRESSOR, "epinephrine"),
    ("vasopressin 20 units/100 mL", DrugClass.VASOPRESSOR, "vasopressin"),
    ("phenylephrine 10 mg/mL", DrugClass.VASOPRESSOR, "phenylephrine"),
    ("dopamine 400 mg/250 mL", DrugClass.VASOPRESSOR, "dopamine"),
    ("Heparin sodium 25,000 units in 250 mL D5W", DrugClass.ANTICOAGULANT, "heparin"),
])
def test_ingredient_by_name_in_the_text(fhir, facts_of, text, drug_class, ingredient):
    facts = facts_of(fhir.medication_request(med(text=text)))
    assert [(m.drug_class, m.ingredient) for m in facts.medications] == [(drug_class, ingredient)]


def test_ingredient_by_name_in_a_coding_display(fhir, facts_of):
    product = med({"system": "urn:local:formulary", "code": "F-1", "display": "Apixaban 5 MG Oral Tablet"})
    assert [m.ingredient for m in facts_of(fhir.medication_request(product)).medications] == ["apixaban"]


def test_names_match_as_whole_words_only(fhir, facts_of):
    # "norepinephrine" is not "epinephrine"; "heparinoid" is not heparin
    facts = facts_of(fhir.medication_request(med(text="Norepinephrine infusion")),
                     fhir.medication_request(med(text="Heparinoid cream")))
    assert [m.ingredient for m in facts.medications] == ["norepinephrine"]


def test_enoxaparin_described_as_a_heparin_is_lmwh_only(fhir, facts_of):
    product = med(text="Enoxaparin (low molecular weight heparin) 40 mg")
    assert [(m.drug_class, m.ingredient) for m in facts_of(fhir.medication_request(product)).medications] == [
        (DrugClass.LMWH, "enoxaparin")]


def test_lmwh_named_by_class_only_is_lmwh_of_unknown_ingredient(fhir, facts_of):
    product = med(text="LMWH per protocol")
    assert [(m.drug_class, m.ingredient) for m in facts_of(fhir.medication_request(product)).medications] == [
        (DrugClass.LMWH, "lmwh")]


@pytest.mark.parametrize("text", ["Heparin lock flush 100 units/mL", "HEPARIN LOCK 10 units/mL", "heparin flush",
                                  "Heparin 5,000 units/5 mL catheter lock"])
def test_flush_and_lock_are_never_therapy(fhir, facts_of, text):
    assert facts_of(fhir.medication_request(med(rx("5224"), text=text))).medications == []


def test_a_blocker_is_not_a_lock(fhir, facts_of):
    facts = facts_of(fhir.medication_request(med(text="amlodipine (calcium channel blocker) 10 mg")))
    assert [m.ingredient for m in facts.medications] == ["amlodipine"]


def test_unrelated_drugs_are_not_facts(fhir, facts_of):
    assert facts_of(fhir.medication_request(med(rx("197361", "lisinopril 10 MG"), text="Lisinopril"))).medications == []


# ---------------------------------------------------------------- status and sources

@pytest.mark.parametrize("status, count", [("active", 1), ("completed", 0), ("stopped", 0), ("on-hold", 0),
                                           ("draft", 0), ("entered-in-error", 0), ("cancelled", 0)])
def test_only_active_requests_are_current_therapy(fhir, facts_of, status, count):
    assert len(facts_of(fhir.medication_request(med(rx("1364430")), status=status)).medications) == count


@pytest.mark.parametrize("status, count", [("active", 1), ("completed", 0), ("stopped", 0), ("intended", 0)])
def test_only_active_statements_are_current_therapy(fhir, facts_of, status, count):
    statement = fhir.medication_statement(med(rx("11289")), status=status)
    found = facts_of(statement).medications
    assert len(found) == count
    if count:
        assert found[0].evidence.when == datetime(2025, 1, 5, tzinfo=timezone.utc)


def test_contained_medication(fhir, facts_of):
    contained = fhir.medication(rx("67108"), id="enox", text="Enoxaparin 100 mg/mL")
    request = fhir.medication_request(reference="#enox", contained=[contained])
    assert [(m.ingredient, m.evidence.display) for m in facts_of(request).medications] == [
        ("enoxaparin", "Enoxaparin 100 mg/mL")]


def test_medication_in_the_record(fhir, facts_of):
    product = fhir.medication({"system": RXNORM, "code": "854238", "display": "0.6 ML enoxaparin sodium 100 MG/ML"},
                              id="m-1")
    request = fhir.medication_request(reference="Medication/m-1")
    assert [m.ingredient for m in facts_of(request, product).medications] == ["enoxaparin"]


def test_medication_ingredient_codes(fhir, facts_of):
    product = fhir.medication({"system": "urn:local", "code": "XYZ"}, id="m-2", ingredient=[rx("1114195")])
    request = fhir.medication_request(reference="Medication/m-2")
    assert [m.ingredient for m in facts_of(request, product).medications] == ["rivaroxaban"]


def test_reference_display_when_the_medication_cannot_be_found(fhir, facts_of):
    request = fhir.medication_request(reference="Medication/absent", reference_display="Warfarin 5 mg tablet")
    assert [m.ingredient for m in facts_of(request).medications] == ["warfarin"]


def test_a_site_code_in_a_class_value_set_matches_by_code(fhir, facts_of, tmp_path):
    extra = tmp_path / "site.json"
    extra.write_text(json.dumps({"valueSets": [{"id": "medication-vasopressor",
                                                "codes": [{"system": RXNORM, "code": "7512"}]}]}))
    request = fhir.medication_request(med(rx("7512")))
    assert facts_of(request).medications == []
    found = facts_of(request, value_sets_=load_value_sets(extra)).medications
    assert [(m.drug_class, m.ingredient) for m in found] == [(DrugClass.VASOPRESSOR, "")]


# ---------------------------------------------------------------- dose, frequency, route, reasons

@pytest.mark.parametrize("kwargs, per_day", [
    ({"frequency": 2, "period": 1, "period_unit": "d"}, 2.0),
    ({"frequency": 1, "period": 12, "period_unit": "h"}, 2.0),
    ({"period": 12, "period_unit": "h"}, 2.0),
    ({"frequency": 1, "period": 1, "period_unit": "d"}, 1.0),
    ({"frequency": 1, "period": 24, "period_unit": "h"}, 1.0),
    ({"frequency": 3, "period": 1, "period_unit": "d"}, 3.0),
    ({"timing_code": "BID"}, 2.0),
    ({"timing_code": "Q12H"}, 2.0),
    ({"timing_code": "QD"}, 1.0),
    ({"timing_code": "Q24H"}, 1.0),
    ({"frequency": 2}, None),  # a frequency without a period is unknown
    ({}, None),
])
def test_administrations_per_day(fhir, facts_of, kwargs, per_day):
    request = fhir.medication_request(med(rx("67108")), dosages=[fhir.dosage(dose=80, **kwargs)])
    assert [m.per_day for m in facts_of(request).medications] == [per_day]


def test_dose_keeps_its_unit(fhir, facts_of):
    request = fhir.medication_request(med(rx("67109")), dosages=[fhir.dosage(dose=18000, unit="[iU]")])
    assert [(m.dose, m.dose_unit) for m in facts_of(request).medications] == [(18000.0, "[iU]")]


def test_dose_without_a_number_is_unknown(fhir, facts_of):
    request = fhir.medication_request(med(rx("67108")), dosages=[{"doseAndRate": [{"doseQuantity": {"unit": "mg"}}]}])
    assert [(m.dose, m.dose_unit) for m in facts_of(request).medications] == [(None, "mg")]
    no_dosage = fhir.medication_request(med(rx("67108")))
    assert [(m.dose, m.per_day) for m in facts_of(no_dosage).medications] == [(None, None)]


def test_only_the_first_dosage_is_read(fhir, facts_of):
    request = fhir.medication_request(med(rx("67108")), dosages=[fhir.dosage(dose=80), fhir.dosage(dose=40)])
    assert [m.dose for m in facts_of(request).medications] == [80.0]


@pytest.mark.parametrize("route, expected", [
    ({"coding": [{"system": SNOMED, "code": "34206005", "display": "Subcutaneous route"}], "text": "Subcutaneous"},
     "subcutaneous"),
    ({"coding": [{"system": SNOMED, "code": "47625008"}]}, "intravenous"),
    ({"coding": [{"system": "urn:x", "code": "IV", "display": "Intravenous"}]}, "intravenous"),
])
def test_route(fhir, facts_of, route, expected):
    request = fhir.medication_request(med(rx("67108")), dosages=[fhir.dosage(dose=80, route=route)])
    assert [m.route for m in facts_of(request).medications] == [expected]


def test_heparin_infusion_is_flagged(fhir, facts_of):
    iv = {"coding": [{"system": SNOMED, "code": "47625008"}]}
    by_rate = fhir.medication_request(med(rx("5224")), dosages=[fhir.dosage(route=iv, rate={"value": 18, "unit": "[iU]/kg/h"})])
    by_text = fhir.medication_request(med(rx("5224")), dosages=[fhir.dosage(route=iv, text="continuous infusion per protocol")])
    bolus = fhir.medication_request(med(rx("5224")), dosages=[fhir.dosage(dose=5000, unit="[iU]", route=iv)])
    facts = facts_of(by_rate, by_text, bolus)
    assert {m.evidence.ref: m.is_infusion for m in facts.medications} == {
        f"MedicationRequest/{by_rate['id']}": True, f"MedicationRequest/{by_text['id']}": True,
        f"MedicationRequest/{bolus['id']}": False}


def test_reason_codes_and_text(fhir, facts_of):
    af = fhir.condition({"system": ICD10CM, "code": "I48.91"}, id="af", text="Atrial fibrillation")
    request = fhir.medication_request(
        med(rx("1364430")),
        reason=[{"coding": [{"system": SNOMED, "code": "49436004", "display": "Atrial fibrillation"}]},
                {"text": "venous stent"}],
        reason_reference=["Condition/af"],
    )
    [found] = facts_of(request, af).medications
    assert found.reason_codes == (f"{SNOMED}|49436004", f"{ICD10CM}|I48.91")
    assert found.reason_text == "Atrial fibrillation; venous stent"


def test_combination_product_yields_each_ingredient(fhir, facts_of):
    facts = facts_of(fhir.medication_request(med(text="aspirin / clopidogrel")))
    assert sorted(m.ingredient for m in facts.medications) == ["aspirin", "clopidogrel"]
