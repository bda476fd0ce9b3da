"""Every patient-view rule of RULES.md: fires / does not fire, indicator, values and proposals.

Facts are built directly (tests/helpers/facts.py); no FHIR, no HTTP.
"""
from __future__ import annotations

import re
import sys

import pytest

from cds_service.pathway.assessment import assess
from cds_service.pathway.facts import (
    DrugClass,
    DuplexExtent,
    EdemaCauseKind,
    ImagingKind,
    LesionBehavior,
    MassNature,
    ResultStatus,
    Severity,
    Side,
    ThrombusResult,
    Verification,
    Waveform,
    WaveformFact,
)
from cds_service.pathway.findings import CreateEnoxaparin, CreateOrder, Indicator
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules import post_stent_followup
from cds_service.rules.registry import PATIENT_VIEW_RULES, rules_for
from cds_service.services.patient_view import evaluate
from tests.helpers.facts import (
    S,
    ago,
    cond,
    duplex,
    dvt_dx,
    ev,
    excluded,
    facts,
    imaging,
    left_swelling,
    mass,
    meas,
    med,
    nivl_confirmed,
    pelvic,
    stent,
    swelling,
)


def findings(f, settings: PathwaySettings = S) -> list:
    """Every patient-view finding, in pathway order, as the service evaluates them."""
    return [fired.finding for fired in evaluate(f, assess(f, settings), settings)]


def ids(f, settings: PathwaySettings = S) -> list[str]:
    return [finding.rule_id for finding in findings(f, settings)]


def finding(f, rule_id: str, settings: PathwaySettings = S):
    found = [x for x in findings(f, settings) if x.rule_id == rule_id]
    return found[0] if found else None


def confirmed(**kw):
    """Left leg swelling and a confirmed acute DVT 3 days ago, weight 65 kg, eGFR 80, platelets 200."""
    kw.setdefault("dvt_diagnoses", [dvt_dx(days=3)])
    kw.setdefault("weight", [meas("Observation/weight", 65, "kg", days=2)])
    kw.setdefault("egfr", [meas("Observation/egfr", 80, "mL/min/{1.73_m2}", hours=5)])
    kw.setdefault("platelets", [meas("Observation/plt", 200, "10*3/uL", hours=5)])
    return left_swelling(**kw)


# -- scope -------------------------------------------------------------------------------------------
def test_out_of_scope_patient_gets_no_findings_even_with_a_dvt_workup_gap():
    f = facts(swellings=[swelling(Side.BOTH)], masses=[], pe_diagnoses=[cond("Condition/pe")])
    assert findings(f, S) == []


def test_out_of_scope_empty_record():
    assert findings(facts(), S) == []


# -- DVT-DUPLEX --------------------------------------------------------------------------------------
def test_dvt_duplex_fires_for_unilateral_swelling_without_study():
    x = finding(left_swelling(), "DVT-DUPLEX")
    assert x.indicator == Indicator.WARNING
    assert x.variant == "no-study"
    assert x.proposals == (CreateOrder("leg-duplex", Side.LEFT),)


def test_dvt_duplex_fires_for_a_mass_and_orders_both_legs():
    f = facts(masses=[mass()], swellings=[swelling(Side.BOTH)])
    assert finding(f, "DVT-DUPLEX").proposals == (CreateOrder("leg-duplex", Side.BOTH),)


def test_dvt_duplex_not_for_bilateral_swelling_without_mass():
    f = facts(swellings=[swelling(Side.BOTH)], nivl_diagnoses=[cond("Condition/mt")])
    assert "DVT-DUPLEX" not in ids(f)


@pytest.mark.parametrize("f", [excluded(), left_swelling(dvt_diagnoses=[dvt_dx()]), excluded(masses=[mass()])])
def test_dvt_duplex_silent_once_assessed(f):
    assert "DVT-DUPLEX" not in ids(f)


def test_dvt_duplex_names_a_limited_study_and_suggests_the_complete_one():
    f = left_swelling(duplex_results=[duplex(extent=DuplexExtent.LIMITED, days=4)])
    x = finding(f, "DVT-DUPLEX")
    assert x.variant == "limited"
    assert x.study_date == ago(4).date().isoformat()
    assert x.extent == "femoropopliteal"
    assert x.proposals == (CreateOrder("leg-duplex", Side.LEFT),)


def test_dvt_duplex_result_not_coded_suggests_nothing():
    f = left_swelling(duplex_results=[duplex(ThrombusResult.UNREADABLE, days=3)])
    x = finding(f, "DVT-DUPLEX")
    assert x.variant == "result-not-coded"
    assert x.study_date == ago(3).date().isoformat()
    assert x.proposals == ()


def test_dvt_duplex_preliminary_negative_awaits_the_final_report():
    x = finding(left_swelling(duplex_results=[duplex(status=ResultStatus.PRELIMINARY)]), "DVT-DUPLEX")
    assert x.variant == "preliminary" and x.proposals == ()


@pytest.mark.parametrize("days, fires", [(90, False), (91, True)])
def test_dvt_duplex_after_the_negative_study_expires(days, fires):
    f = left_swelling(swellings=[swelling(days=100)], duplex_results=[duplex(days=days)])
    x = finding(f, "DVT-DUPLEX")
    assert (x is not None) is fires
    if fires:
        assert x.variant == "expired"


