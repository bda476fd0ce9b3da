"""Patient-view cards: CDS Hooks invariants, specific summaries, rule topic and page, valid FHIR suggestions."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest

from cds_service.fhir.record import PatientRecord
from cds_service.fhir.valuesets import load_value_sets
from cds_service.pathway.assessment import assess
from cds_service.pathway.facts import (
    ClinicalFacts,
    ConditionFact,
    DrugClass,
    DuplexExtent,
    DvtDiagnosis,
    Evidence,
    MassFact,
    MassNature,
    Measurement,
    Medication,
    ResultStatus,
    Severity,
    Side,
    StentRecord,
    Swelling,
    ThrombusResult,
    VenousStudy,
    Verification,
)
from cds_service.pathway.findings import CreateEnoxaparin, CreateOrder
from cds_service.pathway.settings import PathwaySettings
from cds_service.pipeline import clinical_cards
from cds_service.protocol.cards import RULES_SYSTEM, response_json
from cds_service.rules.registry import PATIENT_VIEW_RULES as RULES
from cds_service.rules.registry import rule_by_id
from cds_service.rules.suggested_orders import medication_request, service_request, suggestion
from cds_service.services import patient_view as service
from cds_service.services.base import HookCall

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
S = PathwaySettings()
BASE = "https://cds.example.test"


def rule_url(rule_id: str) -> str:
    return f"{BASE}/rules/{rule_id}"


def ago(days=0.0, hours=0.0) -> datetime:
    return NOW - timedelta(days=days, hours=hours)


def ev(ref, display="", days=0.0):
    return Evidence(ref, display or ref, ago(days))


def confirmed_dvt_with_mass() -> ClinicalFacts:
    return ClinicalFacts(
        now=NOW,
        swellings=[Swelling(ev("Condition/sw", "Swelling of left lower limb", 5), Side.LEFT, Severity.SIGNIFICANT, ago(5))],
        masses=[MassFact(ev("Condition/mass", "Pelvic mass", 6), ago(6))],
        dvt_diagnoses=[DvtDiagnosis(ev("Condition/dvt", "Acute DVT of left femoral vein", 1), True,
                                    Verification.CONFIRMED, Side.LEFT, False, False)],
        weight=[Measurement(ev("Observation/w", "Body weight 65 kg", 1), 65, "kg")],
        stents=[StentRecord(ev("Procedure/stent", "Iliac vein stent", 200), ago(200))],
    )


def every_rule_facts() -> list[ClinicalFacts]:
    """Scenarios that between them fire every patient-view rule."""
    swelling = Swelling(ev("Condition/sw", "Swelling of left lower limb", 10), Side.LEFT, Severity.SIGNIFICANT, ago(10))
    negative = VenousStudy(ev("DiagnosticReport/dx", "Duplex", 2), ThrombusResult.ABSENT, ResultStatus.FINAL, Side.LEFT,
                           DuplexExtent.WHOLE_LEG)
    confirmed = confirmed_dvt_with_mass()
    bleeding = ClinicalFacts(
        now=NOW, swellings=[swelling],
        dvt_diagnoses=confirmed.dvt_diagnoses,
        bleeding=[ConditionFact(ev("Condition/bleed", "Gastrointestinal hemorrhage", 3), True, Verification.CONFIRMED)],
    )
    lysis = ClinicalFacts(
        now=NOW, swellings=[swelling], dvt_diagnoses=confirmed.dvt_diagnoses,
        phlegmasia=[ConditionFact(ev("Condition/pcd", "Phlegmasia cerulea dolens", 1), True, Verification.CONFIRMED)],
        medications=[Medication(ev("MedicationRequest/ne", "norepinephrine"), DrugClass.VASOPRESSOR, "norepinephrine")],
    )
    pelvic = ClinicalFacts(now=NOW, swellings=[swelling], duplex_results=[negative], masses=confirmed.masses)
    extrinsic = ClinicalFacts(
        now=NOW, swellings=[swelling], duplex_results=[negative],
        masses=[MassFact(ev("Condition/mass", "Pelvic mass", 6), ago(6), MassNature.MALIGNANCY, ev("Condition/lymphoma", "Lymphoma"))],
    )
    workup = ClinicalFacts(
        now=NOW,
        swellings=[Swelling(ev("Condition/sw2", "Swelling both legs", 10), Side.BOTH, Severity.UNKNOWN, ago(10))],
        duplex_results=[replace(negative, side=Side.BOTH)],
        nivl_diagnoses=[ConditionFact(ev("Condition/mt", "May-Thurner"), True, Verification.CONFIRMED)],
        edema_causes=[ConditionFact(ev("Condition/hf", "Heart failure"), True, Verification.CONFIRMED, kind="heart-failure")],
        ct_compression=[Measurement(ev("Observation/ct", "CT compression 55 %"), 55, "%")],
    )
    ivus_required = ClinicalFacts(now=NOW, swellings=[swelling], duplex_results=[negative],
                                  nivl_diagnoses=workup.nivl_diagnoses)
    candidate = ClinicalFacts(
        now=NOW, swellings=[swelling], duplex_results=[negative],
        ivus_stenosis=[Measurement(ev("Observation/ivus", "IVUS 72 %"), 72, "%")],
        eiv_reference_diameter=[Measurement(ev("Observation/eiv", "EIV 13 mm"), 13, "mm")],
    )
    below = ClinicalFacts(
        now=NOW, swellings=[Swelling(ev("Condition/sw", "Swelling", 10), Side.LEFT, Severity.MINIMAL, ago(10))],
        duplex_results=[negative],
        ivus_stenosis=[Measurement(ev("Observation/ivus", "IVUS 61 %"), 61, "%")],
        lesion_behavior=[],
    )
    minimal = ClinicalFacts(
        now=NOW, swellings=below.swellings, duplex_results=[negative], ivus_stenosis=candidate.ivus_stenosis,
    )
    from cds_service.pathway.facts import LesionBehavior

    dynamic = ClinicalFacts(now=NOW, swellings=[swelling], duplex_results=[negative],
                            lesion_behavior=[(ev("Observation/beh", "dynamic"), LesionBehavior.DYNAMIC)])
    stented = ClinicalFacts(
        now=NOW, stents=[StentRecord(ev("Procedure/stent", "Iliac vein stent", 200), ago(200))],
        medications=[Medication(ev("MedicationRequest/asa", "aspirin 81 mg"), DrugClass.ANTIPLATELET, "aspirin")],
    )
    unassessed = ClinicalFacts(now=NOW, swellings=[swelling])
    calf = ClinicalFacts(  # R2: an untreated isolated calf DVT with a contraindication
        now=NOW, swellings=[swelling], bleeding=bleeding.bleeding,
        dvt_diagnoses=[DvtDiagnosis(ev("Condition/calf", "Acute DVT of left peroneal vein", 1), True,
                                    Verification.CONFIRMED, Side.LEFT, True, False)],
    )
    return [confirmed, bleeding, lysis, pelvic, extrinsic, workup, ivus_required, candidate, below, minimal, dynamic,
            stented, unassessed, calf]


def render_cards(facts: ClinicalFacts, settings: PathwaySettings = S) -> list:
    """The cards of these facts, as the patient-view service evaluates and renders them for patient p1."""
    fired = service.evaluate(facts, assess(facts, settings), settings)
    return service.render(fired, "p1", rule_url, settings)


def _finding(facts: ClinicalFacts, rule_id: str):
    """The finding behind a card: it keeps the references of the facts it used (for the card log)."""
    fired = service.evaluate(facts, assess(facts, S), S)
    return next(f.finding for f in fired if f.rule.rule_id == rule_id)


def all_cards():
    cards = []
    for facts in every_rule_facts():
        cards += render_cards(facts)
    return cards


def test_the_scenarios_cover_every_rule():
    assert {card.rule_id for card in all_cards()} == {rule.rule_id for rule in RULES}


@pytest.mark.parametrize("card", all_cards(), ids=lambda c: c.rule_id)
def test_card_invariants(card):
    body = card.to_json()  # raises on any CDS Hooks invariant
    assert len(body["summary"]) < 140
    assert body["source"]["topic"] == {"system": RULES_SYSTEM, "code": card.rule_id,
                                       "display": rule_by_id(card.rule_id).title}
    assert body["source"]["url"] == f"{BASE}/rules/{card.rule_id}"
    assert body["source"]["label"]
    if body["indicator"] in ("warning", "critical"):
        assert body["overrideReasons"]
    else:
        assert "overrideReasons" not in body
    assert "**Guideline**" in body["detail"]
    quoted = [line for line in rule_by_id(card.rule_id).guideline_lines if f"(G:{line})" in body["detail"]]
    assert 1 <= len(quoted) <= 2  # RULES.md Card text (R2): at most 2 quotes, the rule page has them all
    assert body["links"] == [{"label": "Rule and evidence", "url": body["source"]["url"], "type": "absolute"}]


@pytest.mark.parametrize("card", [c for c in all_cards() if c.suggestions], ids=lambda c: c.rule_id)
def test_suggestions_are_valid_fhir(card):
    for s in card.to_json()["suggestions"]:
        for action in s["actions"]:
            assert action["type"] == "create"
            resource = action["resource"]
            model = MedicationRequest if resource["resourceType"] == "MedicationRequest" else ServiceRequest
            model.model_validate(resource)
            assert resource["status"] == "draft" and resource["intent"] == "order"
            assert resource["subject"] == {"reference": "Patient/p1"}


def test_cards_in_urgency_then_pathway_order():
    cards = render_cards(confirmed_dvt_with_mass())
    assert [(c.indicator, c.rule_id) for c in cards] == [
        ("critical", "DVT-ANTICOAGULATE"),
        # R2: a DVT after a stent whose side is not recorded is suspected stent thrombosis, not a missed study
        ("critical", "POST-STENT-THROMBOSIS"),
        ("warning", "MASS-CHARACTERIZE"),
    ]


def test_anticoagulate_card_names_dose_and_facts():
    card = render_cards(confirmed_dvt_with_mass())[0]
    assert card.summary == "DVT confirmed: start enoxaparin 70 mg SC every 12 h now"
    assert "Acute DVT of left femoral vein" in card.detail and "Condition/dvt" not in card.detail
    assert {"Condition/dvt", "Observation/w"} <= {e.ref for e in _finding(confirmed_dvt_with_mass(), card.rule_id).evidence}
    assert "check it before the second dose" in card.detail
    assert "obtain one" in card.detail  # no platelet count
    med = card.suggestions[0].actions[0].resource
    assert med["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 70
    assert [c["code"] for c in med["medicationCodeableConcept"]["coding"]] == ["67108"]


def test_preliminary_positive_card_says_preliminary():
    facts = confirmed_dvt_with_mass()
    facts.dvt_diagnoses = []
    facts.duplex_results = [VenousStudy(ev("DiagnosticReport/d", "Duplex", 1), ThrombusResult.PRESENT,
                                        ResultStatus.PRELIMINARY, Side.LEFT)]
    card = render_cards(facts)[0]
    assert "preliminary" in card.summary


def test_limited_study_card_text():
    facts = ClinicalFacts(
        now=NOW,
        swellings=[Swelling(ev("Condition/sw", "Swelling", 10), Side.LEFT, Severity.SIGNIFICANT, ago(10))],
        duplex_results=[VenousStudy(ev("DiagnosticReport/d", "Duplex", 3), ThrombusResult.ABSENT, ResultStatus.FINAL,
                                    Side.LEFT, DuplexExtent.LIMITED)],
    )
    card = render_cards(facts)[0]
    assert card.summary.startswith(f"Study of {ago(3).date().isoformat()} covered only the femoropopliteal segments")
    resource = card.suggestions[0].actions[0].resource
    assert [c["code"] for c in resource["code"]["coding"]] == ["39432-0", "93971"]


def test_not_coded_duplex_card_suggests_nothing():
    facts = ClinicalFacts(
        now=NOW,
        swellings=[Swelling(ev("Condition/sw", "Swelling", 10), Side.LEFT, Severity.SIGNIFICANT, ago(10))],
        duplex_results=[VenousStudy(ev("DiagnosticReport/d", "Duplex", 3), ThrombusResult.UNREADABLE, ResultStatus.FINAL,
                                    Side.LEFT)],
    )
    card = render_cards(facts)[0]
    assert f"Duplex of {ago(3).date().isoformat()}: result not coded, review the report" in card.summary
    assert card.suggestions == []


@pytest.mark.parametrize("side, says_left", [(Side.LEFT, True), (Side.RIGHT, False)])
def test_left_sided_text_only_for_left_swelling(side, says_left):
    facts = ClinicalFacts(
        now=NOW,
        swellings=[Swelling(ev("Condition/sw", "Swelling", 10), side, Severity.UNKNOWN, ago(10))],
        duplex_results=[VenousStudy(ev("DiagnosticReport/d", "Duplex", 3), ThrombusResult.ABSENT, ResultStatus.FINAL,
                                    side, DuplexExtent.WHOLE_LEG)],
    )
    card = render_cards(facts)[0]
    assert card.rule_id == "NIVL-WORKUP"
    assert ("Left-sided presentation fits NIVL" in card.detail) is says_left
    assert "Symptom severity is not recorded" in card.detail
    assert "venography with IVUS" in card.detail


# -- suggested orders ---------------------------------------------------------------------------------
@pytest.mark.parametrize("order, side, codes", [
    ("leg-duplex", Side.LEFT, ["39432-0", "93971"]),
    ("leg-duplex", Side.RIGHT, ["39443-7", "93971"]),
    ("leg-duplex", Side.BOTH, ["39420-5", "93970"]),
    ("ct-venography", Side.UNKNOWN, ["431676002", "74174"]),
    ("ct-venography-with-mass", Side.UNKNOWN, ["431676002", "74174"]),
    ("mr-venography", Side.UNKNOWN, ["36789-6", "72198"]),
    ("venography-ivus", Side.LEFT, ["241466007", "75820", "37252"]),
    ("contrast-ct", Side.UNKNOWN, ["74177"]),
    ("mri-pelvis", Side.UNKNOWN, ["72195"]),  # R2: pregnancy, MRI pelvis without contrast
    ("iliocaval-duplex", Side.UNKNOWN, ["39497-3", "93979"]),
])
def test_service_requests(order, side, codes):
    resource = service_request(CreateOrder(order, side), "p1")
    ServiceRequest.model_validate(resource)
    assert [c["code"] for c in resource["code"]["coding"]] == codes
    assert (resource["status"], resource["intent"], resource["subject"]["reference"]) == ("draft", "order", "Patient/p1")


def test_combined_study_title():
    resource = service_request(CreateOrder("ct-venography-with-mass"), "p1")
    assert resource["code"]["text"] == "CT abdomen/pelvis with IV contrast, venous phase"


def test_unknown_order_is_an_error():
    with pytest.raises(ValueError):
        service_request(CreateOrder("x-ray"), "p1")


@pytest.mark.parametrize("dose, per_day, product", [(60, 2, "854238"), (80, 1, "854241"), (70, 2, None)])
def test_enoxaparin_request(dose, per_day, product):
    resource = medication_request(CreateEnoxaparin(dose, per_day), "p1")
    MedicationRequest.model_validate(resource)
    codes = [c["code"] for c in resource["medicationCodeableConcept"]["coding"]]
    assert codes == ["67108"] + ([product] if product else [])
    dosage = resource["dosageInstruction"][0]
    assert dosage["timing"]["repeat"] == {"frequency": per_day, "period": 1, "periodUnit": "d"}
    assert dosage["doseAndRate"][0]["doseQuantity"] == {
        "value": dose, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}


def test_suggestion_wraps_one_create_action():
    s = suggestion(CreateEnoxaparin(60, 2), "p1")
    assert s.label == "Order enoxaparin 60 mg subcutaneously every 12 h"
    assert [a.type for a in s.actions] == ["create"]


# -- the service end to end (FHIR record -> cards) -----------------------------------------------------
def _call(resources: dict[str, list[dict]], unreadable=()) -> HookCall:
    return HookCall(
        service_id=service.SERVICE.id,
        hook="patient-view",
        hook_instance="d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        context={"patientId": "p1", "userId": "Practitioner/x"},
        record=PatientRecord(patient={"resourceType": "Patient", "id": "p1"}, resources=resources,
                             unreadable=set(unreadable)),
        now=NOW,
        rule_url=rule_url,
        value_sets=load_value_sets(),
    )


LEFT_SWELLING = {
    "resourceType": "Condition",
    "id": "sw",
    "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
    "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "R22.42"}]},
    "subject": {"reference": "Patient/p1"},
    "recordedDate": "2026-11-20",
}


def test_handle_left_swelling_asks_for_a_duplex():
    cards = clinical_cards(service.SERVICE, _call({"Condition": [LEFT_SWELLING]}))
    assert [c.rule_id for c in cards] == ["DVT-DUPLEX"]
    resource = cards[0].suggestions[0].actions[0].resource
    assert resource["subject"] == {"reference": "Patient/p1"}
    assert [c["code"] for c in resource["code"]["coding"]] == ["39432-0", "93971"]
    response_json(cards)


def test_handle_out_of_scope_is_silent():
    assert clinical_cards(service.SERVICE, _call({})) == []


def test_service_definition():
    discovery = service.SERVICE.discovery_json()
    assert discovery["id"] == "iliac-vein-patient-view" and discovery["hook"] == "patient-view"
    assert service.SERVICE.required_keys == ("patient", "conditions", "observations")
    assert set(discovery["prefetch"]) >= {"patient", "conditions", "observations"}


# -- clinical audit (docs/decisions.md "Clinical audit: patient-view") --------------------------------
def _cards(facts: ClinicalFacts):
    return render_cards(facts)


def _card(facts: ClinicalFacts, rule_id: str):
    return next(c for c in _cards(facts) if c.rule_id == rule_id)


def _first_paragraph(card) -> str:
    return card.detail.split("\n\n", 1)[0]


def _swelling(side=Side.LEFT, severity=Severity.SIGNIFICANT):
    return Swelling(ev("Condition/sw", "Swelling", 10), side, severity, ago(10))


def _dvt_with(**kw) -> ClinicalFacts:
    return ClinicalFacts(
        now=NOW, swellings=[_swelling()],
        dvt_diagnoses=[DvtDiagnosis(ev("Condition/dvt", "Acute DVT", 1), True, Verification.CONFIRMED, Side.LEFT, False, False)],
        weight=[Measurement(ev("Observation/w", "Body weight 80 kg", 1), 80, "kg")],
        **kw,
    )


@pytest.mark.parametrize("active, verification, words", [
    (True, Verification.CONFIRMED, "with HIT"),
    (True, Verification.PROVISIONAL, "with suspected HIT"),
    (False, Verification.CONFIRMED, "with a history of HIT"),
])
def test_hit_card_opens_with_a_non_heparin_anticoagulant_and_suggests_none(active, verification, words):
    card = _card(_dvt_with(hit=[ConditionFact(ev("Condition/hit", "HIT", 400), active, verification)]), "DVT-ANTICOAGULATE")
    assert words in card.summary
    first = _first_paragraph(card)
    assert "non-heparin anticoagulant" in first
    assert "no LMWH" in first and not first.endswith("LMWH twice daily at a weight-adjusted dose.")
    assert card.suggestions == []


def test_zero_weight_card_asks_for_a_weight():
    facts = _dvt_with()
    facts.weight = [Measurement(ev("Observation/w", "Body weight 0 kg", 1), 0, "kg")]
    card = _card(facts, "DVT-ANTICOAGULATE")
    assert card.summary.endswith("record a weight for the dose")
    assert "No usable body weight" in card.detail
    assert card.suggestions == []


def test_weight_too_small_for_a_dose_is_named():
    facts = _dvt_with()
    facts.weight = [Measurement(ev("Observation/w", "Body weight 3 kg", 1), 3, "kg")]
    card = _card(facts, "DVT-ANTICOAGULATE")
    assert "The latest weight (3 kg) gives no dose" in card.detail
    assert card.suggestions == []


@pytest.mark.parametrize("side, mass, says, never", [
    (Side.RIGHT, False, "Right leg swelling: acute DVT must be excluded", ["Left", "mass"]),
    (Side.LEFT, False, "Left leg swelling: acute DVT must be excluded", ["mass"]),
    (Side.LEFT, True, "Left leg swelling with an iliac / pelvic mass carries a high risk", ["Right"]),
])
def test_duplex_card_states_only_this_patients_facts(side, mass, says, never):
    masses = [MassFact(ev("Condition/mass", "Pelvic mass", 6), ago(6))] if mass else []
    card = _card(ClinicalFacts(now=NOW, swellings=[_swelling(side)], masses=masses), "DVT-DUPLEX")
    reasoning = _first_paragraph(card)
    assert says in reasoning
    for word in never:
        assert word not in reasoning


def test_duplex_of_unknown_extent_asks_to_confirm_the_calf_veins_were_covered():
    facts = ClinicalFacts(
        now=NOW, swellings=[_swelling()],
        duplex_results=[VenousStudy(ev("DiagnosticReport/d", "Duplex", 3), ThrombusResult.ABSENT, ResultStatus.FINAL,
                                    Side.LEFT, DuplexExtent.UNKNOWN)],
    )
    card = _card(facts, "DVT-DUPLEX")
    # R2 item 8: info, confirm the extent, no new order
    assert card.summary.startswith(f"Negative duplex of {ago(3).date().isoformat()}, extent not recorded")
    assert card.indicator == "info" and "confirm" in card.detail.lower()
    assert card.suggestions == []


def _negative_duplex(days=3):
    return VenousStudy(ev("DiagnosticReport/d", "Duplex", days), ThrombusResult.ABSENT, ResultStatus.FINAL, Side.LEFT,
                       DuplexExtent.WHOLE_LEG)


def test_preliminary_duplex_report_card_says_preliminary_not_uncoded():
    from cds_service.pathway.facts import ImagingDone, ImagingKind

    prelim = replace(_negative_duplex(1), status=ResultStatus.PRELIMINARY)
    facts = ClinicalFacts(now=NOW, swellings=[_swelling()], duplex_results=[prelim],
                          imaging=[ImagingDone(prelim.evidence, ImagingKind.LEG_DUPLEX, Side.LEFT)])
    card = _card(facts, "DVT-DUPLEX")
    assert card.summary == f"Duplex of {ago(1).date().isoformat()} is preliminary: DVT not excluded until the final report"
    assert "not coded" not in card.detail
    assert card.suggestions == []


def test_preliminary_pelvic_venography_card_says_preliminary_and_suggests_nothing():
    pelvic = VenousStudy(ev("DiagnosticReport/ctv", "CT venography", 1), ThrombusResult.ABSENT, ResultStatus.PRELIMINARY,
                         Side.UNKNOWN, method="ct-venography")
    facts = ClinicalFacts(now=NOW, swellings=[_swelling()], duplex_results=[_negative_duplex()],
                          masses=[MassFact(ev("Condition/mass", "Pelvic mass", 6), ago(6))], pelvic_venography=[pelvic])
    card = _card(facts, "DVT-PELVIC-IMAGING")
    assert card.summary.startswith(f"Pelvic venography of {ago(1).date().isoformat()} is preliminary")
    assert "not coded" not in card.detail
    assert card.suggestions == []


def test_pelvic_imaging_summary_names_the_negative_duplex():
    facts = ClinicalFacts(now=NOW, swellings=[_swelling()], duplex_results=[_negative_duplex(3)],
                          masses=[MassFact(ev("Condition/mass", "Pelvic mass", 6), ago(6))])
    card = _card(facts, "DVT-PELVIC-IMAGING")
    assert card.summary == f"Negative duplex of {ago(3).date().isoformat()} with a pelvic mass: image the iliac and pelvic veins"


@pytest.mark.parametrize("nature, says, never", [
    (MassNature.HEMATOMA, "drainage or evacuation of the hematoma", "excision"),
    (MassNature.ABSCESS, "drainage of the abscess", "excision"),
    (MassNature.ILIOPSOAS_BURSITIS, "surgical excision", "drainage"),
])
def test_extrinsic_mass_treatment_fits_its_kind(nature, says, never):
    mass = MassFact(ev("Condition/mass", "Pelvic mass", 6), ago(6), nature, ev("Condition/nature", nature.value))
    card = _card(ClinicalFacts(now=NOW, swellings=[_swelling()], masses=[mass]), "MASS-EXTRINSIC")
    first = _first_paragraph(card)
    assert says in first and never not in first


def test_thrombolysis_card_asks_for_a_platelet_count():
    lysis = [f for f in every_rule_facts() if f.phlegmasia][0]
    card = _card(lysis, "DVT-THROMBOLYSIS-OPTION")
    assert "obtain one before thrombolysis" in card.detail
    lysis.platelets = [Measurement(ev("Observation/plt", "Platelets 200", 0.1), 200, "10*3/uL")]
    assert "obtain one before thrombolysis" not in _card(lysis, "DVT-THROMBOLYSIS-OPTION").detail


def test_stent_candidate_card_asks_to_confirm_a_fixed_lesion_when_behaviour_is_unrecorded():
    from cds_service.pathway.facts import LesionBehavior

    candidate = next(f for f in every_rule_facts() if f.eiv_reference_diameter)
    assert "Lesion behaviour is not recorded: confirm it is fixed" in _card(candidate, "NIVL-STENT-CANDIDATE").detail
    candidate.lesion_behavior = [(ev("Observation/beh", "fixed"), LesionBehavior.FIXED)]
    assert "Lesion behaviour is not recorded" not in _card(candidate, "NIVL-STENT-CANDIDATE").detail


# -- the audit's fixtures through the service: what the fixture tags cannot say ---------------------------
def _fixture_cards(name: str):
    from cds_service.fixtures import all_fixtures

    fixture = next(f for f in all_fixtures() if f.id == name)
    resources: dict[str, list[dict]] = {}
    for resource in fixture.resources:
        resources.setdefault(resource["resourceType"], []).append(resource)
    call = replace(_call(resources), now=fixture.now, context={"patientId": fixture.patient_id},
                   record=PatientRecord(patient=fixture.patient, resources=resources, unreadable=set()))
    return clinical_cards(service.SERVICE, call)


@pytest.mark.parametrize("name", [
    "confirmed-dvt-weight-recorded-as-zero",
    "dvt-with-resolved-heparin-induced-thrombocytopenia",
    "dvt-with-suspected-heparin-induced-thrombocytopenia",
])
def test_fixture_anticoagulate_card_suggests_no_enoxaparin(name):
    (card,) = _fixture_cards(name)
    assert card.rule_id == "DVT-ANTICOAGULATE" and card.indicator == "critical"
    assert card.suggestions == []


def test_fixture_late_six_month_study_makes_the_twelve_month_study_due():
    (card,) = _fixture_cards("stent-late-six-month-study-twelve-month-overdue")
    assert card.rule_id == "POST-STENT-FOLLOWUP"
    assert "Due by month 12: no imaging since the last imaging of 2026-05-20" in card.detail
    assert "last imaging 2026-05-20" in card.summary


def test_fixture_preliminary_pelvic_ct_venography_suggests_nothing():
    (card,) = _fixture_cards("preliminary-negative-pelvic-ct-venography")
    assert card.rule_id == "DVT-PELVIC-IMAGING" and "is preliminary" in card.summary
    assert card.suggestions == []


def test_hit_patient_on_enoxaparin_is_told_to_stop_it():
    facts = _dvt_with(
        hit=[ConditionFact(ev("Condition/hit", "HIT", 3), True, Verification.CONFIRMED)],
        medications=[Medication(ev("MedicationRequest/enox", "enoxaparin 80 mg"), DrugClass.LMWH, "enoxaparin", 80, "mg", 2)],
    )
    card = _card(facts, "DVT-ANTICOAGULATE")
    assert "enoxaparin 80 mg (current): heparin-induced thrombocytopenia is recorded, stop heparin and LMWH" in card.detail
    assert card.suggestions == []


def test_pregnant_patient_on_warfarin_is_switched_to_enoxaparin():
    facts = _dvt_with(
        pregnancy=[ConditionFact(ev("Condition/preg", "Pregnant state", 30), True, Verification.CONFIRMED)],
        medications=[Medication(ev("MedicationRequest/w", "warfarin 5 mg"), DrugClass.ANTICOAGULANT, "warfarin", 5, "mg", 1)],
    )
    card = _card(facts, "DVT-ANTICOAGULATE")
    assert card.summary == "DVT confirmed in pregnancy: switch to enoxaparin 80 mg SC every 12 h now"
    assert "warfarin and DOACs are not used to treat DVT in pregnancy" in card.detail
    assert "Pregnant state" in card.detail and "Condition/preg" not in card.detail


def test_workup_card_asks_to_review_an_unreadable_ivus_report():
    facts = ClinicalFacts(now=NOW, swellings=[_swelling()], duplex_results=[_negative_duplex()],
                          ivus_stenosis=[Measurement(ev("Observation/ivus", "IVUS 70 percent"), None, "percent")])
    card = _card(facts, "NIVL-WORKUP")
    assert "review the IVUS report" in card.detail
    assert "venography with IVUS before any intervention" not in card.detail


@pytest.mark.parametrize("recorded, summary", [
    (ago(6), f"Iliac mass of {ago(6).date().isoformat()} not characterized: contrast CT abdomen/pelvis needed"),
    (None, "Iliac mass not characterized: contrast CT abdomen/pelvis needed"),
])
def test_mass_characterize_summary_names_the_mass_date(recorded, summary):
    mass = MassFact(Evidence("Condition/mass", "Pelvic mass", recorded), recorded)
    card = _card(ClinicalFacts(now=NOW, swellings=[_swelling()], masses=[mass]), "MASS-CHARACTERIZE")
    assert card.summary == summary


def test_surveillance_summary_names_the_overdue_study():
    stented = ClinicalFacts(now=NOW, stents=[StentRecord(ev("Procedure/stent", "Iliac vein stent", 31), ago(31))])
    card = _card(stented, "POST-STENT-FOLLOWUP")
    assert card.summary == (
        f"Iliac vein stent of {ago(31).date().isoformat()}: surveillance imaging overdue (due by day 30; no imaging since)")


def test_fixture_hit_patient_on_enoxaparin_gets_the_card_without_a_heparin_suggestion():
    (card,) = _fixture_cards("hit-patient-on-treatment-dose-enoxaparin")
    assert (card.rule_id, card.indicator) == ("DVT-ANTICOAGULATE", "critical")
    assert "stop heparin and LMWH" in card.detail
    assert card.suggestions == []


def test_fixture_pregnant_patient_on_warfarin_is_offered_enoxaparin():
    (card,) = _fixture_cards("pregnant-dvt-on-warfarin")
    assert (card.rule_id, card.indicator) == ("DVT-ANTICOAGULATE", "critical")
    (suggestion_,) = card.suggestions
    resource = suggestion_.actions[0].resource
    assert [c["code"] for c in resource["medicationCodeableConcept"]["coding"]] == ["67108", "854241"]
