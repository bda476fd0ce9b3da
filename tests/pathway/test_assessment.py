"""`assess`: scope, the three axes and the safety facts, with every time window and threshold on both sides.

Facts come from the builders of `tests/helpers/facts.py`.
"""
from __future__ import annotations

from dataclasses import replace

import pytest

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
from cds_service.pathway.settings import PathwaySettings
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
    run,
    stent,
    swelling,
)


# -- scope -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "f, in_scope",
    [
        (facts(), False),
        (left_swelling(), True),
        (facts(swellings=[swelling(Side.RIGHT)]), True),
        (facts(swellings=[swelling(Side.BOTH)]), False),
        (facts(swellings=[swelling(Side.LEFT), swelling(Side.RIGHT, ref="Condition/r")]), False),
        (facts(swellings=[swelling(Side.UNKNOWN)]), False),
        (facts(swellings=[swelling(Side.BOTH)], masses=[mass()]), True),
        (facts(swellings=[swelling(Side.UNKNOWN)], stents=[stent(100)]), True),
        (facts(masses=[mass()]), False),
        (facts(nivl_diagnoses=[cond("Condition/mt")]), True),
        (facts(nivl_diagnoses=[cond("Condition/mt", verification=Verification.PROVISIONAL)]), False),
        (facts(nivl_diagnoses=[cond("Condition/mt", active=False)]), False),
        (facts(stents=[stent(400)]), True),
        (facts(dvt_diagnoses=[dvt_dx(days=5)]), True),
        (facts(dvt_diagnoses=[dvt_dx(days=200)]), False),
        (facts(pe_diagnoses=[cond("Condition/pe")]), False),
    ],
)
def test_scope(f, in_scope):
    assert run(f).in_scope is in_scope


# -- DVT axis ----------------------------------------------------------------------------------------
def test_no_study_is_unassessed():
    assert run(left_swelling()).dvt_axis == "unassessed"


@pytest.mark.parametrize("days, axis", [(90, "confirmed"), (91, "unassessed")])
def test_acute_dvt_diagnosis_is_current_90_days(days, axis):
    assert run(left_swelling(dvt_diagnoses=[dvt_dx(days=days)])).dvt_axis == axis


@pytest.mark.parametrize("dx", [
    dvt_dx(verification=Verification.PROVISIONAL),
    dvt_dx(active=False),
    dvt_dx(chronic=True),
])
def test_provisional_inactive_or_chronic_dvt_does_not_confirm(dx):
    assert run(left_swelling(dvt_diagnoses=[dx])).dvt_axis == "unassessed"


def test_preliminary_positive_confirms_and_is_flagged():
    a = run(left_swelling(duplex_results=[duplex(ThrombusResult.PRESENT, status=ResultStatus.PRELIMINARY)]))
    assert a.dvt_axis == "confirmed"
    assert a.dvt_preliminary is True
    assert a.dvt_evidence[0].ref == "DiagnosticReport/duplex-2"


def test_final_positive_is_not_preliminary():
    a = run(left_swelling(duplex_results=[duplex(ThrombusResult.PRESENT)]))
    assert (a.dvt_axis, a.dvt_preliminary) == ("confirmed", False)


@pytest.mark.parametrize("days, axis", [(90, "confirmed"), (91, "unassessed")])
def test_positive_study_is_current_90_days(days, axis):
    assert run(left_swelling(duplex_results=[duplex(ThrombusResult.PRESENT, days=days)])).dvt_axis == axis


def test_positive_study_of_the_other_leg_still_confirms_a_dvt():
    a = run(left_swelling(duplex_results=[duplex(ThrombusResult.PRESENT, side=Side.RIGHT)]))
    assert a.dvt_axis == "confirmed"


def test_preliminary_negative_never_excludes():
    a = run(left_swelling(duplex_results=[duplex(status=ResultStatus.PRELIMINARY)]))
    assert a.dvt_axis == "unassessed"
    assert a.dvt.pending_study is not None


def test_newest_final_result_wins_within_duplexes():
    older_positive = duplex(ThrombusResult.PRESENT, days=10)
    newer_negative = duplex(days=2)
    assert run(left_swelling(duplex_results=[older_positive, newer_negative])).dvt_axis == "excluded"


def test_a_negative_pelvic_study_does_not_override_a_positive_leg_duplex():
    f = left_swelling(duplex_results=[duplex(ThrombusResult.PRESENT, days=5)], pelvic_venography=[pelvic(days=1)])
    assert run(f).dvt_axis == "confirmed"


@pytest.mark.parametrize("days, axis", [(90, "excluded"), (91, "unassessed")])
def test_negative_duplex_valid_90_days(days, axis):
    f = left_swelling(swellings=[swelling(days=days + 5)], duplex_results=[duplex(days=days)])
    a = run(f)
    assert a.dvt_axis == axis
    assert (a.dvt.expired_study is not None) is (axis == "unassessed")