def test_dvt_duplex_after_new_swelling():
    f = excluded(swellings=[swelling(severity=Severity.MINIMAL, days=10), swelling(days=1, ref="Condition/worse")])
    x = finding(f, "DVT-DUPLEX")
    assert x.variant == "new-swelling"
    assert x.proposals


def test_dvt_duplex_fires_when_reports_unreadable_and_says_so():
    x = finding(excluded(unreadable=frozenset({"DiagnosticReport"})), "DVT-DUPLEX")
    assert x.reports_unreadable == ("DiagnosticReport",)


# -- DVT-PELVIC-IMAGING ------------------------------------------------------------------------------
def test_pelvic_imaging_for_persisting_swelling_suggests_ct_venography():
    f = excluded(persisting_swelling=[ev("Observation/persist", "persists", ago(1))])
    x = finding(f, "DVT-PELVIC-IMAGING")
    assert x.indicator == Indicator.WARNING
    assert x.triggers == ("persisting-swelling",)
    assert x.proposals == (CreateOrder("ct-venography"),)


def test_pelvic_imaging_names_the_flat_waveform():
    waveform = WaveformFact(ev("Observation/cfv", "non-phasic", ago(2)), Waveform.NON_PHASIC, Side.LEFT)
    x = finding(excluded(cfv_waveforms=[waveform]), "DVT-PELVIC-IMAGING")
    assert x.triggers == ("non-phasic-cfv-waveform",)


def test_pelvic_imaging_in_pregnancy_is_mr_venography():
    f = excluded(persisting_swelling=[ev("Observation/p", "persists", ago(1))], pregnancy=[cond("Condition/preg")])
    x = finding(f, "DVT-PELVIC-IMAGING")
    assert x.proposals == (CreateOrder("mr-venography"),)
    assert x.variant == "pregnancy"


def test_pelvic_imaging_and_mass_characterize_share_one_study():
    f = excluded(masses=[mass()])
    pelvic_finding = finding(f, "DVT-PELVIC-IMAGING")
    mass_finding = finding(f, "MASS-CHARACTERIZE")
    assert pelvic_finding.proposals == (CreateOrder("ct-venography-with-mass"),)
    assert pelvic_finding.triggers == ("pelvic-mass",)
    assert mass_finding.variant == "combined-with-pelvic-imaging"
    assert mass_finding.proposals == ()


def test_pelvic_imaging_done_but_not_coded_suggests_nothing():
    f = excluded(masses=[mass()], imaging=[imaging(ImagingKind.CT_VENOGRAPHY_PELVIS, 1)])
    x = finding(f, "DVT-PELVIC-IMAGING")
    assert x.variant == "result-not-coded"
    assert x.study_date == ago(1).date().isoformat()
    assert x.proposals == ()


def test_pelvic_imaging_for_confirmed_dvt_with_flat_waveform():
    waveform = WaveformFact(ev("Observation/cfv", "absent", ago(2)), Waveform.ABSENT, Side.LEFT)
    assert "DVT-PELVIC-IMAGING" in ids(confirmed(cfv_waveforms=[waveform]))
    assert "DVT-PELVIC-IMAGING" not in ids(confirmed(cfv_waveforms=[waveform], pelvic_venography=[pelvic(days=1)]))
    assert "DVT-PELVIC-IMAGING" not in ids(confirmed())


def test_pelvic_imaging_silent_when_pelvis_imaged_negative():
    assert "DVT-PELVIC-IMAGING" not in ids(excluded(masses=[mass()], pelvic_venography=[pelvic(days=1)]))


# -- DVT-ANTICOAGULATE -------------------------------------------------------------------------------
def test_anticoagulate_with_weight_suggests_enoxaparin_every_12_h():
    x = finding(confirmed(), "DVT-ANTICOAGULATE")
    assert x.indicator == Indicator.CRITICAL
    assert x.proposals == (CreateEnoxaparin(70, 2),)
    assert x.preliminary is False


@pytest.mark.parametrize("weight, dose", [(65, 70), (64.9, 60), (75, 80)])
def test_anticoagulate_dose_rounding(weight, dose):
    x = finding(confirmed(weight=[meas("Observation/w", weight, "kg", days=1)]), "DVT-ANTICOAGULATE")
    assert x.proposals == (CreateEnoxaparin(dose, 2),)


@pytest.mark.parametrize("egfr, per_day", [(30, 2), (29.9, 1)])
def test_anticoagulate_every_24_h_below_egfr_30(egfr, per_day):
    x = finding(confirmed(egfr=[meas("Observation/egfr", egfr, "mL/min/{1.73_m2}", hours=3)]), "DVT-ANTICOAGULATE")
    assert x.proposals == (CreateEnoxaparin(70, per_day),)
    assert x.egfr_unknown is False


def test_anticoagulate_without_weight_gives_no_dose_and_asks():
    x = finding(confirmed(weight=[]), "DVT-ANTICOAGULATE")
    assert x.proposals == ()
    assert x.weight_kg is None


@pytest.mark.parametrize("days, has_dose", [(30, True), (31, False)])
def test_anticoagulate_weight_window(days, has_dose):
    x = finding(confirmed(weight=[meas("Observation/w", 80, "kg", days=days)]), "DVT-ANTICOAGULATE")
    assert bool(x.proposals) is has_dose


def test_anticoagulate_renal_function_unknown_still_doses_every_12_h():
    x = finding(confirmed(egfr=[]), "DVT-ANTICOAGULATE")
    assert x.egfr_unknown is True
    assert x.proposals == (CreateEnoxaparin(70, 2),)


