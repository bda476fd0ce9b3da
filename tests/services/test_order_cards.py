"""order-select and order-sign: which orders get cards, the cards themselves, and their fixes.

HookCalls are built directly from small FHIR R4 JSON records; updated resources are validated
with fhir.resources (R4B)."""
from __future__ import annotations

import copy
import dataclasses
from datetime import datetime, timezone

import pytest
from fhir.resources.R4B.devicerequest import DeviceRequest
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest

from cds_service.fhir.record import PatientRecord
from cds_service.fhir.valuesets import CPT, ICD10CM, LOCAL, LOINC, RXNORM, SNOMED, UCUM, load_value_sets
from cds_service.pathway.settings import PathwaySettings
from cds_service.pipeline import clinical_cards as run_service
from cds_service.protocol.cards import RULES_SYSTEM, response_json
from cds_service.services import order_select, order_sign
from cds_service.services.base import PATIENT_PREFETCH, HookCall

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
PATIENT_ID = "pt-private-8812"
PATIENT = {"resourceType": "Patient", "id": PATIENT_ID, "gender": "female", "name": [{"family": "Okonkwo-Lindqvist"}]}
SUBJECT = {"reference": f"Patient/{PATIENT_ID}"}
EVERY_TYPE = {"Patient", "Condition", "Observation", "ImagingStudy", "DiagnosticReport", "Procedure",
              "MedicationRequest", "MedicationStatement"}
VALUE_SETS = load_value_sets()


def rule_url(rule_id: str) -> str:
    return f"https://cds.example.test/rules/{rule_id}"


def cc(*codings, text=None) -> dict:
    found = {"coding": [{"system": s, "code": c} for s, c in codings]}
    if text:
        found["text"] = text
    return found


def condition(id, *codings, severity=None, body_site=None, recorded="2026-10-05") -> dict:
    resource = {
        "resourceType": "Condition", "id": id, "subject": SUBJECT, "code": cc(*codings), "recordedDate": recorded,
        "clinicalStatus": cc(("http://terminology.hl7.org/CodeSystem/condition-clinical", "active")),
        "verificationStatus": cc(("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed")),
    }
    if severity:
        resource["severity"] = cc((SNOMED, severity))
    if body_site:
        resource["bodySite"] = [cc((SNOMED, body_site))]
    return resource


def observation(id, code, *, quantity=None, concept=None, when="2026-11-10T11:00:00Z", method=None, body_site=None) -> dict:
    resource = {"resourceType": "Observation", "id": id, "status": "final", "subject": SUBJECT, "code": cc(code),
                "effectiveDateTime": when}
    if quantity:
        value, unit = quantity
        resource["valueQuantity"] = {"value": value, "unit": unit, "system": UCUM, "code": unit}
    if concept:
        resource["valueCodeableConcept"] = cc(concept)
    if method:
        resource["method"] = cc(method)
    if body_site:
        resource["bodySite"] = cc((SNOMED, body_site))
    return resource


def labs() -> list[dict]:
    return [
        observation("weight", (LOINC, "29463-7"), quantity=(80, "kg"), when="2026-11-25T08:00:00Z"),
        observation("egfr", (LOINC, "98979-8"), quantity=(88, "mL/min/{1.73_m2}"), when="2026-11-26T08:00:00Z"),
        observation("plt", (LOINC, "777-3"), quantity=(245, "10*3/uL"), when="2026-11-26T08:00:00Z"),
    ]


SWELLING = condition("swelling", (SNOMED, "102572006"), (ICD10CM, "R22.42"), severity="24484000", body_site="32153003")


def clean_nivl() -> list[dict]:
    """Severe left swelling, negative whole-leg duplex and pelvic CT venography, IVUS 75 % fixed, EIV 12 mm."""
    return [
        SWELLING,
        condition("may-thurner", (ICD10CM, "I87.1"), (LOCAL, "may-thurner"), body_site="46027005"),
        observation("duplex", (LOCAL, "venous-duplex-result"), concept=(LOCAL, "thrombus-absent"),
                    method=(LOCAL, "whole-leg"), when="2026-10-08T09:00:00Z", body_site="32153003"),
        observation("ctv", (LOCAL, "pelvic-venography-result"), concept=(LOCAL, "thrombus-absent"),
                    method=(LOCAL, "ct-venography"), when="2026-10-15T14:00:00Z"),
        observation("ivus", (LOCAL, "ivus-diameter-stenosis"), quantity=(75, "%"), method=(SNOMED, "241466007")),
        observation("eiv", (LOCAL, "eiv-reference-diameter"), quantity=(12, "mm"), method=(SNOMED, "241466007")),
        observation("behavior", (LOCAL, "lesion-behavior"), concept=(LOCAL, "fixed")),
        *labs(),
    ]