def test_limited_negative_duplex_without_trigger_is_unassessed_and_named():
    f = left_swelling(duplex_results=[duplex(extent=DuplexExtent.LIMITED)])
    a = run(f)
    assert a.dvt_axis == "unassessed"
    assert a.limited_study.extent == DuplexExtent.LIMITED


def test_unknown_extent_negative_duplex_is_unassessed():
    assert run(left_swelling(duplex_results=[duplex(extent=DuplexExtent.UNKNOWN)])).dvt_axis == "unassessed"


def test_study_of_the_other_leg_does_not_exclude():
    assert run(left_swelling(duplex_results=[duplex(side=Side.RIGHT)])).dvt_axis == "unassessed"


@pytest.mark.parametrize("side", [Side.UNKNOWN, Side.BOTH])
def test_study_with_no_side_or_both_counts_for_the_leg(side):
    assert run(left_swelling(duplex_results=[duplex(side=side)])).dvt_axis == "excluded"


def test_persisting_swelling_after_the_duplex_is_a_pelvic_trigger():
    f = excluded(persisting_swelling=[ev("Observation/persist", "whole-leg swelling persists", ago(1))])
    a = run(f)
    assert a.dvt_axis == "pelvic-imaging-needed"
    assert [t.kind for t in a.pelvic_triggers] == ["persisting-swelling"]


def test_persisting_swelling_before_the_duplex_is_not_a_trigger():
    f = excluded(persisting_swelling=[ev("Observation/persist", "whole-leg swelling persists", ago(3))])
    assert run(f).dvt_axis == "excluded"


def test_same_swelling_recorded_again_after_the_duplex_persists():
    f = excluded(swellings=[swelling(days=10), swelling(days=1, ref="Condition/again")])
    a = run(f)
    assert a.dvt_axis == "pelvic-imaging-needed"
    assert a.pelvic_triggers[0].evidence.ref == "Condition/again"


def test_worsening_swelling_after_the_duplex_voids_it():
    f = excluded(swellings=[swelling(severity=Severity.MINIMAL, days=10), swelling(days=1, ref="Condition/worse")])
    a = run(f)
    assert a.dvt_axis == "unassessed"
    assert a.dvt.voided_by.evidence.ref == "Condition/worse"


@pytest.mark.parametrize("before, after, voided", [
    ("moderate", "severe", True),
    ("mild", "moderate", True),
    ("severe", "severe", False),
    ("severe", "moderate", False),
    ("", "severe", False),  # unknown before: cannot show worsening
])
def test_worsening_by_recorded_grade(before, after, voided):
    severity = {"mild": Severity.MINIMAL, "": Severity.UNKNOWN}.get
    first = replace(swelling(days=10), grade=before, severity=severity(before, Severity.SIGNIFICANT))
    later = replace(swelling(days=1, ref="Condition/later"), grade=after, severity=severity(after, Severity.SIGNIFICANT))
    a = run(excluded(swellings=[first, later]))
    assert (a.dvt.voided_by is not None) is voided
    assert a.dvt_axis == ("unassessed" if voided else "pelvic-imaging-needed")


def test_swelling_on_a_new_leg_after_the_duplex_voids_it():
    f = excluded(
        swellings=[swelling(days=10), swelling(Side.RIGHT, days=1, ref="Condition/right")],
        duplex_results=[duplex(side=Side.UNKNOWN)],
    )
    a = run(f)
    assert a.dvt_axis == "unassessed"
    assert a.dvt.voided_by.evidence.ref == "Condition/right"


def test_first_swelling_recorded_after_the_duplex_voids_it():
    f = facts(masses=[mass()], swellings=[swelling(days=1)], duplex_results=[duplex(days=2)])
    assert run(f).dvt.voided_by is not None


@pytest.mark.parametrize("value, axis", [
    (Waveform.NON_PHASIC, "pelvic-imaging-needed"),
    (Waveform.ABSENT, "pelvic-imaging-needed"),
    (Waveform.PHASIC, "excluded"),
])
def test_cfv_waveform_trigger(value, axis):
    f = excluded(cfv_waveforms=[WaveformFact(ev("Observation/cfv", value.value, ago(2)), value, Side.LEFT)])
    assert run(f).dvt_axis == axis


def test_pelvic_mass_is_a_trigger():
    a = run(excluded(masses=[mass()]))
    assert a.dvt_axis == "pelvic-imaging-needed"
    assert [t.kind for t in a.pelvic_triggers] == ["pelvic-mass"]


def test_negative_pelvic_venography_after_the_duplex_excludes():
    assert run(excluded(masses=[mass()], pelvic_venography=[pelvic(days=1)])).dvt_axis == "excluded"