def test_anticoagulate_preliminary_positive():
    f = confirmed(dvt_diagnoses=[], duplex_results=[duplex(ThrombusResult.PRESENT, status=ResultStatus.PRELIMINARY)])
    assert finding(f, "DVT-ANTICOAGULATE").preliminary is True


def test_anticoagulate_for_acute_pe_alone_in_scope():
    f = confirmed(dvt_diagnoses=[], pe_diagnoses=[cond("Condition/pe")], duplex_results=[duplex()])
    x = finding(f, "DVT-ANTICOAGULATE")
    assert x.acute_pe is True and x.dvt_confirmed is False


def test_anticoagulate_silent_on_treatment_dose():
    f = confirmed(medications=[med("enoxaparin", DrugClass.LMWH, dose=60, per_day=2)])
    assert "DVT-ANTICOAGULATE" not in ids(f)
    assert "DVT-ANTICOAGULATE" not in ids(confirmed(medications=[med("apixaban", dose=5, per_day=2)]))


def test_anticoagulate_names_a_prophylactic_dose():
    f = confirmed(medications=[med("enoxaparin", DrugClass.LMWH, dose=40, per_day=1)])
    x = finding(f, "DVT-ANTICOAGULATE")
    assert x.below_treatment == ("enoxaparin",)


def test_anticoagulate_names_an_unknown_dose():
    x = finding(confirmed(medications=[med("enoxaparin", DrugClass.LMWH)]), "DVT-ANTICOAGULATE")
    assert x.below_treatment == ("enoxaparin",)


def test_anticoagulate_still_fires_when_medications_are_unreadable():
    x = finding(confirmed(unreadable=frozenset({"MedicationRequest"})), "DVT-ANTICOAGULATE")
    assert x.medications_unknown is True


def test_anticoagulate_with_hit_suggests_no_enoxaparin():
    x = finding(confirmed(hit=[cond("Condition/hit")]), "DVT-ANTICOAGULATE")
    assert x.hit is True and x.proposals == ()


@pytest.mark.parametrize("platelets, fires, caution", [
    (24.9, False, None), (25, True, 25), (50, True, 50), (50.1, True, None)])
def test_anticoagulate_platelet_thresholds(platelets, fires, caution):
    x = finding(confirmed(platelets=[meas("Observation/plt", platelets, "10*3/uL", hours=2)]), "DVT-ANTICOAGULATE")
    assert (x is not None) is fires
    if fires:
        assert x.platelet_caution == caution


def test_missing_platelet_count_is_not_a_contraindication():
    x = finding(confirmed(platelets=[]), "DVT-ANTICOAGULATE")
    assert x.platelets_unknown is True


@pytest.mark.parametrize("days, fires", [(30, False), (31, True)])
def test_anticoagulate_bleeding_window(days, fires):
    f = confirmed(bleeding=[cond("Condition/gi-bleed", days=days, kind="bleeding")])
    assert ("DVT-ANTICOAGULATE" in ids(f)) is fires


# -- DVT-IVC-FILTER-OPTION ---------------------------------------------------------------------------
def test_ivc_filter_when_anticoagulation_contraindicated():
    x = finding(confirmed(bleeding=[cond("Condition/bleed", kind="bleeding", display="GI bleeding")]), "DVT-IVC-FILTER-OPTION")
    assert x.indicator == Indicator.WARNING
    assert x.contraindications == ("GI bleeding",)


def test_ivc_filter_for_low_platelets():
    f = confirmed(platelets=[meas("Observation/plt", 20, "10*3/uL", hours=2)])
    assert "DVT-IVC-FILTER-OPTION" in ids(f)


def test_ivc_filter_not_for_isolated_calf_dvt():
    f = confirmed(dvt_diagnoses=[dvt_dx(distal=True)], bleeding=[cond("Condition/bleed")])
    assert "DVT-IVC-FILTER-OPTION" not in ids(f)


def test_ivc_filter_not_without_contraindication():
    assert "DVT-IVC-FILTER-OPTION" not in ids(confirmed())


def test_ivc_filter_for_acute_pe_with_contraindication():
    f = confirmed(dvt_diagnoses=[dvt_dx(distal=True)], pe_diagnoses=[cond("Condition/pe")], bleeding=[cond("Condition/b")])
    assert "DVT-IVC-FILTER-OPTION" in ids(f)


# -- DVT-THROMBOLYSIS-OPTION -------------------------------------------------------------------------
def _hypotensive(**kw):
    kw.setdefault("phlegmasia", [cond("Condition/phlegmasia", days=1)])
    kw.setdefault("systolic_bp", [meas("Observation/bp1", 80, "mm[Hg]", minutes=40),
                                  meas("Observation/bp2", 82, "mm[Hg]", minutes=20)])
    return confirmed(**kw)


def test_thrombolysis_option_for_phlegmasia_with_severe_hypotension():
    x = finding(_hypotensive(), "DVT-THROMBOLYSIS-OPTION")
    assert x.indicator == Indicator.CRITICAL
    assert x.hemorrhage_risk_pct == 8


@pytest.mark.parametrize("change", [
    {"systolic_bp": []},
    {"systolic_bp": [meas("Observation/bp1", 80, "mm[Hg]", minutes=30), meas("Observation/bp2", 80, "mm[Hg]", minutes=16)]},
    {"phlegmasia": []},
    {"phlegmasia": [cond("Condition/ph", days=8)]},
    {"bleeding": [cond("Condition/bleed")]},
    {"hemorrhagic_shock": [cond("Condition/hshock", days=1)]},
])
def test_thrombolysis_option_silent(change):
    assert "DVT-THROMBOLYSIS-OPTION" not in ids(_hypotensive(**change))