def no_ivus() -> list[dict]:
    return [r for r in clean_nivl() if r["id"] not in ("ivus", "eiv", "behavior")]


def confirmed_dvt() -> list[dict]:
    dvt = condition("dvt", (ICD10CM, "I82.412"), recorded="2026-11-24")
    return [SWELLING, dvt, *labs()]


def record(resources, unreadable=()) -> PatientRecord:
    by_type: dict[str, list[dict]] = {}
    for resource in resources:
        by_type.setdefault(resource["resourceType"], []).append(resource)
    notes = [f"{t} could not be read (fhir-server-unavailable)" for t in sorted(unreadable)]
    return PatientRecord(patient=None if "Patient" in unreadable else PATIENT, resources=by_type,
                         unreadable=set(unreadable), notes=notes)


def parameter(code, value, unit) -> dict:
    return {"code": cc((SNOMED, code)), "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}}


def stent_device(length=(50, "mm"), diameter=(14, "mm"), id="stent", **extra) -> dict:
    resource = {
        "resourceType": "DeviceRequest", "id": id, "status": "draft", "intent": "order", "subject": SUBJECT,
        "codeCodeableConcept": {"coding": [{"system": LOCAL, "code": "venous-stent", "display": "Iliac venous stent"}],
                                "text": "Self-expanding venous stent, left common iliac vein"},
        "parameter": [parameter("408706001", *diameter)] + ([parameter("408703009", *length)] if length else []),
    }
    resource.update(extra)
    return resource


def text_stent(text="Left CIV stent 14x50mm", id="text-stent") -> dict:
    return {"resourceType": "DeviceRequest", "id": id, "status": "draft", "intent": "order", "subject": SUBJECT,
            "codeCodeableConcept": {"text": text}, "note": [{"text": "Vascular team, Tuesday list"}]}


def stent_procedure(id="stent-procedure") -> dict:
    return {"resourceType": "ServiceRequest", "id": id, "status": "draft", "intent": "order", "subject": SUBJECT,
            "code": {"coding": [{"system": CPT, "code": "37238"}], "text": "Left common iliac vein stent placement"},
            "bodySite": [cc((SNOMED, "46027005"))]}


def ivus_order() -> dict:
    return {"resourceType": "ServiceRequest", "id": "ivus", "status": "draft", "intent": "order", "subject": SUBJECT,
            "code": {"coding": [{"system": CPT, "code": "37252"}], "text": "Venography with IVUS"}}


def ivc_filter() -> dict:
    return {"resourceType": "DeviceRequest", "id": "filter", "status": "draft", "intent": "order", "subject": SUBJECT,
            "codeCodeableConcept": cc((SNOMED, "257409000"), text="Retrievable IVC filter")}


def medication_order(id, medication, value, unit="mg", timing=None) -> dict:
    dosage = {"doseAndRate": [{"doseQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}}],
              "route": cc((SNOMED, "34206005")), "text": f"{value} {unit}"}
    if timing:
        dosage["timing"] = timing
    return {"resourceType": "MedicationRequest", "id": id, "status": "draft", "intent": "order", "subject": SUBJECT,
            "medicationCodeableConcept": medication, "dosageInstruction": [dosage]}


PARACETAMOL = medication_order("paracetamol", {"text": "Paracetamol 1 g tablet"}, 1, "g")
TWICE_DAILY = {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}}


def call(hook, resources, drafts, selections=(), unreadable=()) -> HookCall:
    service = order_select if hook == "order-select" else order_sign
    return HookCall(
        service_id=service.SERVICE.id, hook=hook, hook_instance="d1f6f8a0-0000-4000-8000-000000000001",
        context={"patientId": PATIENT_ID, "userId": "Practitioner/x"}, record=record(resources, unreadable), now=NOW,
        rule_url=rule_url, value_sets=VALUE_SETS, draft_orders=[copy.deepcopy(d) for d in drafts],
        selections=list(selections),
    )


def sign(resources, drafts, unreadable=()):
    return run_service(order_sign.SERVICE, call("order-sign", resources, drafts, unreadable=unreadable))


def select(resources, drafts, selections):
    return run_service(order_select.SERVICE, call("order-select", resources, drafts, selections))


def by_rule(cards) -> dict:
    return {card.rule_id: card for card in cards}


def update_of(card) -> dict:
    (suggestion,) = card.suggestions
    (action,) = suggestion.actions
    assert action.type == "update"
    return action.resource


def differences(before, after, path=()) -> list[tuple]:
    """Every path at which two JSON values differ."""
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted(set(before) | set(after)):
            found += differences(before.get(key), after.get(key), path + (key,))
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [d for i, (b, a) in enumerate(zip(before, after)) for d in differences(b, a, path + (i,))]
    return [] if before == after else [path]


# -- which orders get cards ------------------------------------------------------------------------
def test_order_select_comments_on_the_selected_stent():
    cards = select(clean_nivl(), [stent_device(), PARACETAMOL], ["DeviceRequest/stent"])
    assert [(c.rule_id, c.indicator) for c in cards] == [("STENT-LENGTH", "critical")]


def test_order_select_is_silent_when_the_stent_is_not_selected():
    assert select(clean_nivl(), [stent_device(), PARACETAMOL], ["MedicationRequest/paracetamol"]) == []


def test_order_select_counts_an_unselected_ivus_of_the_draft_set():
    drafts = [stent_device(length=(60, "mm")), ivus_order()]
    assert select(no_ivus(), drafts, ["DeviceRequest/stent"]) == []
    assert by_rule(select(no_ivus(), [stent_device(length=(60, "mm"))], ["DeviceRequest/stent"]))["STENT-IVUS-REQUIRED"]


def test_order_sign_comments_on_every_order_critical_first():
    cards = sign(confirmed_dvt(), [ivc_filter(), stent_device()])
    assert {c.rule_id for c in cards} == {"STENT-LENGTH", "STENT-IVUS-REQUIRED", "STENT-DVT-NOT-EXCLUDED",
                                          "IVC-FILTER-NOT-INDICATED"}
    ranks = [("critical", "warning", "info").index(c.indicator) for c in cards]
    assert ranks == sorted(ranks)
    assert [c.rule_id for c in cards][:2] == ["STENT-LENGTH", "STENT-IVUS-REQUIRED"]  # RULES.md order within critical


def test_order_sign_is_silent_for_a_correct_stent():
    assert sign(clean_nivl(), [stent_device(length=(6, "cm"))]) == []


# -- STENT-LENGTH update: the same order at 60 mm, nothing else changed --------------------------------------
def test_stent_length_update_changes_only_the_length_parameter():
    draft = stent_device(length=(5.9, "cm"))
    card = by_rule(sign(clean_nivl(), [draft]))["STENT-LENGTH"]
    updated = update_of(card)
    assert differences(draft, updated) == [("parameter", 1, "valueQuantity", "code"),
                                           ("parameter", 1, "valueQuantity", "unit"),
                                           ("parameter", 1, "valueQuantity", "value")]
    assert updated["parameter"][1]["valueQuantity"] == {"value": 60, "unit": "mm", "system": UCUM, "code": "mm"}
    DeviceRequest.model_validate(updated)


def test_stent_length_update_of_a_text_only_order_changes_only_the_text():
    draft = text_stent("Left CIV stent 14x50mm")
    updated = update_of(by_rule(sign(clean_nivl(), [draft]))["STENT-LENGTH"])
    assert differences(draft, updated) == [("codeCodeableConcept", "text")]
    assert updated["codeCodeableConcept"]["text"] == "Left CIV stent 14x60mm"
    DeviceRequest.model_validate(updated)


def test_stent_length_of_a_procedure_updates_its_device():
    device = stent_device(basedOn=[{"reference": "ServiceRequest/stent-procedure"}])
    cards = sign(clean_nivl(), [stent_procedure(), device])
    assert [c.rule_id for c in cards] == ["STENT-LENGTH"]  # one stent, one card
    card = cards[0]
    assert "stent device order based on this procedure" in card.detail  # R2: named in words, no ids
    assert "ServiceRequest/stent-procedure" not in card.detail and "DeviceRequest/stent" not in card.detail
    updated = update_of(card)
    assert updated["resourceType"] == "DeviceRequest" and updated["id"] == "stent"
    assert differences(device, updated) == [("parameter", 1, "valueQuantity", "value")]
    DeviceRequest.model_validate(updated)
    ServiceRequest.model_validate(stent_procedure())


def test_stent_diameter_update_to_the_nearest_diameter_in_range():
    draft = stent_device(length=(60, "mm"), diameter=(17, "mm"))
    card = by_rule(sign(clean_nivl(), [draft]))["STENT-DIAMETER"]
    updated = update_of(card)
    assert differences(draft, updated) == [("parameter", 0, "valueQuantity", "value")]
    assert updated["parameter"][0]["valueQuantity"]["value"] == 16
    assert "13-16 mm" in card.summary and "17 mm" in card.summary
    DeviceRequest.model_validate(updated)


# -- CKD stage codes (DATA-CONTRACT advanced renal disease, R2) -----------------------------------------------
@pytest.mark.parametrize("code, other_cause", [("433144002", False), ("431857002", True), ("433146000", True)])
def test_ckd_stage_3_is_not_advanced_renal_disease_for_a_stent_order(code, other_cause):
    """SNOMED 433144002 is CKD stage 3 (not another edema cause); 431857002 is stage 4, 433146000 stage 5."""
    ckd = condition("ckd", (SNOMED, code))
    cards = by_rule(sign(clean_nivl() + [ckd], [stent_device(length=(60, "mm"), diameter=(14, "mm"))]))
    assert ("STENT-OTHER-CAUSES" in cards) is other_cause


# -- corrections to one order travel together (RULES "Card text (R2)") --------------------------------------
def test_length_and_diameter_updates_each_carry_both_corrections():
    draft = stent_device(length=(50, "mm"), diameter=(20, "mm"))  # reference 12 mm: 13-16 mm
    cards = by_rule(sign(clean_nivl(), [draft]))
    length, diameter = cards["STENT-LENGTH"], cards["STENT-DIAMETER"]
    assert update_of(length) == update_of(diameter), "accepting one card's fix never undoes the other's"
    updated = update_of(length)
    assert sorted(differences(draft, updated)) == [("parameter", 0, "valueQuantity", "value"),
                                                   ("parameter", 1, "valueQuantity", "value")]
    assert [p["valueQuantity"]["value"] for p in updated["parameter"]] == [16, 60]
    for card in (length, diameter):
        assert card.suggestions[0].label == "Change the stent length to 60 mm and diameter to 16 mm"
    assert "and the diameter at 16 mm (the diameter card's correction)" in length.detail
    assert "and the length at 60 mm (the length card's correction)" in diameter.detail
    DeviceRequest.model_validate(updated)


def test_length_and_diameter_corrections_in_the_order_text_travel_together():
    draft = text_stent("Left CIV stent 20x50mm")
    cards = by_rule(sign(clean_nivl(), [draft]))
    assert update_of(cards["STENT-LENGTH"]) == update_of(cards["STENT-DIAMETER"])
    assert update_of(cards["STENT-LENGTH"])["codeCodeableConcept"]["text"] == "Left CIV stent 16x60mm"


def test_one_correction_alone_carries_only_itself():
    draft = stent_device(length=(50, "mm"), diameter=(14, "mm"))  # diameter in range
    cards = by_rule(sign(clean_nivl(), [draft]))
    assert set(cards) == {"STENT-LENGTH"}
    assert differences(draft, update_of(cards["STENT-LENGTH"])) == [("parameter", 1, "valueQuantity", "value")]
    assert cards["STENT-LENGTH"].suggestions[0].label == "Change the stent length to 60 mm"


# -- deletes ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pregnant", [False, True])
def test_ivc_filter_card_speaks_of_pregnancy_only_to_a_pregnant_patient(pregnant):
    """R2: G:9's "same indications as non-pregnant patients" is quoted only to a pregnant patient."""
    record = confirmed_dvt() + ([condition("pregnancy", (SNOMED, "77386006"))] if pregnant else [])
    card = by_rule(sign(record, [ivc_filter()]))["IVC-FILTER-NOT-INDICATED"]
    assert ("pregnan" in (card.summary + card.detail).lower()) is pregnant


def test_delete_label_names_the_order_in_words_not_its_id():
    card = by_rule(sign(confirmed_dvt(), [ivc_filter()]))["IVC-FILTER-NOT-INDICATED"]
    (suggestion,) = card.suggestions
    assert "DeviceRequest/" not in suggestion.label and suggestion.label.startswith("Remove the draft order: ")
    assert suggestion.actions[0].resource_id == "DeviceRequest/filter"


def test_ivc_filter_card_suggests_delete_by_resource_id():
    card = by_rule(sign(confirmed_dvt(), [ivc_filter()]))["IVC-FILTER-NOT-INDICATED"]
    (suggestion,) = card.suggestions
    (action,) = suggestion.actions
    assert (action.type, action.resource_id, action.resource) == ("delete", "DeviceRequest/filter", None)
    assert card.to_json()["suggestions"][0]["actions"][0] == {
        "type": "delete", "description": action.description, "resourceId": "DeviceRequest/filter"}


def test_thrombolysis_card_suggests_delete():
    alteplase = medication_order("alteplase", cc((RXNORM, "8410"), text="Alteplase 100 mg IV"), 100)
    card = by_rule(sign(confirmed_dvt(), [alteplase]))["THROMBOLYSIS-NOT-INDICATED"]
    assert card.indicator == "critical"
    assert card.suggestions[0].actions[0].resource_id == "MedicationRequest/alteplase"


def test_catheter_clearance_alteplase_gets_no_card():
    clearance = medication_order("cathflo", cc((RXNORM, "8410"), text="Alteplase 2 mg intracatheter"), 2)
    assert sign(confirmed_dvt(), [clearance]) == []


# -- ANTICOAG-REGIMEN update ---------------------------------------------------------------------------
def test_enoxaparin_update_to_the_weight_adjusted_dose():
    syringe_60 = {"coding": [{"system": RXNORM, "code": "854238", "display": "enoxaparin 60 mg prefilled syringe"}]}
    draft = medication_order("enox", syringe_60, 60, timing=TWICE_DAILY)
    card = by_rule(sign(confirmed_dvt(), [draft]))["ANTICOAG-REGIMEN"]
    assert card.indicator == "warning" and "80 mg every 12 h" in card.summary
    updated = update_of(card)
    assert updated["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 80
    assert updated["dosageInstruction"][0]["timing"]["repeat"] == {"frequency": 2, "period": 1, "periodUnit": "d"}
    assert {c["code"] for c in updated["medicationCodeableConcept"]["coding"]} == {"67108", "854241"}
    for kept in ("id", "status", "intent", "subject"):
        assert updated[kept] == draft[kept]
    assert updated["dosageInstruction"][0]["route"] == draft["dosageInstruction"][0]["route"]
    MedicationRequest.model_validate(updated)


def test_apixaban_is_information_without_a_suggestion():
    apixaban = medication_order("apixaban", cc((RXNORM, "1364430"), text="apixaban 10 mg"), 10, timing=TWICE_DAILY)
    card = by_rule(sign(confirmed_dvt(), [apixaban]))["ANTICOAG-REGIMEN"]
    assert card.indicator == "info" and card.suggestions == [] and card.override_reasons == []


# -- data that could not be read ------------------------------------------------------------------------
def test_stent_length_fires_when_every_resource_type_is_unreadable():
    cards = sign([], [stent_device()], unreadable=EVERY_TYPE)
    assert [(c.rule_id, c.indicator) for c in cards] == [("STENT-LENGTH", "critical"), ("DATA-UNAVAILABLE", "info")]
    data_card = cards[1]
    assert "STENT-IVUS-REQUIRED" in data_card.detail and "STENT-DVT-NOT-EXCLUDED" in data_card.detail
    assert "fhir-server-unavailable" in data_card.detail
    assert data_card.to_json()["source"]["topic"]["code"] == "DATA-UNAVAILABLE"


def test_stent_length_unknown_fires_when_every_resource_type_is_unreadable():
    cards = sign([], [stent_device(length=None)], unreadable=EVERY_TYPE)
    assert [c.rule_id for c in cards] == ["STENT-LENGTH-UNKNOWN", "DATA-UNAVAILABLE"]


def test_data_unavailable_only_when_something_could_not_be_read():
    assert "DATA-UNAVAILABLE" not in by_rule(sign(clean_nivl(), [stent_device()]))


def test_data_unavailable_lists_only_checks_of_the_orders_present():
    cards = sign(confirmed_dvt(), [ivc_filter()], unreadable={"Observation"})
    data_card = by_rule(cards)["DATA-UNAVAILABLE"]
    assert "IVC-FILTER-NOT-INDICATED" in data_card.detail and "STENT-" not in data_card.detail
    assert "IVC-FILTER-NOT-INDICATED" not in by_rule(cards)  # platelets unread: a contraindication may exist


def test_data_unavailable_says_when_no_check_needed_the_missing_data():
    cards = by_rule(sign(confirmed_dvt(), [ivc_filter()], unreadable={"MedicationStatement"}))
    assert "IVC-FILTER-NOT-INDICATED" in cards
    assert "no order check needed it" in cards["DATA-UNAVAILABLE"].summary


def test_no_card_at_all_when_no_order_is_one_this_service_checks():
    assert sign([], [PARACETAMOL], unreadable=EVERY_TYPE) == []


# -- every card --------------------------------------------------------------------------------------------
def scenarios():
    alteplase = medication_order("alteplase", cc((RXNORM, "8410")), 100)
    return [
        sign(clean_nivl(), [stent_device(), text_stent(), stent_device(length=None, id="nolength")]),
        sign(confirmed_dvt(), [ivc_filter(), stent_device(), alteplase,
                               medication_order("enox", {"text": "enoxaparin"}, 60, timing=TWICE_DAILY)]),
        sign([], [stent_device()], unreadable=EVERY_TYPE),
    ]


@pytest.mark.parametrize("cards", scenarios(), ids=["stents", "dvt", "unreadable"])
def test_card_invariants(cards):
    assert cards
    body = response_json(cards)
    for card, sent in zip(cards, body["cards"]):
        assert len(card.summary) < 140
        assert sent["source"]["topic"] == {**sent["source"]["topic"], "system": RULES_SYSTEM, "code": card.rule_id}
        assert sent["source"]["url"] == rule_url(card.rule_id)
        assert bool(card.override_reasons) is (card.indicator in ("warning", "critical"))
        if card.rule_id != "DATA-UNAVAILABLE":
            assert "**Order:**" in card.detail and "**Guideline**" in card.detail and "(G:" in card.detail


@pytest.mark.parametrize("cards", scenarios(), ids=["stents", "dvt", "unreadable"])
def test_cards_carry_no_patient_identifiers(cards):
    for card in cards:
        for text in (card.summary, card.detail):
            assert PATIENT_ID not in text and "Okonkwo" not in text


def test_cards_name_the_order_in_the_clinicians_units_and_in_mm():
    card = by_rule(sign(clean_nivl(), [stent_device(length=(2, "[in_i]"))]))["STENT-LENGTH"]
    assert "2 in (= 50.8 mm)" in card.summary and "[in_i]" not in card.summary + card.detail  # R2: no UCUM code
    assert "DeviceRequest/stent" not in card.detail and "Self-expanding venous stent" in card.detail
    text_card = by_rule(sign(clean_nivl(), [text_stent()]))["STENT-LENGTH"]
    assert "50 mm (order text '14x50mm')" in text_card.summary


# -- discovery -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("module, hook", [(order_select, "order-select"), (order_sign, "order-sign")])
def test_discovery_entries(module, hook):
    entry = module.SERVICE.discovery_json()
    assert entry["id"] == f"iliac-vein-{hook}" and entry["hook"] == hook
    assert entry["prefetch"] == PATIENT_PREFETCH and module.SERVICE.required_keys == ()
    assert entry["title"] and entry["description"] and entry["usageRequirements"]


# -- clinical audit: orders (docs/decisions.md, "Clinical audit: orders") ------------------------------------
HIT = condition("hit", (ICD10CM, "D75.822"), recorded="2026-11-24")


def enoxaparin_order(dose=80, **extra) -> dict:
    draft = medication_order("enox", cc((RXNORM, "67108"), text="enoxaparin"), dose, timing=TWICE_DAILY)
    draft.update(extra)
    return draft


def test_enoxaparin_at_the_right_dose_with_hit_is_a_warning_to_use_a_non_heparin_anticoagulant():
    assert sign(confirmed_dvt(), [enoxaparin_order()]) == []  # the control: the right regimen
    card = by_rule(sign(confirmed_dvt() + [HIT], [enoxaparin_order()]))["ANTICOAG-REGIMEN"]
    assert card.indicator == "warning" and card.suggestions == [] and card.override_reasons
    assert "heparin-induced thrombocytopenia" in card.summary.lower()
    assert "non-heparin anticoagulant" in card.detail and "Condition/hit" not in card.detail
    assert "MedicationRequest/enox" not in card.detail  # R2: ids go to the card log, not the text


def test_heparin_with_hit_is_a_warning_not_advice_to_switch_to_lmwh():
    heparin = medication_order("heparin", cc((RXNORM, "5224"), text="heparin"), 5000, "[iU]", timing=TWICE_DAILY)
    card = by_rule(sign(confirmed_dvt() + [HIT], [heparin]))["ANTICOAG-REGIMEN"]
    assert card.indicator == "warning"
    assert "LMWH twice daily" not in card.summary + card.detail.split("**Guideline**")[0]


def test_argatroban_with_hit_is_not_told_to_switch_to_lmwh():
    argatroban = medication_order("argatroban", {"text": "argatroban infusion"}, 2, "ug/kg/min")
    card = by_rule(sign(confirmed_dvt() + [HIT], [argatroban]))["ANTICOAG-REGIMEN"]
    reasoning = card.detail.split("**Guideline**")[0]
    assert card.indicator == "info" and "non-heparin" in reasoning and "recommends therapeutic LMWH" not in reasoning
    without_hit = by_rule(sign(confirmed_dvt(), [argatroban]))["ANTICOAG-REGIMEN"]
    assert "recommends therapeutic LMWH" in without_hit.detail  # the control


def test_thrombolysis_card_names_the_contraindication_when_ischemia_and_hypotension_are_present():
    phlegmasia = condition("phlegmasia", (SNOMED, "233962007"), recorded="2026-11-26")
    shock = condition("shock", (SNOMED, "27942005"), recorded="2026-11-26")
    bleed = condition("gi-bleed", (ICD10CM, "K92.2"), recorded="2026-11-20")
    alteplase = medication_order("alteplase", cc((RXNORM, "8410"), text="Alteplase 100 mg IV"), 100)
    card = by_rule(sign(confirmed_dvt() + [phlegmasia, shock, bleed], [alteplase]))["THROMBOLYSIS-NOT-INDICATED"]
    assert "without limb-threatening ischemia" not in card.summary
    assert "bleeding" in card.summary.lower() and len(card.summary) < 140
    plain = by_rule(sign(confirmed_dvt(), [alteplase]))["THROMBOLYSIS-NOT-INDICATED"]
    assert "no limb-threatening ischemia" in plain.summary.lower()


def test_stent_dvt_not_excluded_still_fires_when_only_imaging_studies_are_unreadable():
    swelling_only = [SWELLING, *labs()]
    cards = by_rule(sign(swelling_only, [stent_device(length=(60, "mm"))], unreadable={"ImagingStudy"}))
    assert cards["STENT-DVT-NOT-EXCLUDED"].indicator == "warning"
    assert "STENT-DVT-NOT-EXCLUDED" not in cards["DATA-UNAVAILABLE"].detail  # it ran: not listed as not run
    assert "STENT-IVUS-REQUIRED" in cards["DATA-UNAVAILABLE"].detail  # an IVUS study may be in the unread data


def test_data_unavailable_lists_the_checks_skipped_because_the_scope_is_unknown():
    venous = {"resourceType": "ServiceRequest", "id": "venous-stent", "status": "draft", "intent": "order",
              "subject": SUBJECT, "code": {"coding": [{"system": CPT, "code": "37238"}], "text": "Venous stent 14 x 60 mm"}}
    cards = sign([], [venous], unreadable={"Condition"})
    assert [c.rule_id for c in cards] == ["DATA-UNAVAILABLE"]
    for skipped in ("STENT-IVUS-REQUIRED", "STENT-DIAMETER", "STENT-BELOW-THRESHOLD", "STENT-DYNAMIC-LESION"):
        assert skipped in cards[0].detail, skipped
    iliac = dict(venous, code={"coding": [{"system": CPT, "code": "37238"}], "text": "Left CIV stent 14 x 60 mm"})
    assert "STENT-DIAMETER" not in by_rule(sign([], [iliac], unreadable={"Condition"}))["DATA-UNAVAILABLE"].detail


def test_an_svc_stent_of_a_patient_in_scope_gets_no_iliac_card():
    svc = {"resourceType": "ServiceRequest", "id": "svc", "status": "draft", "intent": "order", "subject": SUBJECT,
           "code": {"coding": [{"system": CPT, "code": "37238"}], "text": "SVC stent 16 x 40 mm"}}
    assert sign(clean_nivl(), [svc]) == []
    venous = dict(svc, code={"coding": [{"system": CPT, "code": "37238"}], "text": "Venous stent 16 x 40 mm"})
    assert "STENT-LENGTH" in by_rule(sign(clean_nivl(), [venous]))  # the control: unnamed vein, patient in scope


def test_stent_length_unknown_for_a_decimal_comma_says_it_could_not_be_read():
    draft = text_stent("Left CIV venous stent 14 mm, 5,9 cm long")
    card = by_rule(sign(clean_nivl(), [draft]))["STENT-LENGTH-UNKNOWN"]
    assert card.indicator == "warning" and "5,9 cm" in card.detail and "60 mm" in card.summary


def test_stent_length_update_also_rewrites_the_same_size_in_the_order_text():
    draft = stent_device(note=[{"text": "Wallstent 14x50mm, land in the straight EIV"}])
    draft["codeCodeableConcept"]["text"] = "Venous stent 14 x 50 mm, left common iliac vein"
    updated = update_of(by_rule(sign(clean_nivl(), [draft]))["STENT-LENGTH"])
    assert updated["parameter"][1]["valueQuantity"]["value"] == 60
    assert updated["codeCodeableConcept"]["text"] == "Venous stent 14 x 60 mm, left common iliac vein"
    assert updated["note"] == [{"text": "Wallstent 14x60mm, land in the straight EIV"}]
    assert set(differences(draft, updated)) == {
        ("parameter", 1, "valueQuantity", "value"), ("codeCodeableConcept", "text"), ("note", 0, "text")}
    DeviceRequest.model_validate(updated)


def test_stent_length_update_leaves_a_text_stating_another_size_alone():
    draft = stent_device(note=[{"text": "Backup size 14 x 80 mm on the shelf"}])
    updated = update_of(by_rule(sign(clean_nivl(), [draft]))["STENT-LENGTH"])
    assert updated["note"] == draft["note"]


def test_stent_length_of_a_procedure_also_updates_the_size_its_text_states():
    procedure = stent_procedure()
    procedure["code"]["text"] = "Left common iliac vein stent 14 x 50 mm"
    device = stent_device(basedOn=[{"reference": "ServiceRequest/stent-procedure"}])
    card = by_rule(sign(clean_nivl(), [procedure, device]))["STENT-LENGTH"]
    (suggestion,) = card.suggestions
    updated = {a.resource["resourceType"]: a.resource for a in suggestion.actions}
    assert [a.type for a in suggestion.actions] == ["update", "update"]
    assert updated["DeviceRequest"]["parameter"][1]["valueQuantity"]["value"] == 60
    assert updated["ServiceRequest"]["code"]["text"] == "Left common iliac vein stent 14 x 60 mm"
    assert differences(procedure, updated["ServiceRequest"]) == [("code", "text")]
    ServiceRequest.model_validate(updated["ServiceRequest"])


def test_enoxaparin_update_of_a_contained_syringe_changes_its_strength_too():
    syringe_40 = {"resourceType": "Medication", "id": "med",
                  "code": {"coding": [{"system": RXNORM, "code": "854235"}], "text": "enoxaparin 40 mg/0.4 mL syringe"}}
    draft = medication_order("enox", None, 40, timing=TWICE_DAILY)
    del draft["medicationCodeableConcept"]
    draft.update(contained=[syringe_40], medicationReference={"reference": "#med"})
    updated = update_of(by_rule(sign(confirmed_dvt(), [draft]))["ANTICOAG-REGIMEN"])
    assert updated["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 80
    codes = {c["code"] for c in updated["contained"][0]["code"]["coding"]}
    assert "854235" not in codes and "854241" in codes  # the 80 mg syringe
    assert updated["medicationReference"] == {"reference": "#med"} and "medicationCodeableConcept" not in updated
    MedicationRequest.model_validate(updated)


def test_enoxaparin_update_replaces_a_dose_range_and_the_patient_instruction():
    draft = enoxaparin_order(40)
    dosage = draft["dosageInstruction"][0]
    dosage["doseAndRate"] = [{"doseRange": {"low": {"value": 40, "unit": "mg", "system": UCUM, "code": "mg"},
                                            "high": {"value": 60, "unit": "mg", "system": UCUM, "code": "mg"}}}]
    dosage["patientInstruction"] = "Inject 40-60 mg under the skin twice a day"
    updated = update_of(by_rule(sign(confirmed_dvt(), [draft]))["ANTICOAG-REGIMEN"])
    new_dosage = updated["dosageInstruction"][0]
    assert new_dosage["doseAndRate"] == [{"doseQuantity": {"value": 80, "unit": "mg", "system": UCUM, "code": "mg"}}]
    assert "40" not in new_dosage["patientInstruction"] and "80 mg" in new_dosage["patientInstruction"]
    MedicationRequest.model_validate(updated)


def test_card_texts_take_their_numbers_from_the_site_settings():
    site = PathwaySettings(oversize_max_mm=5.0, regimen_tolerance_fraction=0.2, enoxaparin_rounding_mg=5)
    diameter = call("order-sign", clean_nivl(), [stent_device(length=(60, "mm"), diameter=(18, "mm"))])
    card = by_rule(run_service(order_sign.SERVICE, dataclasses.replace(diameter, pathway=site)))["STENT-DIAMETER"]
    assert "13-17 mm" in card.summary and "+ 1 to 5" in card.summary
    dose = call("order-sign", confirmed_dvt(), [enoxaparin_order(60)])
    card = by_rule(run_service(order_sign.SERVICE, dataclasses.replace(dose, pathway=site)))["ANTICOAG-REGIMEN"]
    assert "20 %" in card.detail and "rounded to 5 mg" in card.detail