def test_negative_pelvic_venography_before_the_duplex_does_not_exclude():
    assert run(excluded(masses=[mass()], pelvic_venography=[pelvic(days=3)])).dvt_axis == "pelvic-imaging-needed"


def test_preliminary_negative_pelvic_venography_does_not_exclude():
    a = run(excluded(masses=[mass()], pelvic_venography=[pelvic(status=ResultStatus.PRELIMINARY)]))
    assert a.dvt_axis == "pelvic-imaging-needed"
    assert a.unreadable_pelvic_study is not None


def test_pelvic_venography_done_without_coded_result_is_named():
    a = run(excluded(masses=[mass()], imaging=[imaging(ImagingKind.CT_VENOGRAPHY_PELVIS, 1)]))
    assert a.dvt_axis == "pelvic-imaging-needed"
    assert a.unreadable_pelvic_study.ref == "ImagingStudy/ct-venography-pelvis-1"


def test_positive_pelvic_venography_confirms():
    assert run(excluded(pelvic_venography=[pelvic(ThrombusResult.PRESENT)])).dvt_axis == "confirmed"


def test_newer_duplex_without_coded_result_blocks_exclusion():
    f = excluded(duplex_results=[duplex(days=5), duplex(ThrombusResult.UNREADABLE, days=1, ref="DiagnosticReport/nc")])
    a = run(f)
    assert a.dvt_axis == "unassessed"
    assert a.unreadable_study.ref == "DiagnosticReport/nc"


def test_duplex_imaging_without_any_result_is_unreadable():
    a = run(left_swelling(imaging=[imaging(ImagingKind.LEG_DUPLEX, 1)]))
    assert a.dvt_axis == "unassessed"
    assert a.unreadable_study.ref == "ImagingStudy/leg-duplex-1"


def test_duplex_imaging_matched_by_its_result_is_not_unreadable():
    a = run(excluded(imaging=[imaging(ImagingKind.LEG_DUPLEX, 2)]))
    assert a.dvt_axis == "excluded"
    assert a.unreadable_study is None


@pytest.mark.parametrize("unreadable", ["DiagnosticReport", "Observation"])
def test_unreadable_reports_never_conclude_excluded(unreadable):
    a = run(excluded(unreadable=frozenset({unreadable})))
    assert a.dvt_axis == "unassessed"
    assert a.dvt.reports_unreadable == (unreadable,)
    assert "dvt-studies" in a.unknown


def test_confirmed_dvt_with_flat_cfv_waveform_and_no_pelvic_imaging():
    waveform = WaveformFact(ev("Observation/cfv", "non-phasic", ago(2)), Waveform.NON_PHASIC, Side.LEFT)
    a = run(left_swelling(dvt_diagnoses=[dvt_dx(days=3)], cfv_waveforms=[waveform]))
    assert a.dvt_axis == "confirmed"
    assert a.cfv_abnormal == waveform
    assert a.dvt.pelvic_imaging_since_waveform is False
    a2 = run(left_swelling(dvt_diagnoses=[dvt_dx(days=3)], cfv_waveforms=[waveform], pelvic_venography=[pelvic(days=1)]))
    assert a2.dvt.pelvic_imaging_since_waveform is True


def test_isolated_calf_dvt_is_not_proximal():
    assert run(left_swelling(dvt_diagnoses=[dvt_dx(distal=True)])).dvt_proximal_or_unspecified is False
    assert run(left_swelling(dvt_diagnoses=[dvt_dx()])).dvt_proximal_or_unspecified is True
    assert run(left_swelling(duplex_results=[duplex(ThrombusResult.PRESENT)])).dvt_proximal_or_unspecified is True


@pytest.mark.parametrize("days, pe", [(90, True), (91, False)])
def test_acute_pe_current_90_days(days, pe):
    assert run(left_swelling(pe_diagnoses=[cond("Condition/pe", days=days)])).acute_pe is pe


# -- lesion axis -------------------------------------------------------------------------------------
@pytest.mark.parametrize("ivus, axis", [(61.0, "below-threshold"), (61.1, "nivl-confirmed"), (45, "below-threshold")])
def test_ivus_threshold_is_strictly_above_61(ivus, axis):
    assert run(nivl_confirmed(ivus=ivus)).lesion_axis == axis


def test_nivl_needs_dvt_excluded():
    f = nivl_confirmed(duplex_results=[])
    assert run(f).lesion_axis == "unknown"


def test_ivus_threshold_follows_settings():
    assert run(nivl_confirmed(ivus=65), PathwaySettings(ivus_stenosis_threshold_pct=70)).lesion_axis == "below-threshold"