def test_thrombolysis_option_needs_a_confirmed_dvt():
    f = _hypotensive(dvt_diagnoses=[], duplex_results=[duplex()])
    assert "DVT-THROMBOLYSIS-OPTION" not in ids(f)


def test_thrombolysis_literal_g10_is_a_setting():
    relaxed = PathwaySettings(thrombolysis_requires_hypotension=False)
    assert "DVT-THROMBOLYSIS-OPTION" in ids(_hypotensive(systolic_bp=[]), relaxed)


# -- MASS-CHARACTERIZE / MASS-EXTRINSIC --------------------------------------------------------------
def test_mass_characterize_suggests_contrast_ct():
    x = finding(left_swelling(masses=[mass()]), "MASS-CHARACTERIZE")
    assert x.indicator == Indicator.WARNING
    assert x.proposals == (CreateOrder("contrast-ct"),)


def test_mass_characterize_in_pregnancy_suggests_mri():
    x = finding(left_swelling(masses=[mass()], pregnancy=[cond("Condition/preg")]), "MASS-CHARACTERIZE")
    assert x.proposals == (CreateOrder("mri-pelvis"),)


@pytest.mark.parametrize("before, fires", [(14, False), (15, True)])
def test_mass_characterize_imaging_lookback(before, fires):
    f = left_swelling(masses=[mass(days=20)], imaging=[imaging(ImagingKind.CONTRAST_CT_MRI_ABDOMEN_PELVIS, 20 + before)])
    assert ("MASS-CHARACTERIZE" in ids(f)) is fires


@pytest.mark.parametrize("unreadable", ["Procedure", "ImagingStudy", "DiagnosticReport", "Observation"])
def test_mass_characterize_silent_when_imaging_data_unreadable(unreadable):
    assert "MASS-CHARACTERIZE" not in ids(left_swelling(masses=[mass()], unreadable=frozenset({unreadable})))


@pytest.mark.parametrize("nature", [MassNature.MALIGNANCY, MassNature.ABSCESS, MassNature.DISC_BULGE])
def test_mass_extrinsic(nature):
    x = finding(excluded(masses=[mass(nature=nature)], pelvic_venography=[pelvic(days=1)]), "MASS-EXTRINSIC")
    assert x.indicator == Indicator.WARNING
    assert x.nature == nature.value


def test_mass_extrinsic_silent_for_non_compressive_mass():
    f = excluded(masses=[mass(nature=MassNature.NON_COMPRESSIVE)], pelvic_venography=[pelvic(days=1)])
    assert "MASS-EXTRINSIC" not in ids(f)


# -- NIVL-WORKUP -------------------------------------------------------------------------------------
def test_nivl_workup_after_dvt_excluded():
    x = finding(excluded(), "NIVL-WORKUP")
    assert x.indicator == Indicator.INFO
    assert x.left_sided is True
    assert x.ivus_step is True
    assert x.ask_severity is False


def test_nivl_workup_right_side_is_not_called_left_sided():
    f = excluded(swellings=[swelling(Side.RIGHT)], duplex_results=[duplex(side=Side.RIGHT)])
    assert finding(f, "NIVL-WORKUP").left_sided is False


def test_nivl_workup_asks_for_severity_when_unknown():
    f = excluded(swellings=[swelling(severity=Severity.UNKNOWN)])
    assert finding(f, "NIVL-WORKUP").ask_severity is True


def test_nivl_workup_omits_ivus_step_once_ivus_exists():
    f = excluded(ivus_stenosis=[meas("Observation/ivus", None, "ratio")])
    assert finding(f, "NIVL-WORKUP").ivus_step is False


@pytest.mark.parametrize("f", [left_swelling(), nivl_confirmed()])
def test_nivl_workup_silent_unless_excluded_and_unknown(f):
    assert "NIVL-WORKUP" not in ids(f)


# -- NIVL-OTHER-CAUSES -------------------------------------------------------------------------------
def test_other_causes_names_each_cause():
    f = excluded(
        edema_causes=[cond("Condition/hf", kind=EdemaCauseKind.HEART_FAILURE.value, display="Heart failure")],
        albumin=[meas("Observation/alb", 2.1, "g/dL", days=5)],
    )
    x = finding(f, "NIVL-OTHER-CAUSES")
    assert x.indicator == Indicator.WARNING
    assert [(c.kind, c.ref) for c in x.causes] == [
        ("heart-failure", "Condition/hf"), ("hypoalbuminemia", "Observation/alb")]


@pytest.mark.parametrize("albumin, fires", [(2.5, False), (2.49, True)])
def test_other_causes_albumin_boundary(albumin, fires):
    f = excluded(albumin=[meas("Observation/alb", albumin, "g/dL", days=5)])
    assert ("NIVL-OTHER-CAUSES" in ids(f)) is fires


@pytest.mark.parametrize("protein, fires", [(5.0, False), (4.99, True)])
def test_other_causes_protein_boundary(protein, fires):
    f = excluded(total_protein=[meas("Observation/tp", protein, "g/dL", days=5)])
    assert ("NIVL-OTHER-CAUSES" in ids(f)) is fires


