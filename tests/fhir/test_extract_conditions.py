"""Conditions → facts: every row of DATA-CONTRACT "Conditions", the status rules, side and context."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from cds_service.fhir.valuesets import ICD10CM, LOCAL, SNOMED
from cds_service.pathway.facts import EdemaCauseKind, Severity, Side, Verification

LEFT_LEG = {"coding": [{"system": SNOMED, "code": "32153003", "display": "Structure of left lower limb"}]}
RIGHT_LEG = {"coding": [{"system": SNOMED, "code": "62175007"}]}
LOWER_LIMB = {"coding": [{"system": SNOMED, "code": "61685007"}]}
ARM = {"coding": [{"system": SNOMED, "code": "53120007", "display": "Upper limb structure"}]}
COMMON_ILIAC_VEIN = {"coding": [{"system": SNOMED, "code": "46027005"}]}
POPLITEAL_VEIN = {"coding": [{"system": SNOMED, "code": "56849005"}]}


def c(system: str, code: str) -> dict:
    return {"system": system, "code": code}


SCT, ICD, LOC = (lambda code: c(SNOMED, code)), (lambda code: c(ICD10CM, code)), (lambda code: c(LOCAL, code))


# ---------------------------------------------------------------- one code per row, through the value sets

SIMPLE_ROWS = [
    (SCT("102572006"), "swellings"),
    (SCT("449707004"), "swellings"),
    (ICD("R22.40"), "swellings"),
    (LOC("leg-swelling"), "swellings"),
    (ICD("I87.313"), "skin_changes"),
    (ICD("L97.912"), "skin_changes"),
    (ICD("I82.412"), "dvt_diagnoses"),
    (ICD("I80.12"), "dvt_diagnoses"),
    (ICD("I82.220"), "dvt_diagnoses"),
    (SCT("132281000119108"), "dvt_diagnoses"),
    (SCT("128055005"), "dvt_diagnoses"),
    (LOC("dvt"), "dvt_diagnoses"),
    (SCT("7387004"), "dvt_diagnoses"),
    (ICD("I82.522"), "dvt_diagnoses"),
    (SCT("20427003"), "dvt_diagnoses"),
    (SCT("59282003"), "pe_diagnoses"),
    (ICD("I26.99"), "pe_diagnoses"),
    (SCT("161508001"), "vte_history"),
    (ICD("Z86.718"), "vte_history"),
    (LOC("may-thurner"), "nivl_diagnoses"),
    (SCT("84114007"), "edema_causes"),
    (ICD("N18.5"), "edema_causes"),
    (ICD("K74.60"), "edema_causes"),
    (SCT("119247004"), "edema_causes"),
    (ICD("Q82.0"), "edema_causes"),
    (ICD("I89.0"), "edema_causes"),
    (SCT("88995000"), "genital_edema"),
    (LOC("penile-edema"), "genital_edema"),
    (LOC("phlegmasia-cerulea-dolens"), "phlegmasia"),
    (ICD("R57.9"), "shock"),
    (LOC("severe-hypotension"), "shock"),
    (ICD("R57.1"), "hemorrhagic_shock"),
    (SCT("74474003"), "bleeding"),
    (ICD("I61.9"), "bleeding"),
    (LOC("anticoagulation-contraindicated"), "bleeding"),
    (ICD("D75.822"), "hit"),
    (LOC("heparin-contraindicated"), "hit"),
    (SCT("77386006"), "pregnancy"),
    (ICD("O09.90"), "pregnancy"),
    (ICD("I48.91"), "other_antithrombotic_indications"),
    (ICD("Z86.73"), "other_antithrombotic_indications"),
    (ICD("I74.3"), "other_thrombolysis_indications"),
]


@pytest.mark.parametrize("code, attribute", SIMPLE_ROWS, ids=[f"{r[0]['code']}->{r[1]}" for r in SIMPLE_ROWS])
def test_each_row_is_read_into_its_fact_list(fhir, facts_of, code, attribute):
    resource = fhir.condition(code)
    found = getattr(facts_of(resource), attribute)
    assert [item.evidence.ref for item in found] == [f"Condition/{resource['id']}"]


def test_an_unrelated_condition_yields_nothing(fhir, facts_of):
    facts = facts_of(fhir.condition(ICD("J45.909")))  # asthma
    assert all(not value for name, value in vars(facts).items() if isinstance(value, list))


def test_a_code_in_two_rows_counts_in_both(fhir, facts_of):
    facts = facts_of(fhir.condition(ICD("I63.9")))  # stroke: antithrombotic and thrombolysis indication
    assert len(facts.other_antithrombotic_indications) == 1
    assert len(facts.other_thrombolysis_indications) == 1


def test_hemorrhagic_shock_is_not_plain_shock(fhir, facts_of):
    facts = facts_of(fhir.condition(ICD("R57.1")))
    assert facts.shock == [] and len(facts.hemorrhagic_shock) == 1


# ---------------------------------------------------------------- status rules

@pytest.mark.parametrize("clinical, active", [
    ("active", True), ("recurrence", True), ("relapse", True), (None, True),
    ("inactive", False), ("remission", False), ("resolved", False),
])
def test_clinical_status(fhir, facts_of, clinical, active):
    facts = facts_of(fhir.condition(ICD("D75.822"), clinical=clinical))
    assert [f.active for f in facts.hit] == [active]


@pytest.mark.parametrize("verification, expected", [
    ("confirmed", Verification.CONFIRMED), (None, Verification.CONFIRMED),
    ("provisional", Verification.PROVISIONAL), ("differential", Verification.PROVISIONAL),
    ("unconfirmed", Verification.PROVISIONAL),
])
def test_verification_status(fhir, facts_of, verification, expected):
    facts = facts_of(fhir.condition(ICD("I82.412"), verification=verification))
    assert [d.verification for d in facts.dvt_diagnoses] == [expected]


@pytest.mark.parametrize("verification", ["refuted", "entered-in-error"])
def test_refuted_and_entered_in_error_are_ignored(fhir, facts_of, verification):
    clinical = None if verification == "entered-in-error" else "active"
    facts = facts_of(fhir.condition(ICD("I82.412"), verification=verification, clinical=clinical),
                     fhir.condition(SCT("74474003"), verification=verification, clinical=clinical))
    assert facts.dvt_diagnoses == [] and facts.bleeding == []


def test_an_unreadable_verification_status_is_not_a_confirmation(fhir, facts_of):
    resource = fhir.condition(ICD("I82.412"), verification=None,
                              verificationStatus={"coding": [{"system": "urn:x", "code": "maybe"}]})
    assert [d.verification for d in facts_of(resource).dvt_diagnoses] == [Verification.PROVISIONAL]


def test_inactive_swelling_is_history_and_provisional_swelling_is_neither(fhir, facts_of):
    facts = facts_of(
        fhir.condition(ICD("R22.42"), id="old", clinical="resolved"),
        fhir.condition(ICD("R22.41"), id="maybe", verification="provisional"),
    )
    assert facts.swellings == []
    assert [s.evidence.ref for s in facts.past_swellings] == ["Condition/old"]


def test_dates_onset_else_recorded_and_date_only_is_midnight_utc(fhir, facts_of):
    facts = facts_of(
        fhir.condition(ICD("R22.42"), id="a", onset="2025-01-10", recorded="2025-01-12"),
        fhir.condition(ICD("R22.41"), id="b", onset=None, recorded="2025-01-15T10:30:00+02:00"),
    )
    by_ref = {s.evidence.ref: s for s in facts.swellings}
    assert by_ref["Condition/a"].evidence.when == datetime(2025, 1, 10, tzinfo=timezone.utc)
    assert by_ref["Condition/a"].recorded == datetime(2025, 1, 12, tzinfo=timezone.utc)
    assert by_ref["Condition/b"].evidence.when == datetime(2025, 1, 15, 8, 30, tzinfo=timezone.utc)
    assert [s.evidence.ref for s in facts.swellings] == ["Condition/b", "Condition/a"]  # newest first


# ---------------------------------------------------------------- swelling: body site, severity, side

@pytest.mark.parametrize("code", [SCT("80068009"), ICD("R60.0"), ICD("R60.9")])
def test_generic_swelling_counts_only_with_a_lower_limb_site(fhir, facts_of, code):
    assert len(facts_of(fhir.condition(code, body_site=[LOWER_LIMB])).swellings) == 1
    assert len(facts_of(fhir.condition(code, body_site=[LEFT_LEG])).swellings) == 1
    assert facts_of(fhir.condition(code)).swellings == []
    assert facts_of(fhir.condition(code, body_site=[ARM])).swellings == []


@pytest.mark.parametrize("severity, expected, grade", [
    ("24484000", Severity.SIGNIFICANT, "severe"), ("6736007", Severity.SIGNIFICANT, "moderate"),
    ("255604002", Severity.MINIMAL, "mild"), ("371923003", Severity.UNKNOWN, ""), (None, Severity.UNKNOWN, ""),
])
def test_swelling_severity(fhir, facts_of, severity, expected, grade):
    resource = fhir.condition(ICD("R22.42"), severity={"coding": [SCT(severity)]} if severity else None)
    assert [(s.severity, s.grade) for s in facts_of(resource).swellings] == [(expected, grade)]


@pytest.mark.parametrize("code, body_site, expected", [
    (ICD("R22.41"), None, Side.RIGHT),
    (ICD("R22.42"), None, Side.LEFT),
    (ICD("R22.43"), None, Side.BOTH),
    (ICD("R22.40"), None, Side.UNKNOWN),
    (SCT("102572006"), [LEFT_LEG], Side.LEFT),
    (SCT("102572006"), [RIGHT_LEG], Side.RIGHT),
    (SCT("102572006"), [LEFT_LEG, RIGHT_LEG], Side.BOTH),
    (SCT("102572006"), [{"coding": [SCT("61685007"), SCT("7771000")]}], Side.LEFT),
    (SCT("102572006"), [{"coding": [SCT("61685007"), SCT("24028007")]}], Side.RIGHT),
    (SCT("102572006"), [{"coding": [SCT("61685007"), SCT("51440002")]}], Side.BOTH),
    (ICD("R22.40"), [LEFT_LEG], Side.LEFT),
    (ICD("R22.42"), [RIGHT_LEG], Side.BOTH),  # a left and a right finding together
])
def test_swelling_side(fhir, facts_of, code, body_site, expected):
    assert [s.side for s in facts_of(fhir.condition(code, body_site=body_site)).swellings] == [expected]


def test_laterality_qualifier_in_a_body_site_extension(fhir, facts_of):
    site = {"coding": [SCT("61685007")], "extension": [{
        "url": "http://hl7.org/fhir/StructureDefinition/bodySite-laterality",
        "valueCodeableConcept": {"coding": [SCT("7771000")]}}]}
    assert [s.side for s in facts_of(fhir.condition(SCT("80068009"), body_site=[site])).swellings] == [Side.LEFT]


# ---------------------------------------------------------------- DVT

@pytest.mark.parametrize("code, side", [
    (ICD("I82.401"), Side.RIGHT), (ICD("I82.422"), Side.LEFT), (ICD("I82.4Y3"), Side.BOTH),
    (ICD("I82.409"), Side.UNKNOWN), (SCT("444325005"), Side.BOTH), (ICD("I80.212"), Side.LEFT),
])
def test_dvt_side(fhir, facts_of, code, side):
    assert [d.side for d in facts_of(fhir.condition(code)).dvt_diagnoses] == [side]


@pytest.mark.parametrize("code, distal", [
    (ICD("I82.442"), True), (ICD("I82.452"), True), (ICD("I82.461"), True), (ICD("I82.4Z9"), True),
    (SCT("7387004"), True), (ICD("I80.232"), True),
    (ICD("I82.412"), False), (ICD("I82.432"), False), (SCT("404223003"), False), (ICD("I82.4Y2"), False),
])
def test_isolated_calf_dvt(fhir, facts_of, code, distal):
    diagnoses = facts_of(fhir.condition(code)).dvt_diagnoses
    assert [(d.distal_only, d.chronic) for d in diagnoses] == [(distal, False)]


def test_a_proximal_and_a_calf_code_together_is_not_isolated_calf(fhir, facts_of):
    diagnoses = facts_of(fhir.condition(ICD("I82.412"), ICD("I82.442"))).dvt_diagnoses
    assert [d.distal_only for d in diagnoses] == [False]


@pytest.mark.parametrize("code", [ICD("I82.522"), ICD("I87.002"), ICD("I82.221"), SCT("15760351000119105"),
                                  SCT("20427003")])
def test_chronic_dvt(fhir, facts_of, code):
    assert [d.chronic for d in facts_of(fhir.condition(code)).dvt_diagnoses] == [True]


@pytest.mark.parametrize("body_site, counts", [
    ([LEFT_LEG], True), ([POPLITEAL_VEIN], True), ([COMMON_ILIAC_VEIN], True), ([ARM], False), (None, False),
])
def test_generic_dvt_code_needs_a_leg_site(fhir, facts_of, body_site, counts):
    diagnoses = facts_of(fhir.condition(SCT("128053003"), body_site=body_site)).dvt_diagnoses
    assert len(diagnoses) == (1 if counts else 0)


def test_inactive_dvt_is_kept_as_history(fhir, facts_of):
    assert [d.active for d in facts_of(fhir.condition(ICD("I82.412"), clinical="resolved")).dvt_diagnoses] == [False]


@pytest.mark.parametrize("code, counts", [(ICD("I26.99"), True), (ICD("I26.09"), True), (ICD("I26.01"), False),
                                          (ICD("I26.90"), False), (SCT("706870000"), True)])
def test_septic_emboli_are_not_pe(fhir, facts_of, code, counts):
    assert len(facts_of(fhir.condition(code)).pe_diagnoses) == (1 if counts else 0)


# ---------------------------------------------------------------- iliac vein compression (I87.1)

def test_i87_1_alone_is_not_iliac_vein_compression(fhir, facts_of):
    assert facts_of(fhir.condition(ICD("I87.1"), text="Vena cava syndrome")).nivl_diagnoses == []


@pytest.mark.parametrize("text", ["May-Thurner syndrome", "may thurner", "Left ILIAC vein compression"])
def test_i87_1_with_iliac_words_in_its_text(fhir, facts_of, text):
    assert len(facts_of(fhir.condition(ICD("I87.1"), text=text)).nivl_diagnoses) == 1


def test_i87_1_word_match_is_whole_words(fhir, facts_of):
    assert facts_of(fhir.condition(ICD("I87.1"), text="Compression, iliacus region (biliac)")).nivl_diagnoses == []


def test_i87_1_with_an_iliac_vein_body_site(fhir, facts_of):
    facts = facts_of(fhir.condition(ICD("I87.1"), body_site=[COMMON_ILIAC_VEIN]))
    assert len(facts.nivl_diagnoses) == 1


def test_i87_1_with_lower_limb_swelling_on_record(fhir, facts_of):
    facts = facts_of(fhir.condition(ICD("I87.1")), fhir.condition(ICD("R22.42"), clinical="resolved"))
    assert len(facts.nivl_diagnoses) == 1


def test_i87_1_with_persisting_swelling_observation(fhir, facts_of):
    persisting = fhir.observation(fhir.local("whole-leg-swelling-persistent"), value_boolean=True)
    assert len(facts_of(fhir.condition(ICD("I87.1")), persisting).nivl_diagnoses) == 1


# ---------------------------------------------------------------- other causes of edema

@pytest.mark.parametrize("code, kind", [
    (ICD("I50.9"), EdemaCauseKind.HEART_FAILURE), (SCT("42343007"), EdemaCauseKind.HEART_FAILURE),
    (ICD("N04.9"), EdemaCauseKind.RENAL), (SCT("431857002"), EdemaCauseKind.RENAL),
    (ICD("K70.31"), EdemaCauseKind.LIVER), (ICD("K72.90"), EdemaCauseKind.LIVER),
    (ICD("E88.09"), EdemaCauseKind.HYPOALBUMINEMIA), (SCT("8900005"), EdemaCauseKind.HYPOALBUMINEMIA),
    (ICD("Q82.0"), EdemaCauseKind.LYMPHEDEMA_PRIMARY), (LOC("primary-lymphedema"), EdemaCauseKind.LYMPHEDEMA_PRIMARY),
    (ICD("I89.0"), EdemaCauseKind.LYMPHEDEMA_SECONDARY), (SCT("234097001"), EdemaCauseKind.LYMPHEDEMA_SECONDARY),
])
def test_edema_cause_kinds(fhir, facts_of, code, kind):
    assert [f.kind for f in facts_of(fhir.condition(code)).edema_causes] == [kind.value]


def test_ckd_stage_3_is_not_advanced_renal_disease(fhir, facts_of):
    assert facts_of(fhir.condition(ICD("N18.30"))).edema_causes == []
    assert facts_of(fhir.condition(SCT("433144002"))).edema_causes == []  # R2: SNOMED CKD stage 3


def test_lymphedema_coded_both_ways_is_primary(fhir, facts_of):
    kinds = [f.kind for f in facts_of(fhir.condition(ICD("Q82.0"), SCT("234097001"))).edema_causes]
    assert kinds == [EdemaCauseKind.LYMPHEDEMA_PRIMARY.value]


# ---------------------------------------------------------------- phlegmasia, PE with shock, Z79.01

@pytest.mark.parametrize("code", [SCT("233962007"), SCT("1230182004")])
def test_limb_ischemia_codes_count_only_with_an_active_leg_dvt(fhir, facts_of, code):
    assert facts_of(fhir.condition(code)).phlegmasia == []
    assert len(facts_of(fhir.condition(code), fhir.condition(ICD("I82.412"))).phlegmasia) == 1
    assert facts_of(fhir.condition(code), fhir.condition(ICD("I82.412"), clinical="resolved")).phlegmasia == []
    assert facts_of(fhir.condition(code), fhir.condition(ICD("I82.412"), verification="provisional")).phlegmasia == []
    assert facts_of(fhir.condition(code), fhir.condition(ICD("I82.522"))).phlegmasia == []  # chronic


def test_limb_ischemia_with_a_positive_duplex(fhir, facts_of):
    duplex = fhir.observation(fhir.local("venous-duplex-result"), value_concept={"coding": [LOC("thrombus-present")]})
    assert len(facts_of(fhir.condition(SCT("233962007")), duplex).phlegmasia) == 1


def test_pe_is_a_thrombolysis_indication_only_with_active_shock(fhir, facts_of):
    assert facts_of(fhir.condition(ICD("I26.99"))).other_thrombolysis_indications == []
    with_shock = facts_of(fhir.condition(ICD("I26.99")), fhir.condition(ICD("R57.0")))
    assert [f.kind for f in with_shock.other_thrombolysis_indications] == ["pe-with-shock"]
    old_shock = facts_of(fhir.condition(ICD("I26.99")), fhir.condition(ICD("R57.0"), clinical="resolved"))
    assert old_shock.other_thrombolysis_indications == []


def test_long_term_anticoagulant_use(fhir, facts_of):
    resource = fhir.condition(ICD("Z79.01"), text="Long term anticoagulant use")
    assert [e.display for e in facts_of(resource).long_term_anticoagulant] == ["Long term anticoagulant use"]
    assert facts_of(fhir.condition(ICD("Z79.01"), clinical="inactive")).long_term_anticoagulant == []


# ---------------------------------------------------------------- stent status codes

@pytest.mark.parametrize("code", [ICD("Z95.820"), ICD("Z95.828")])
def test_stent_status_needs_an_iliac_context(fhir, facts_of, code):
    assert facts_of(fhir.condition(code)).stents == []
    assert len(facts_of(fhir.condition(code, text="Status post left CIV stent")).stents) == 1
    assert len(facts_of(fhir.condition(code, body_site=[COMMON_ILIAC_VEIN])).stents) == 1
    assert len(facts_of(fhir.condition(code), fhir.condition(ICD("R22.42"))).stents) == 1
    assert facts_of(fhir.condition(code, text="Status post SVC stent")).stents == []


def test_stent_status_date_is_the_onset(fhir, facts_of):
    stents = facts_of(fhir.condition(ICD("Z95.820"), text="iliac stent", onset="2024-06-01")).stents
    assert [s.placed for s in stents] == [datetime(2024, 6, 1, tzinfo=timezone.utc)]