def test_ivus_in_an_unknown_unit_decides_nothing():
    f = nivl_confirmed(ivus_stenosis=[meas("Observation/ivus", None, "%")])
    a = run(f)
    assert a.lesion_axis == "unknown"
    assert a.ivus_done is not None


def test_dynamic_lesion():
    f = nivl_confirmed(lesion_behavior=[(ev("Observation/behavior", "dynamic", ago(1)), LesionBehavior.DYNAMIC)])
    a = run(f)
    assert a.lesion_axis == "dynamic"
    assert a.lesion_dynamic.ref == "Observation/behavior"


def test_newest_lesion_behaviour_wins():
    behaviors = [
        (ev("Observation/b1", "dynamic", ago(5)), LesionBehavior.DYNAMIC),
        (ev("Observation/b2", "fixed", ago(1)), LesionBehavior.FIXED),
    ]
    assert run(nivl_confirmed(lesion_behavior=behaviors)).lesion_axis == "nivl-confirmed"


def test_post_thrombotic_lesion_is_not_nivl():
    a = run(nivl_confirmed(dvt_diagnoses=[dvt_dx(days=400, chronic=True, active=False)]))
    assert a.lesion_axis == "post-thrombotic"


def test_chronic_thrombus_on_duplex_is_post_thrombotic():
    f = nivl_confirmed(duplex_results=[duplex(ThrombusResult.CHRONIC)])
    assert run(f).lesion_axis == "post-thrombotic"


@pytest.mark.parametrize("nature", sorted(set(MassNature) - {MassNature.NON_COMPRESSIVE}, key=lambda n: n.value))
def test_characterized_compressive_mass_is_extrinsic(nature):
    a = run(nivl_confirmed(masses=[mass(nature=nature)]))
    assert a.lesion_axis == "extrinsic"
    assert a.extrinsic_mass.kind == nature.value


def test_non_compressive_mass_is_not_extrinsic():
    assert run(nivl_confirmed(masses=[mass(nature=MassNature.NON_COMPRESSIVE)], pelvic_venography=[pelvic(days=1)])).lesion_axis == "nivl-confirmed"


def test_site_specific_nature_diagnosis_is_extrinsic():
    f = excluded(mass_natures=[cond("Condition/c56", kind=MassNature.MALIGNANCY.value, display="Ovarian cancer")])
    assert run(f).lesion_axis == "extrinsic"


def test_extrinsic_wins_over_post_thrombotic():
    f = excluded(masses=[mass(nature=MassNature.ABSCESS)], dvt_diagnoses=[dvt_dx(days=400, chronic=True)])
    a = run(f)
    assert a.lesion_axis == "extrinsic"
    assert a.post_thrombotic


# -- mass imaging ------------------------------------------------------------------------------------
@pytest.mark.parametrize("before, uncharacterized", [(14, False), (15, True)])
def test_contrast_imaging_from_14_days_before_the_mass(before, uncharacterized):
    f = left_swelling(masses=[mass(days=20)], imaging=[imaging(ImagingKind.CONTRAST_CT_MRI_ABDOMEN_PELVIS, 20 + before)])
    a = run(f)
    assert (a.mass_uncharacterized is not None) is uncharacterized
    assert (a.mass_imaged_nature_unknown is not None) is (not uncharacterized)


def test_mr_venography_never_images_the_mass():
    f = left_swelling(masses=[mass()], imaging=[imaging(ImagingKind.MR_VENOGRAPHY_PELVIS, 1)])
    assert run(f).mass_uncharacterized is not None


def test_ct_venography_result_images_the_mass():
    f = left_swelling(masses=[mass()], pelvic_venography=[pelvic(days=1)])
    assert run(f).mass_uncharacterized is None


def test_mass_imaging_unknown_when_imaging_unreadable():
    a = run(left_swelling(masses=[mass()], unreadable=frozenset({"ImagingStudy"})))
    assert a.mass_uncharacterized is None
    assert "mass-imaging" in a.unknown


def test_mass_with_a_recorded_nature_is_characterized():
    assert run(left_swelling(masses=[mass(nature=MassNature.NON_COMPRESSIVE)])).mass_uncharacterized is None


# -- presentation ------------------------------------------------------------------------------------
def test_left_and_right_swelling_are_bilateral():
    a = run(facts(swellings=[swelling(Side.LEFT), swelling(Side.RIGHT, ref="Condition/r")]))
    assert a.swelling_side == Side.BOTH and a.bilateral_edema


def test_symptoms_from_the_newest_swelling():
    f = facts(swellings=[swelling(severity=Severity.SIGNIFICANT, days=10), swelling(severity=Severity.MINIMAL, days=1, ref="Condition/n")])
    assert run(f).symptoms == Severity.MINIMAL