def test_other_causes_needs_dvt_excluded():
    f = left_swelling(edema_causes=[cond("Condition/hf", kind="heart-failure")])
    assert "NIVL-OTHER-CAUSES" not in ids(f)


# -- NIVL-BILATERAL-EDEMA ----------------------------------------------------------------------------
def test_bilateral_edema_with_compression_diagnosis():
    f = facts(swellings=[swelling(Side.BOTH)], nivl_diagnoses=[cond("Condition/mt")])
    assert finding(f, "NIVL-BILATERAL-EDEMA").indicator == Indicator.WARNING


def test_bilateral_edema_with_dvt_excluded():
    f = facts(swellings=[swelling(Side.BOTH)], masses=[mass()], duplex_results=[duplex(side=Side.BOTH)],
              pelvic_venography=[pelvic(days=1)])
    assert "NIVL-BILATERAL-EDEMA" in ids(f)


def test_bilateral_edema_silent_when_nivl_not_considered():
    f = facts(swellings=[swelling(Side.BOTH)], masses=[mass()])
    assert "NIVL-BILATERAL-EDEMA" not in ids(f)


def test_unilateral_edema_is_not_bilateral():
    assert "NIVL-BILATERAL-EDEMA" not in ids(nivl_confirmed())


# -- NIVL-CT-NOT-DIAGNOSTIC / NIVL-IVUS-REQUIRED ----------------------------------------------------
def _ct(**kw):
    kw.setdefault("ct_compression", [meas("Observation/ct", 55, "%", days=3)])
    return excluded(**kw)


def test_ct_not_diagnostic_for_a_candidate_suggests_venography_ivus():
    x = finding(_ct(), "NIVL-CT-NOT-DIAGNOSTIC")
    assert x.indicator == Indicator.WARNING
    assert x.ct_percent == 55
    assert x.proposals == (CreateOrder("venography-ivus", Side.LEFT),)


@pytest.mark.parametrize("change", [
    {"swellings": [swelling(severity=Severity.MINIMAL)]},
    {"edema_causes": [cond("Condition/hf", kind="heart-failure")]},
    {"duplex_results": []},
    {"unreadable": frozenset({"MedicationRequest"})},
])
def test_ct_not_diagnostic_suggests_nothing_for_a_non_candidate(change):
    x = finding(_ct(**change), "NIVL-CT-NOT-DIAGNOSTIC")
    assert x is not None and x.proposals == ()


def test_ct_not_diagnostic_silent_once_ivus_exists():
    assert "NIVL-CT-NOT-DIAGNOSTIC" not in ids(_ct(imaging=[imaging(ImagingKind.IVUS, 1)]))


def test_ct_not_diagnostic_silent_when_ivus_data_unreadable():
    assert "NIVL-CT-NOT-DIAGNOSTIC" not in ids(_ct(unreadable=frozenset({"Procedure"})))


def test_ivus_required_for_compression_diagnosis_without_ivus():
    x = finding(excluded(nivl_diagnoses=[cond("Condition/mt")]), "NIVL-IVUS-REQUIRED")
    assert x.indicator == Indicator.WARNING
    assert x.proposals == (CreateOrder("venography-ivus", Side.LEFT),)


def test_ivus_required_with_pelvic_imaging_pending():
    f = excluded(nivl_diagnoses=[cond("Condition/mt")], persisting_swelling=[ev("Observation/p", "p", ago(1))])
    assert "NIVL-IVUS-REQUIRED" in ids(f)


@pytest.mark.parametrize("f", [
    left_swelling(nivl_diagnoses=[cond("Condition/mt")]),  # DVT unassessed
    confirmed(nivl_diagnoses=[cond("Condition/mt")]),  # DVT confirmed
    _ct(nivl_diagnoses=[cond("Condition/mt")]),  # NIVL-CT-NOT-DIAGNOSTIC speaks instead
    excluded(nivl_diagnoses=[cond("Condition/mt")], unreadable=frozenset({"ImagingStudy"})),  # IVUS unknown
    nivl_confirmed(),  # IVUS on record
])
def test_ivus_required_silent(f):
    assert "NIVL-IVUS-REQUIRED" not in ids(f)


def test_ct_rule_takes_over_from_ivus_required():
    assert "NIVL-CT-NOT-DIAGNOSTIC" in ids(_ct(nivl_diagnoses=[cond("Condition/mt")]))


# -- NIVL-STENT-CANDIDATE ----------------------------------------------------------------------------
def test_stent_candidate_with_sizing():
    x = finding(nivl_confirmed(), "NIVL-STENT-CANDIDATE")
    assert x.indicator == Indicator.INFO
    assert x.reference_mm == 14
    assert (x.diameter_min_mm, x.diameter_max_mm) == (15, 18)
    assert x.min_length_mm == 60


@pytest.mark.parametrize("ivus, fires", [(61.0, False), (61.1, True)])
def test_stent_candidate_ivus_boundary(ivus, fires):
    assert ("NIVL-STENT-CANDIDATE" in ids(nivl_confirmed(ivus=ivus))) is fires


@pytest.mark.parametrize("change", [
    {"stents": [stent(100)]},
    {"swellings": [swelling(Side.LEFT), swelling(Side.RIGHT, ref="Condition/r")]},
    {"swellings": [swelling(severity=Severity.MINIMAL)]},
    {"swellings": [swelling(severity=Severity.UNKNOWN)]},
    {"edema_causes": [cond("Condition/ckd", kind="renal-disease")]},
    {"albumin": [meas("Observation/alb", None, "mmol/L", days=2)]},
    {"masses": [mass()], "pelvic_venography": [pelvic(days=1, method="mr-venography")]},
    {"masses": [mass()], "pelvic_venography": [pelvic(days=1)], "unreadable": frozenset({"ImagingStudy"})},
])
def test_stent_candidate_silent(change):
    assert "NIVL-STENT-CANDIDATE" not in ids(nivl_confirmed(**change))


def test_stent_candidate_with_scrotal_edema_and_mild_swelling():
    f = nivl_confirmed(swellings=[swelling(severity=Severity.MINIMAL)], genital_edema=[cond("Condition/scrotal")])
    assert "NIVL-STENT-CANDIDATE" in ids(f)


def test_stent_candidate_asks_to_confirm_an_imaged_mass_of_unknown_nature():
    f = nivl_confirmed(masses=[mass(days=20)], pelvic_venography=[pelvic(days=1)])
    x = finding(f, "NIVL-STENT-CANDIDATE")
    assert x.mass_recorded_date == ago(20).date().isoformat()
    assert x.mass_imaged_date == ago(1).date().isoformat()


def test_stent_candidate_without_reference_diameter():
    x = finding(nivl_confirmed(eiv_reference_diameter=[]), "NIVL-STENT-CANDIDATE")
    assert x.reference_mm is None and x.diameter_min_mm is None and x.diameter_max_mm is None


# -- NIVL-BELOW-THRESHOLD / DYNAMIC / MINIMAL --------------------------------------------------------
@pytest.mark.parametrize("ivus, fires", [(61.0, True), (61.1, False)])
def test_below_threshold_boundary(ivus, fires):
    x = finding(nivl_confirmed(ivus=ivus), "NIVL-BELOW-THRESHOLD")
    assert (x is not None) is fires
    if fires:
        assert x.indicator == Indicator.INFO and x.ivus_percent == 61.0


def test_below_threshold_fires_whatever_the_dvt_axis():
    assert "NIVL-BELOW-THRESHOLD" in ids(nivl_confirmed(ivus=40, duplex_results=[]))


def test_dynamic_lesion():
    f = nivl_confirmed(lesion_behavior=[(ev("Observation/beh", "dynamic", ago(1)), LesionBehavior.DYNAMIC)])
    x = finding(f, "NIVL-DYNAMIC-LESION")
    assert x.indicator == Indicator.WARNING
    assert "NIVL-STENT-CANDIDATE" not in ids(f)


def test_fixed_lesion_is_not_dynamic():
    f = nivl_confirmed(lesion_behavior=[(ev("Observation/beh", "fixed", ago(1)), LesionBehavior.FIXED)])
    assert "NIVL-DYNAMIC-LESION" not in ids(f)


def test_minimal_symptoms():
    x = finding(nivl_confirmed(swellings=[swelling(severity=Severity.MINIMAL)]), "NIVL-MINIMAL-SYMPTOMS")
    assert x.indicator == Indicator.INFO and x.symptoms == "minimal"


def test_no_symptoms_is_prophylaxis():
    f = nivl_confirmed(swellings=[])
    a = assess(f, S)
    assert a.dvt_axis == "excluded"  # the study has no side and the patient no swelling: it speaks for "the leg"
    assert finding(f, "NIVL-MINIMAL-SYMPTOMS").symptoms == "none"


def test_significant_symptoms_are_not_minimal():
    assert "NIVL-MINIMAL-SYMPTOMS" not in ids(nivl_confirmed())


# -- POST-STENT-FOLLOWUP -----------------------------------------------------------------------------
def _stented(days_since_stent, imaging_days_ago=None, **kw):
    kw["stents"] = [stent(days_since_stent)]
    if imaging_days_ago is not None:
        kw["imaging"] = [imaging(ImagingKind.ILIOCAVAL_DUPLEX, imaging_days_ago)]
    return left_swelling(duplex_results=[duplex()], **kw)


@pytest.mark.parametrize("days, fires", [(30, False), (31, True)])
def test_first_surveillance_study_within_30_days(days, fires):
    x = finding(_stented(days), "POST-STENT-FOLLOWUP")
    assert (x is not None) is fires
    if fires:
        assert x.due_day == 30
        assert x.proposals == (CreateOrder("iliocaval-duplex"),)


@pytest.mark.parametrize("days, fires", [(182, False), (183, True)])
def test_six_month_study(days, fires):
    # Imaged on day 20 after the stent: the 30-day study is done, the 6-month one is due by day 182.
    assert ("POST-STENT-FOLLOWUP" in ids(_stented(days, days - 20))) is fires


@pytest.mark.parametrize("days, fires", [(365, False), (366, True)])
def test_twelve_month_study(days, fires):
    assert ("POST-STENT-FOLLOWUP" in ids(_stented(days, days - 180))) is fires


@pytest.mark.parametrize("days, fires", [(730, False), (731, True)])
def test_then_yearly(days, fires):
    assert ("POST-STENT-FOLLOWUP" in ids(_stented(days, days - 360))) is fires


def test_recent_imaging_keeps_surveillance_quiet():
    assert "POST-STENT-FOLLOWUP" not in ids(_stented(400, 10))


def test_leg_duplex_is_not_stent_surveillance():
    f = _stented(100)
    f.imaging.append(imaging(ImagingKind.LEG_DUPLEX, 5))
    assert "POST-STENT-FOLLOWUP" in ids(f)