@pytest.mark.parametrize("field", ["genital_edema", "skin_changes"])
def test_genital_edema_or_skin_changes_are_significant(field):
    f = facts(swellings=[swelling(severity=Severity.MINIMAL)], **{field: [cond(f"Condition/{field}")]})
    assert run(f).symptoms == Severity.SIGNIFICANT


def test_asymptomatic_only_when_conditions_were_read():
    assert run(facts(nivl_diagnoses=[cond("Condition/mt")])).asymptomatic is True
    assert run(facts(nivl_diagnoses=[cond("Condition/mt")], unreadable=frozenset({"Condition"}))).asymptomatic is False


# -- other causes ------------------------------------------------------------------------------------
@pytest.mark.parametrize("albumin, low", [(2.5, False), (2.49, True)])
def test_albumin_below_2_5_is_a_cause(albumin, low):
    a = run(excluded(albumin=[meas("Observation/alb", albumin, "g/dL", days=3)]))
    assert bool(a.other_causes) is low


@pytest.mark.parametrize("protein, low", [(5.0, False), (4.99, True)])
def test_total_protein_below_5_is_a_cause(protein, low):
    a = run(excluded(total_protein=[meas("Observation/tp", protein, "g/dL", days=3)]))
    assert bool(a.other_causes) is low
    if low:
        assert a.other_causes[0].kind == EdemaCauseKind.HYPOALBUMINEMIA.value


@pytest.mark.parametrize("days, low", [(90, True), (91, False)])
def test_labs_count_90_days(days, low):
    a = run(excluded(albumin=[meas("Observation/alb", 2.0, "g/dL", days=days)]))
    assert bool(a.other_causes) is low


def test_newest_albumin_wins():
    labs = [meas("Observation/old", 2.0, "g/dL", days=30), meas("Observation/new", 3.5, "g/dL", days=2)]
    assert run(excluded(albumin=labs)).other_causes == ()


def test_albumin_in_unknown_unit_makes_other_causes_unknown():
    a = run(excluded(albumin=[meas("Observation/alb", None, "mg/dL", days=3)]))
    assert a.other_causes == ()
    assert not a.other_causes_known


def test_condition_and_medication_causes_with_kinds():
    f = excluded(
        edema_causes=[cond("Condition/hf", kind=EdemaCauseKind.HEART_FAILURE.value, display="Heart failure")],
        medications=[med("amlodipine", DrugClass.EDEMA_CAUSING)],
    )
    kinds = [c.kind for c in run(f).other_causes]
    assert kinds == ["heart-failure", "medication"]


def test_unreadable_medications_make_other_causes_unknown():
    assert not run(excluded(unreadable=frozenset({"MedicationStatement"}))).other_causes_known


# -- safety ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, contraindicated, caution", [
    (24.9, True, False), (25, False, True), (50, False, True), (50.1, False, False)])
def test_platelet_thresholds(value, contraindicated, caution):
    a = run(left_swelling(platelets=[meas("Observation/plt", value, "10*3/uL", hours=2)]))
    assert bool(a.anticoag_contraindications) is contraindicated
    assert (a.thrombocytopenia_caution is not None) is caution
    assert a.platelets_known


@pytest.mark.parametrize("hours, known", [(72, True), (73, False)])
def test_platelets_count_72_hours(hours, known):
    a = run(left_swelling(platelets=[meas("Observation/plt", 20, "10*3/uL", hours=hours)]))
    assert a.platelets_known is known
    assert bool(a.anticoag_contraindications) is known


def test_platelets_in_unknown_unit_are_not_known():
    a = run(left_swelling(platelets=[meas("Observation/plt", None, "x", hours=2)]))
    assert not a.platelets_known and not a.anticoag_contraindications


@pytest.mark.parametrize("days, contraindicated", [(30, True), (31, False)])
def test_bleeding_counts_30_days(days, contraindicated):
    a = run(left_swelling(bleeding=[cond("Condition/bleed", days=days, kind="bleeding")]))
    assert bool(a.anticoag_contraindications) is contraindicated


def test_hit_is_not_a_contraindication():
    a = run(left_swelling(hit=[cond("Condition/hit")]))
    assert a.hit is not None and not a.anticoag_contraindications


@pytest.mark.parametrize("days, known", [(30, True), (31, False)])
def test_weight_counts_30_days(days, known):
    a = run(left_swelling(weight=[meas("Observation/w", 70, "kg", days=days)]))
    assert (a.weight_kg is not None) is known


def test_newest_readable_weight_is_used():
    weights = [meas("Observation/w1", 80, "kg", days=10), meas("Observation/w2", None, "stone", days=1)]
    assert run(left_swelling(weight=weights)).weight_kg.value == 80


@pytest.mark.parametrize("hours, known", [(72, True), (73, False)])
def test_egfr_counts_72_hours(hours, known):
    a = run(left_swelling(egfr=[meas("Observation/egfr", 25, "mL/min/{1.73_m2}", hours=hours)]))
    assert (a.egfr is not None) is known