def test_surveillance_not_claimed_when_imaging_unreadable():
    assert "POST-STENT-FOLLOWUP" not in ids(_stented(100, unreadable=frozenset({"ImagingStudy"})))


def test_surveillance_schedule_is_configurable():
    s = PathwaySettings(stent_followup_schedule_days=(14, 90, 365))
    assert "POST-STENT-FOLLOWUP" in ids(_stented(15), s)


# -- POST-STENT-ANTITHROMBOTIC -----------------------------------------------------------------------
def test_antithrombotic_after_nivl_stent():
    f = facts(stents=[stent(100)], medications=[med("clopidogrel", DrugClass.ANTIPLATELET)])
    x = finding(f, "POST-STENT-ANTITHROMBOTIC")
    assert x.indicator == Indicator.INFO
    assert x.medications == ("clopidogrel",)


def test_antithrombotic_reason_naming_the_stent_still_fires():
    m = med("apixaban", reason_codes=("http://hl7.org/fhir/sid/icd-10-cm|Z95.828",), reason_text="iliac vein stent")
    assert "POST-STENT-ANTITHROMBOTIC" in ids(facts(stents=[stent(100)], medications=[m]))


@pytest.mark.parametrize("change", [
    {"medications": [med("aspirin", DrugClass.ANTIPLATELET, reason_codes=("http://hl7.org/fhir/sid/icd-10-cm|I25.10",))]},
    {"medications": [med("apixaban", reason_text="atrial fibrillation")]},
    {"medications": [med("aspirin", DrugClass.ANTIPLATELET)], "other_antithrombotic_indications": [cond("Condition/af")]},
    {"medications": [med("aspirin", DrugClass.ANTIPLATELET)], "vte_history": [cond("Condition/z86", active=False)]},
    {"medications": []},
    {"medications": [med("aspirin", DrugClass.ANTIPLATELET)], "unreadable": frozenset({"Condition"})},
])
def test_antithrombotic_silent(change):
    assert "POST-STENT-ANTITHROMBOTIC" not in ids(facts(stents=[stent(100)], **change))


# -- ordering and catalogue --------------------------------------------------------------------------
def test_findings_come_in_pathway_order():
    f = confirmed(masses=[mass()], stents=[stent(100)])
    found = ids(f)
    order = [rule.rule_id for rule in PATIENT_VIEW_RULES]
    assert found == sorted(found, key=order.index)
    assert found[:2] == ["DVT-ANTICOAGULATE", "MASS-CHARACTERIZE"]


def test_every_rule_unit_is_named_for_its_rule_and_cites_the_guideline():
    assert rules_for("patient-view") == PATIENT_VIEW_RULES
    for rule in PATIENT_VIEW_RULES:
        unit = sys.modules[rule.evaluate.__module__]
        assert unit.__name__ == "cds_service.rules." + rule.rule_id.lower().replace("-", "_")
        assert unit.__doc__.startswith(rule.rule_id + " "), rule.rule_id
        assert set(rule.guideline_lines) <= cited_lines(unit.__doc__), rule.rule_id
        assert rule.render.__module__ == unit.__name__, rule.rule_id


def cited_lines(docstring: str) -> set[int]:
    """Guideline lines a docstring cites: "G:8", "G:24-29"."""
    lines: set[int] = set()
    for first, last in re.findall(r"G:(\d+)(?:-(\d+))?", docstring):
        lines.update(range(int(first), int(last or first) + 1))
    return lines


def test_catalogue_thresholds_are_settings():
    fields = set(PathwaySettings.__dataclass_fields__)
    for rule in PATIENT_VIEW_RULES:
        assert rule.hook == "patient-view"
        assert set(rule.thresholds) <= fields, rule.rule_id


@pytest.mark.parametrize("module", ["assessment", "axes", "dosing", "findings", "settings", "guideline"])
def test_pathway_modules_import_no_web_http_or_fhir_models(module):
    import ast
    from pathlib import Path

    import cds_service.pathway as package

    source = (Path(package.__file__).parent / f"{module}.py").read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    forbidden = {name for name in imported if name.split(".")[0] in ("flask", "requests") or name.startswith("fhir.resources")}
    assert not forbidden, forbidden


# -- clinical audit (docs/decisions.md "Clinical audit: patient-view") --------------------------------
@pytest.mark.parametrize("weight", [0, -80])
def test_anticoagulate_with_a_zero_or_negative_weight_asks_for_a_weight(weight):
    x = finding(confirmed(weight=[meas("Observation/w", weight, "kg", days=1)]), "DVT-ANTICOAGULATE")
    assert x.indicator == Indicator.CRITICAL
    assert x.proposals == () and x.weight_kg is None


@pytest.mark.parametrize("weight, proposals", [(5, (CreateEnoxaparin(10, 2),)), (4.9, ())])
def test_anticoagulate_never_suggests_0_mg(weight, proposals):
    x = finding(confirmed(weight=[meas("Observation/w", weight, "kg", days=1)]), "DVT-ANTICOAGULATE")
    assert x.proposals == proposals
    assert x.weight_implausible is (not proposals)


@pytest.mark.parametrize("hit, status", [
    (cond("Condition/hit", verification=Verification.PROVISIONAL), "suspected"),
    (cond("Condition/hit", days=700, active=False), "history"),
])
def test_anticoagulate_with_suspected_or_past_hit_suggests_no_enoxaparin(hit, status):
    x = finding(confirmed(hit=[hit]), "DVT-ANTICOAGULATE")
    assert x.indicator == Indicator.CRITICAL
    assert x.proposals == ()
    assert (x.hit, x.hit_status) == (True, status)


def test_pelvic_imaging_preliminary_study_suggests_nothing():
    f = excluded(masses=[mass()], pelvic_venography=[pelvic(status=ResultStatus.PRELIMINARY)])
    x = finding(f, "DVT-PELVIC-IMAGING")
    assert x.variant == "preliminary"
    assert x.study_date == ago(1).date().isoformat()
    assert x.proposals == ()


def test_dvt_duplex_names_a_preliminary_report_rather_than_an_uncoded_one():
    f = left_swelling(duplex_results=[duplex(status=ResultStatus.PRELIMINARY, ref="DiagnosticReport/p")],
                      imaging=[imaging(ImagingKind.LEG_DUPLEX, 2, ref="DiagnosticReport/p")])
    x = finding(f, "DVT-DUPLEX")
    assert x.variant == "preliminary" and x.proposals == ()


def test_dvt_duplex_awaits_a_complete_study_newer_than_the_limited_one():
    f = left_swelling(duplex_results=[duplex(extent=DuplexExtent.LIMITED, days=5),
                                      duplex(status=ResultStatus.PRELIMINARY, days=1, ref="DiagnosticReport/p")])
    x = finding(f, "DVT-DUPLEX")
    assert x.variant == "preliminary" and x.proposals == ()


@pytest.mark.parametrize("f, mass_on_record", [(left_swelling(), False), (left_swelling(masses=[mass()]), True)])
def test_dvt_duplex_records_whether_a_mass_is_on_record(f, mass_on_record):
    assert finding(f, "DVT-DUPLEX").mass is mass_on_record


def test_stent_candidate_silent_when_procedures_unreadable():
    # a stent may be on record: "no stent yet" cannot be claimed
    assert "NIVL-STENT-CANDIDATE" not in ids(nivl_confirmed(unreadable=frozenset({"Procedure"})))


def test_stent_candidate_says_whether_the_lesion_is_recorded_as_fixed():
    assert finding(nivl_confirmed(), "NIVL-STENT-CANDIDATE").fixed_recorded is False
    fixed = [(ev("Observation/beh", "fixed", ago(1)), LesionBehavior.FIXED)]
    assert finding(nivl_confirmed(lesion_behavior=fixed), "NIVL-STENT-CANDIDATE").fixed_recorded is True


@pytest.mark.parametrize("platelets, unknown", [([], True), ([meas("Observation/plt", 200, "10*3/uL", hours=2)], False)])
def test_thrombolysis_option_says_when_the_platelet_count_is_unknown(platelets, unknown):
    x = finding(_hypotensive(platelets=platelets), "DVT-THROMBOLYSIS-OPTION")
    assert x.platelets_unknown is unknown


@pytest.mark.parametrize("last_study_day, due_day", [
    (None, 30), (1, 182), (20, 182), (106, 182), (107, 365), (190, 365), (360, 730), (400, 730), (950, 1460)])
def test_next_surveillance_day_from_the_nearest_scheduled_study(last_study_day, due_day):
    # 106 is as near to day 30 as to day 182: the tie goes to the earlier (stricter) day
    assert post_stent_followup.next_surveillance_day(S, last_study_day) == due_day


@pytest.mark.parametrize("days, fires", [(365, False), (366, True)])
def test_one_late_six_month_study_does_not_stand_for_the_twelve_month_study(days, fires):
    x = finding(_stented(days, days - 190), "POST-STENT-FOLLOWUP")  # imaged on day 190 only
    assert (x is not None) is fires
    if fires:
        assert x.due_day == 365


@pytest.mark.parametrize("hours_after_stent, fires", [(2, True), (24, False)])
def test_imaging_on_the_stent_day_is_not_surveillance(hours_after_stent, fires):
    f = _stented(31)
    f.imaging.append(imaging(ImagingKind.IVUS, 31 - hours_after_stent / 24))
    assert ("POST-STENT-FOLLOWUP" in ids(f)) is fires


@pytest.mark.parametrize("change, reason, proposals", [
    ({"medications": [med("enoxaparin", DrugClass.LMWH, dose=70, per_day=2)], "hit": [cond("Condition/hit")]},
     "heparin-induced thrombocytopenia", ()),
    ({"medications": [med("warfarin", dose=5, per_day=1)], "pregnancy": [cond("Condition/preg")]},
     "pregnancy", (CreateEnoxaparin(70, 2),)),
])
def test_anticoagulate_fires_for_a_treatment_dose_the_patient_must_not_have(change, reason, proposals):
    x = finding(confirmed(**change), "DVT-ANTICOAGULATE")
    assert x.indicator == Indicator.CRITICAL
    assert [u.reason for u in x.unsuitable] == [reason]
    assert x.proposals == proposals


@pytest.mark.parametrize("ivus, report_step", [
    ([meas("Observation/ivus", None, "percent", days=1)], True),  # IVUS done, stenosis unreadable
    ([], False),  # no IVUS: the venography-with-IVUS step instead
])
def test_nivl_workup_asks_to_review_an_ivus_report_without_a_readable_stenosis(ivus, report_step):
    x = finding(excluded(ivus_stenosis=ivus), "NIVL-WORKUP")
    assert x.ivus_report_step is report_step
    assert x.ivus_step is (not ivus)