def _bp(value, minutes_ago, ref):
    return meas(ref, value, "mm[Hg]", minutes=minutes_ago)


@pytest.mark.parametrize("first, second, gap, hypotensive", [
    (89, 89, 15, True),
    (89, 89, 14, False),
    (90, 89, 30, False),
    (89.9, 85, 60, True),
])
def test_severe_hypotension_two_low_readings_15_min_apart(first, second, gap, hypotensive):
    readings = [_bp(first, 10 + gap, "Observation/bp1"), _bp(second, 10, "Observation/bp2")]
    assert run(left_swelling(systolic_bp=readings)).severe_hypotension is hypotensive


@pytest.mark.parametrize("hours_ago, hypotensive", [(5.5, True), (6.5, False)])
def test_hypotension_readings_within_6_hours(hours_ago, hypotensive):
    readings = [_bp(80, hours_ago * 60, "Observation/bp1"), _bp(80, hours_ago * 60 - 20, "Observation/bp2")]
    assert run(left_swelling(systolic_bp=readings)).severe_hypotension is hypotensive


def test_vasopressor_or_shock_is_severe_hypotension():
    assert run(left_swelling(medications=[med("norepinephrine", DrugClass.VASOPRESSOR)])).severe_hypotension
    assert run(left_swelling(shock=[cond("Condition/shock", days=7)])).severe_hypotension
    assert not run(left_swelling(shock=[cond("Condition/shock", days=8)])).severe_hypotension


@pytest.mark.parametrize("days, threat", [(7, True), (8, False)])
def test_phlegmasia_counts_7_days(days, threat):
    assert run(left_swelling(phlegmasia=[cond("Condition/phleg", days=days)])).limb_threat is threat


def test_treatment_dose_anticoagulation():
    f = left_swelling(
        weight=[meas("Observation/w", 65, "kg", days=1)],
        egfr=[meas("Observation/egfr", 80, "mL/min/{1.73_m2}", hours=3)],
        medications=[med("enoxaparin", DrugClass.LMWH, dose=60, per_day=2)],
    )
    a = run(f)
    assert a.treatment_anticoagulated and not a.anticoagulant_below_treatment


def test_prophylactic_and_long_term_unknown_dose_are_below_treatment():
    f = left_swelling(
        weight=[meas("Observation/w", 65, "kg", days=1)],
        medications=[med("enoxaparin", DrugClass.LMWH, dose=40, per_day=1)],
        long_term_anticoagulant=[ev("Condition/z79", "Long-term anticoagulant use")],
    )
    a = run(f)
    assert not a.treatment_anticoagulated
    assert [m.evidence.ref for m in a.anticoagulant_below_treatment] == ["MedicationRequest/enoxaparin", "Condition/z79"]


# -- stent axis --------------------------------------------------------------------------------------
def test_stent_axis_and_stented_for_nivl():
    a = run(facts(stents=[stent(100)]))
    assert a.stent_axis == "post-stent" and a.stented_for_nivl
    assert run(facts()).stent_axis == "none"


@pytest.mark.parametrize("history", [
    {"vte_history": [cond("Condition/z86", active=False)]},
    {"dvt_diagnoses": [dvt_dx(days=800, active=False)]},
    {"pe_diagnoses": [cond("Condition/pe", days=800, active=False)]},
    {"duplex_results": [duplex(ThrombusResult.PRESENT, days=800)]},
    {"unreadable": frozenset({"Condition"})},
])
def test_prior_vte_or_unknown_history_is_not_stented_for_nivl(history):
    assert run(facts(stents=[stent(100)], **history)).stented_for_nivl is False


def test_ivus_known_needs_all_four_sources():
    assert run(excluded()).ivus_known
    for resource_type in ("Observation", "DiagnosticReport", "Procedure", "ImagingStudy"):
        a = run(excluded(unreadable=frozenset({resource_type})))
        assert not a.ivus_known and not a.no_ivus


def test_assessment_is_frozen():
    a = run(left_swelling())
    with pytest.raises(Exception):
        a.dvt_axis = "excluded"  # type: ignore[misc]
    assert replace(a, dvt_axis="excluded").dvt_axis == "excluded"


@pytest.mark.parametrize("ingredient, route, hypotensive", [
    ("epinephrine", "intramuscular", False),  # an auto-injector is not shock
    ("epinephrine", "", False),  # route unknown and the drug has other routes
    ("epinephrine", "intravenous", True),
    ("phenylephrine", "iv", True),
    ("vasopressin", "", True),  # IV-only drugs count without a route
])
def test_only_a_systemic_vasopressor_is_severe_hypotension(ingredient, route, hypotensive):
    f = left_swelling(medications=[med(ingredient, DrugClass.VASOPRESSOR, route=route)])
    assert run(f).severe_hypotension is hypotensive


def test_acute_pe_with_hypotension_is_another_thrombolysis_indication():
    pe = cond("Condition/pe", days=2)
    low = [meas("Observation/bp1", 80, "mm[Hg]", minutes=40), meas("Observation/bp2", 80, "mm[Hg]", minutes=10)]
    assert [e.ref for e in run(left_swelling(pe_diagnoses=[pe], systolic_bp=low)).other_thrombolysis_indications] == [
        "Condition/pe"]
    assert run(left_swelling(pe_diagnoses=[pe])).other_thrombolysis_indications == ()


@pytest.mark.parametrize("days, counted", [(7, True), (8, False)])
def test_other_thrombolysis_indications_count_7_days(days, counted):
    f = left_swelling(other_thrombolysis_indications=[cond("Condition/stroke", days=days)])
    assert bool(run(f).other_thrombolysis_indications) is counted


# -- clinical audit (docs/decisions.md "Clinical audit: patient-view") --------------------------------
@pytest.mark.parametrize("value, known", [(0, False), (-70, False), (float("nan"), False), (float("inf"), False),
                                          (0.1, True), (70, True)])
def test_a_weight_that_is_not_a_positive_number_is_unknown(value, known):
    a = run(left_swelling(weight=[meas("Observation/w", value, "kg", days=1)]))
    assert (a.weight_kg is not None) is known
    assert ("weight" in a.unknown) is not known


def test_a_zero_weight_does_not_hide_an_older_valid_one():
    weights = [meas("Observation/w1", 72, "kg", days=10), meas("Observation/w0", 0, "kg", days=1)]
    assert run(left_swelling(weight=weights)).weight_kg.value == 72


@pytest.mark.parametrize("hit, status", [
    (cond("Condition/hit"), "active"),
    (cond("Condition/hit", verification=Verification.PROVISIONAL), "suspected"),
    (cond("Condition/hit", days=700, active=False), "history"),
    (cond("Condition/hit", days=700, active=False, verification=Verification.PROVISIONAL), ""),
])
def test_hit_on_record_active_suspected_or_past(hit, status):
    a = run(left_swelling(hit=[hit]))
    assert a.hit_status == status
    assert (a.hit is not None) is bool(status)
    assert not a.anticoag_contraindications  # HIT rules out heparin, not anticoagulation


def test_active_hit_wins_over_a_past_one():
    hits = [cond("Condition/old", days=700, active=False), cond("Condition/new", days=2)]
    a = run(left_swelling(hit=hits))
    assert (a.hit_status, a.hit.ref) == ("active", "Condition/new")


@pytest.mark.parametrize("unreadable, known", [("Procedure", False), ("Condition", False), ("ImagingStudy", True)])
def test_stents_unknown_when_procedures_or_conditions_unreadable(unreadable, known):
    a = run(left_swelling(unreadable=frozenset({unreadable})))
    assert ("stents" not in a.unknown) is known


def test_a_preliminary_report_is_a_coded_result_not_a_study_without_one():
    # A DiagnosticReport is both a study done (ImagingDone) and its result (VenousStudy), same reference.
    f = left_swelling(duplex_results=[duplex(status=ResultStatus.PRELIMINARY, ref="DiagnosticReport/prelim")],
                      imaging=[imaging(ImagingKind.LEG_DUPLEX, 2, ref="DiagnosticReport/prelim")])
    a = run(f)
    assert a.dvt_axis == "unassessed"
    assert a.unreadable_study is None
    assert a.dvt.pending_study.ref == "DiagnosticReport/prelim"


def test_a_newer_preliminary_negative_leaves_a_final_negative_in_force():
    f = excluded(duplex_results=[duplex(days=5), duplex(status=ResultStatus.PRELIMINARY, days=1, ref="DiagnosticReport/p")],
                 imaging=[imaging(ImagingKind.LEG_DUPLEX, 1, ref="DiagnosticReport/p")])
    assert run(f).dvt_axis == "excluded"


def test_a_limited_study_names_a_newer_complete_study_awaiting_its_report():
    f = left_swelling(duplex_results=[duplex(extent=DuplexExtent.LIMITED, days=5),
                                      duplex(status=ResultStatus.PRELIMINARY, days=1, ref="DiagnosticReport/p")])
    a = run(f)
    assert a.limited_study is not None
    assert a.dvt.pending_study.ref == "DiagnosticReport/p"
    older = left_swelling(duplex_results=[duplex(extent=DuplexExtent.LIMITED, days=1),
                                          duplex(status=ResultStatus.PRELIMINARY, days=5, ref="DiagnosticReport/p")])
    assert run(older).dvt.pending_study is None  # older than the limited study: nothing awaited


@pytest.mark.parametrize("status, result, preliminary", [
    (ResultStatus.PRELIMINARY, ThrombusResult.ABSENT, True),
    (ResultStatus.FINAL, ThrombusResult.UNREADABLE, False),
])
def test_pelvic_venography_without_final_result_says_which(status, result, preliminary):
    a = run(excluded(masses=[mass()], pelvic_venography=[pelvic(result, status=status)]))
    assert a.dvt_axis == "pelvic-imaging-needed"
    assert a.unreadable_pelvic_study is not None
    assert a.dvt.pelvic_study_preliminary is preliminary


def test_chronic_thrombus_on_pelvic_venography_is_no_acute_dvt_and_post_thrombotic():
    a = run(excluded(masses=[mass()], pelvic_venography=[pelvic(ThrombusResult.CHRONIC)]))
    assert a.dvt_axis == "excluded"
    assert a.lesion_axis == "post-thrombotic"
    assert a.unreadable_pelvic_study is None


@pytest.mark.parametrize("days, axis", [(90, "pelvic-imaging-needed"), (91, "excluded")])
def test_cfv_waveform_counts_90_days(days, axis):
    waveform = WaveformFact(ev("Observation/cfv", "non-phasic", ago(days)), Waveform.NON_PHASIC, Side.LEFT)
    assert run(excluded(cfv_waveforms=[waveform])).dvt_axis == axis


@pytest.mark.parametrize("minutes_past_6_h, hypotensive", [(0, True), (1, False)])
def test_hypotension_readings_window_is_6_hours_inclusive(minutes_past_6_h, hypotensive):
    first = _bp(80, 6 * 60 + minutes_past_6_h, "Observation/bp1")
    readings = [first, _bp(80, 10, "Observation/bp2")]
    # the older reading falls out of the window one minute past 6 h: one low reading is not enough
    assert run(left_swelling(systolic_bp=readings)).severe_hypotension is hypotensive


@pytest.mark.parametrize("medication, hit, pregnancy, reason", [
    (med("enoxaparin", DrugClass.LMWH, dose=80, per_day=2), [cond("Condition/hit")], [], "heparin-induced thrombocytopenia"),
    (med("heparin", route="intravenous"), [cond("Condition/hit", days=700, active=False)], [],
     "heparin-induced thrombocytopenia"),
    (med("warfarin", dose=5, per_day=1), [], [cond("Condition/preg")], "pregnancy"),
    (med("apixaban", dose=10, per_day=2), [], [cond("Condition/preg")], "pregnancy"),
])
def test_an_anticoagulant_unfit_for_this_patient_is_never_treatment(medication, hit, pregnancy, reason):
    f = left_swelling(weight=[meas("Observation/w", 80, "kg", days=1)], medications=[medication], hit=hit,
                      pregnancy=pregnancy)
    a = run(f)
    assert not a.treatment_anticoagulated
    assert [(u.ref, u.kind) for u in a.unsuitable_anticoagulants] == [(medication.evidence.ref, reason)]
    assert medication not in a.anticoagulant_below_treatment


@pytest.mark.parametrize("medication, hit, pregnancy", [
    (med("enoxaparin", DrugClass.LMWH, dose=80, per_day=2), [], [cond("Condition/preg")]),  # LMWH: the drug of pregnancy
    (med("apixaban", dose=10, per_day=2), [cond("Condition/hit")], []),  # a DOAC is a non-heparin anticoagulant
    (med("warfarin", dose=5, per_day=1), [], [cond("Condition/preg", active=False)]),  # a past pregnancy
])
def test_a_fit_anticoagulant_at_treatment_dose_treats(medication, hit, pregnancy):
    f = left_swelling(weight=[meas("Observation/w", 80, "kg", days=1)], medications=[medication], hit=hit,
                      pregnancy=pregnancy)
    a = run(f)
    assert a.treatment_anticoagulated and not a.unsuitable_anticoagulants


def test_a_zero_weight_never_reaches_the_order_checks_dose_calculation():
    # The order checks dose from `Assessment.weight_kg` too: a 0 kg weight used to raise there.
    from cds_service.pathway.facts import DraftOrder, OrderKind
    from cds_service.rules.order_checks import evaluate_orders

    f = left_swelling(dvt_diagnoses=[dvt_dx(days=3)], weight=[meas("Observation/w", 0, "kg", days=1)])
    order = DraftOrder("MedicationRequest/e", "MedicationRequest", "enoxaparin 80 mg", OrderKind.ANTICOAGULANT,
                       medication=med("enoxaparin", DrugClass.LMWH, dose=80, per_day=2))
    findings = evaluate_orders([order], f, run(f), S)
    assert [x.rule_id for x in findings] == ["ANTICOAG-REGIMEN"]
