"""Every order rule of RULES.md: fires / does not fire, indicator, values and proposals, with each
threshold tested on both sides. Facts and draft orders are built directly; no FHIR, no HTTP."""
from __future__ import annotations

import ast
import inspect
import re
import textwrap
from dataclasses import replace

import pytest

from cds_service.pathway.assessment import assess
from cds_service.pathway.facts import (
    DraftOrder,
    DrugClass,
    DuplexExtent,
    EdemaCauseKind,
    Evidence,
    ImagingKind,
    LesionBehavior,
    MassNature,
    Medication,
    OrderKind,
    Severity,
    Side,
    Waveform,
    WaveformFact,
)
from cds_service.pathway.findings import DeleteOrder, Indicator, UpdateOrder
from cds_service.pathway.guideline import guideline_lines
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.order_checks import checks_not_run, evaluate_orders
from cds_service.rules.registry import ORDER_RULES
from tests.helpers.facts import (
    S,
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
    nivl_confirmed,
    stent,
    swelling,
)

RULE_BY_ID = {rule.rule_id: rule for rule in ORDER_RULES}
EVERY_TYPE = frozenset(
    {"Patient", "Condition", "Observation", "ImagingStudy", "DiagnosticReport", "Procedure", "MedicationRequest",
     "MedicationStatement"}
)


# -- builders --------------------------------------------------------------------------------------
def stent_order(length=60.0, diameter=14.0, *, iliac=True, resource_type="DeviceRequest", ref=None, **kw) -> DraftOrder:
    return DraftOrder(
        ref=ref or f"{resource_type}/stent",
        resource_type=resource_type,
        display="Venous stent",
        kind=OrderKind.STENT,
        iliac=iliac,
        length_mm=length,
        length_as_ordered=f"{length:g} mm" if length is not None else "",
        diameter_mm=diameter,
        diameter_as_ordered=f"{diameter:g} mm" if diameter is not None else "",
        **kw,
    )


def order(kind: OrderKind, ref: str, resource_type="ServiceRequest", **kw) -> DraftOrder:
    return DraftOrder(ref=ref, resource_type=resource_type, display=ref, kind=kind, **kw)


def drug(ingredient: str, drug_class=DrugClass.LMWH, dose=80.0, unit="mg", per_day=2.0, *, kind=OrderKind.ANTICOAGULANT,
         reason_codes=(), reason_text="", ref=None) -> DraftOrder:
    medication = Medication(ev(ref or f"MedicationRequest/{ingredient}"), drug_class, ingredient, dose, unit, per_day)
    return DraftOrder(ref=ref or f"MedicationRequest/{ingredient}", resource_type="MedicationRequest",
                      display=ingredient, kind=kind, medication=medication, reason_codes=reason_codes,
                      reason_text=reason_text)


def clean(**kw):
    """The worked-up NIVL patient: DVT excluded, IVUS 75 % (fixed), EIV reference 12 mm, severe left swelling."""
    kw.setdefault("lesion_behavior", [(ev("Observation/behavior"), LesionBehavior.FIXED)])
    return nivl_confirmed(ivus=75.0, reference=12.0, **kw)


def confirmed_dvt(weight=80.0, egfr=88.0, **kw):
    """Left leg swelling, acute DVT 3 days ago, weight / eGFR as given, platelets 245."""
    kw.setdefault("dvt_diagnoses", [dvt_dx(days=3)])
    if weight is not None:
        kw.setdefault("weight", [meas("Observation/weight", weight, "kg", days=1)])
    if egfr is not None:
        kw.setdefault("egfr", [meas("Observation/egfr", egfr, "mL/min/{1.73_m2}", hours=2)])
    kw.setdefault("platelets", [meas("Observation/plt", 245.0, "10*3/uL", hours=2)])
    return left_swelling(**kw)


def out_of_scope(**kw):
    return facts(**kw)


def unreadable(*types: str, **kw):
    return facts(unreadable=frozenset(types), **kw)


def run(orders, f, settings: PathwaySettings = S, **kw):
    return evaluate_orders(list(orders), f, assess(f, settings), settings, **kw)


def ids(orders, f, settings: PathwaySettings = S, **kw) -> list[str]:
    return [x.rule_id for x in run(orders, f, settings, **kw)]


def only(orders, f, rule_id: str, settings: PathwaySettings = S, **kw):
    found = [x for x in run(orders, f, settings, **kw) if x.rule_id == rule_id]
    assert len(found) <= 1
    return found[0] if found else None


# -- the clean case: nothing fires -----------------------------------------------------------------
def test_clean_patient_and_correct_stent_gives_nothing():
    assert ids([stent_order(60.0, 14.0)], clean()) == []


# -- STENT-LENGTH -----------------------------------------------------------------------------------
@pytest.mark.parametrize("length, fires", [(59.9, True), (60.0, False), (59.0, True), (50.8, True), (60.1, False)])
def test_stent_length_boundary(length, fires):
    found = only([stent_order(length)], clean(), "STENT-LENGTH")
    assert (found is not None) is fires
    if fires:
        assert found.indicator is Indicator.CRITICAL
        assert found.order_ref == "DeviceRequest/stent"
        assert found.length_mm == length and found.min_length_mm == 60.0
        assert found.proposals == (UpdateOrder(order_ref="DeviceRequest/stent", length_mm=60.0),)


def test_stent_length_minimum_comes_from_settings():
    shorter = PathwaySettings(min_stent_length_mm=50.0)
    assert only([stent_order(59.9)], clean(), "STENT-LENGTH", shorter) is None
    assert only([stent_order(49.9)], clean(), "STENT-LENGTH", shorter).min_length_mm == 50.0


def test_stent_length_fires_when_no_patient_data_could_be_read():
    findings = run([stent_order(50.0)], unreadable(*EVERY_TYPE))
    assert [f.rule_id for f in findings] == ["STENT-LENGTH"]  # no record-based rule claims anything
    assert findings[0].scope_unknown is False  # the order itself is clearly iliac


def test_stent_length_unknown_fires_when_no_patient_data_could_be_read():
    assert ids([stent_order(None)], unreadable(*EVERY_TYPE)) == ["STENT-LENGTH-UNKNOWN"]


def test_venous_stent_not_clearly_iliac_is_ignored_for_a_patient_out_of_scope():
    assert ids([stent_order(40.0, iliac=False)], out_of_scope()) == []  # an SVC stent is not our business


def test_venous_stent_not_clearly_iliac_is_checked_for_a_patient_in_scope():
    assert "STENT-LENGTH" in ids([stent_order(40.0, iliac=False)], clean())


def test_venous_stent_not_clearly_iliac_gets_the_length_check_while_scope_is_unknown():
    found = only([stent_order(40.0, iliac=False)], unreadable("Condition"), "STENT-LENGTH")
    assert found is not None and found.scope_unknown is True


# -- STENT-LENGTH-UNKNOWN ------------------------------------------------------------------------------
def test_stent_length_unknown_is_a_warning_for_a_device_order():
    found = only([stent_order(None)], clean(), "STENT-LENGTH-UNKNOWN")
    assert found.indicator is Indicator.WARNING and found.device_ordered is True


def test_stent_length_unknown_is_info_for_a_procedure_without_device():
    found = only([stent_order(None, None, resource_type="ServiceRequest")], clean(), "STENT-LENGTH-UNKNOWN")
    assert found.indicator is Indicator.INFO


def test_stent_length_unknown_is_a_warning_for_a_procedure_with_a_device_order():
    procedure = stent_order(None, None, resource_type="ServiceRequest", size_ref="DeviceRequest/d1")
    assert only([procedure], clean(), "STENT-LENGTH-UNKNOWN").indicator is Indicator.WARNING


def test_a_readable_length_is_not_unknown():
    assert only([stent_order(60.0)], clean(), "STENT-LENGTH-UNKNOWN") is None


# -- STENT-DIAMETER ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "diameter, fires, suggested",
    [(12.9, True, 13.0), (13.0, False, None), (16.0, False, None), (16.1, True, 16.0), (12.0, True, 13.0),
     (17.0, True, 16.0)],
)
def test_stent_diameter_oversize_1_to_4_mm_inclusive(diameter, fires, suggested):
    found = only([stent_order(60.0, diameter)], clean(), "STENT-DIAMETER")  # reference 12 mm: 13-16 mm
    assert (found is not None) is fires
    if fires:
        assert found.indicator is Indicator.WARNING
        assert (found.reference_mm, found.range_low_mm, found.range_high_mm) == (12.0, 13.0, 16.0)
        assert found.proposals == (UpdateOrder(order_ref="DeviceRequest/stent", diameter_mm=suggested),)


def test_stent_diameter_suggests_a_whole_millimetre_in_range():
    f = nivl_confirmed(ivus=75.0, reference=12.5)  # range 13.5-16.5 mm
    assert only([stent_order(60.0, 18.0)], f, "STENT-DIAMETER").suggested_mm == 16.0
    assert only([stent_order(60.0, 13.0)], f, "STENT-DIAMETER").suggested_mm == 14.0


def test_stent_diameter_range_comes_from_settings():
    wider = PathwaySettings(oversize_max_mm=5.0)
    assert only([stent_order(60.0, 17.0)], clean(), "STENT-DIAMETER", wider) is None


@pytest.mark.parametrize("reference", [None, "unknown unit"])
def test_stent_diameter_needs_a_readable_reference(reference):
    eiv = [] if reference is None else [meas("Observation/eiv", None, "mm", days=1)]
    assert only([stent_order(60.0, 20.0)], nivl_confirmed(eiv_reference_diameter=eiv), "STENT-DIAMETER") is None


def test_stent_diameter_needs_an_ordered_diameter():
    assert only([stent_order(60.0, None)], clean(), "STENT-DIAMETER") is None


# -- STENT-IVUS-REQUIRED ------------------------------------------------------------------------------
def no_ivus(**kw):
    """DVT excluded, 70 % compression on CT, no IVUS on record."""
    kw.setdefault("ct_compression", [meas("Observation/ct", 70.0, "%", days=3)])
    kw.setdefault("nivl_diagnoses", [cond("Condition/may-thurner")])
    return excluded(**kw)


@pytest.mark.parametrize("ordered", [stent_order(60.0), order(OrderKind.VENOPLASTY, "ServiceRequest/pta", iliac=True)])
def test_ivus_required_for_stent_or_venoplasty_without_ivus(ordered):
    found = only([ordered], no_ivus(), "STENT-IVUS-REQUIRED")
    assert found.indicator is Indicator.CRITICAL and found.order_ref == ordered.ref
    assert found.ct_compression == 70.0


def test_ivus_required_silent_when_ivus_is_in_the_draft_set_even_unselected():
    ivus = order(OrderKind.IVUS, "ServiceRequest/ivus")
    assert only([stent_order(60.0)], no_ivus(), "STENT-IVUS-REQUIRED", draft_set=[stent_order(60.0), ivus]) is None


def test_ivus_required_silent_when_ivus_is_on_record():
    assert only([stent_order(60.0)], no_ivus(imaging=[imaging(ImagingKind.IVUS, 5)]), "STENT-IVUS-REQUIRED") is None
    assert only([stent_order(60.0)], clean(), "STENT-IVUS-REQUIRED") is None


@pytest.mark.parametrize("lost", ["Observation", "Procedure", "ImagingStudy", "DiagnosticReport"])
def test_ivus_required_silent_when_ivus_data_is_unreadable(lost):
    assert only([stent_order(60.0)], no_ivus(unreadable=frozenset({lost})), "STENT-IVUS-REQUIRED") is None


def test_venoplasty_not_clearly_iliac_out_of_scope_is_ignored():
    assert ids([order(OrderKind.VENOPLASTY, "ServiceRequest/pta")], out_of_scope()) == []


# -- IVUS threshold, dynamic lesion, bilateral edema, symptoms ---------------------------------------------
@pytest.mark.parametrize("stenosis, fires", [(61.0, True), (61.1, False), (60.9, True)])
def test_stent_below_threshold_boundary(stenosis, fires):
    f = nivl_confirmed(ivus=stenosis, reference=12.0)
    found = only([stent_order(60.0)], f, "STENT-BELOW-THRESHOLD")
    assert (found is not None) is fires
    if fires:
        assert (found.stenosis_pct, found.threshold_pct) == (stenosis, 61.0)


def test_stent_below_threshold_reads_the_threshold_from_settings():
    f = nivl_confirmed(ivus=61.0, reference=12.0)
    assert only([stent_order(60.0)], f, "STENT-BELOW-THRESHOLD", PathwaySettings(ivus_stenosis_threshold_pct=60.0)) is None


def test_stent_dynamic_lesion():
    dynamic = clean(lesion_behavior=[(ev("Observation/behavior"), LesionBehavior.DYNAMIC)])
    assert only([stent_order(60.0)], dynamic, "STENT-DYNAMIC-LESION").indicator is Indicator.WARNING
    assert only([stent_order(60.0)], clean(), "STENT-DYNAMIC-LESION") is None


def test_stent_bilateral_edema():
    both = clean(swellings=[swelling(Side.LEFT), swelling(Side.RIGHT)])
    assert only([stent_order(60.0)], both, "STENT-BILATERAL-EDEMA").indicator is Indicator.WARNING
    assert only([stent_order(60.0)], clean(), "STENT-BILATERAL-EDEMA") is None


@pytest.mark.parametrize(
    "severity, fires", [(Severity.MINIMAL, True), (Severity.SIGNIFICANT, False), (Severity.UNKNOWN, False)]
)
def test_stent_minimal_symptoms(severity, fires):
    f = clean(swellings=[swelling(severity=severity)])
    assert (only([stent_order(60.0)], f, "STENT-MINIMAL-SYMPTOMS") is not None) is fires


def test_stent_with_no_symptom_at_all_is_prophylaxis():
    f = facts(nivl_diagnoses=[cond("Condition/may-thurner")])  # in scope by the diagnosis, no swelling
    assert only([stent_order(60.0)], f, "STENT-MINIMAL-SYMPTOMS").variant == "asymptomatic"


def test_no_symptom_is_not_claimed_when_conditions_are_unreadable():
    assert only([stent_order(60.0)], unreadable("Condition"), "STENT-MINIMAL-SYMPTOMS") is None


# -- STENT-DVT-NOT-EXCLUDED -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "extent, says",
    [(DuplexExtent.LIMITED, "covered part of the leg"), (DuplexExtent.UNKNOWN, "does not say whether it covered")],
)
def test_stent_dvt_not_excluded_after_a_limited_or_unknown_extent_duplex(extent, says):
    """R2 items 1 and 8: a limited or unknown-extent negative duplex never excludes DVT, and the card says which."""
    f = left_swelling(duplex_results=[duplex(extent=extent)])
    found = only([stent_order(60.0)], f, "STENT-DVT-NOT-EXCLUDED")
    assert (found.limited_study, found.extent_unknown) == (extent is DuplexExtent.LIMITED, extent is DuplexExtent.UNKNOWN)
    assert says in RULE_BY_ID["STENT-DVT-NOT-EXCLUDED"].render(found, S)[1]


def test_stent_dvt_not_excluded_when_unassessed():
    found = only([stent_order(60.0)], left_swelling(), "STENT-DVT-NOT-EXCLUDED")
    assert found.indicator is Indicator.WARNING and found.dvt_axis == "unassessed"


def test_stent_dvt_not_excluded_when_pelvic_imaging_is_needed():
    waveform = WaveformFact(ev("Observation/cfv", when=duplex().evidence.when), Waveform.NON_PHASIC, Side.LEFT)
    f = left_swelling(duplex_results=[duplex()], cfv_waveforms=[waveform])
    found = only([stent_order(60.0)], f, "STENT-DVT-NOT-EXCLUDED")
    assert found.dvt_axis == "pelvic-imaging-needed"


def test_stent_dvt_not_excluded_with_acute_dvt():
    found = only([stent_order(60.0)], confirmed_dvt(), "STENT-DVT-NOT-EXCLUDED")
    assert found.dvt_axis == "confirmed"


def test_stent_dvt_excluded_gives_no_card():
    assert only([stent_order(60.0)], clean(), "STENT-DVT-NOT-EXCLUDED") is None


@pytest.mark.parametrize("lost", ["Observation", "DiagnosticReport", "Condition"])
def test_stent_dvt_not_excluded_is_not_claimed_from_unreadable_studies(lost):
    f = left_swelling(unreadable=frozenset({lost}))
    assert only([stent_order(60.0)], f, "STENT-DVT-NOT-EXCLUDED") is None


# -- other causes, mass --------------------------------------------------------------------------------
def test_stent_other_causes_names_each_cause():
    f = clean(edema_causes=[cond("Condition/hf", kind=EdemaCauseKind.HEART_FAILURE.value, display="Heart failure")])
    found = only([stent_order(60.0)], f, "STENT-OTHER-CAUSES")
    assert [(c.kind, c.display, c.ref) for c in found.causes] == [("heart-failure", "Heart failure", "Condition/hf")]


@pytest.mark.parametrize("albumin, fires", [(2.4, True), (2.5, False)])
def test_stent_other_causes_albumin_boundary(albumin, fires):
    f = clean(albumin=[meas("Observation/alb", albumin, "g/dL", days=6)])
    assert (only([stent_order(60.0)], f, "STENT-OTHER-CAUSES") is not None) is fires


def test_stent_mass_not_characterized():
    f = clean(masses=[mass(days=5)])
    found = only([stent_order(60.0)], f, "STENT-MASS-NOT-CHARACTERIZED")
    assert found.mass_ref == "Condition/mass"
    imaged = clean(masses=[mass(days=5)], imaging=[imaging(ImagingKind.CONTRAST_CT_MRI_ABDOMEN_PELVIS, 3)])
    assert only([stent_order(60.0)], imaged, "STENT-MASS-NOT-CHARACTERIZED") is None


@pytest.mark.parametrize(
    "grades, indicator",
    [(("severe",), Indicator.INFO), (("moderate",), Indicator.WARNING), (("",), Indicator.WARNING),
     (("moderate", "severe"), Indicator.INFO), (("severe", "moderate"), Indicator.WARNING)],
    ids=["severe", "moderate", "not recorded", "now severe", "now moderate"],
)
def test_stent_extrinsic_mass_is_info_only_for_severe_symptoms(grades, indicator):
    # Grades oldest first: the newest swelling decides (G:48 "symptoms are severe").
    swellings = [replace(swelling(days=30 - 10 * i), grade=grade) for i, grade in enumerate(grades)]
    f = clean(masses=[mass(nature=MassNature.MALIGNANCY)], swellings=swellings)
    found = only([stent_order(60.0)], f, "STENT-EXTRINSIC-MASS")
    assert found.indicator is indicator and found.nature == "malignancy"


# -- IVC-FILTER-NOT-INDICATED --------------------------------------------------------------------------
FILTER = order(OrderKind.IVC_FILTER, "DeviceRequest/filter", "DeviceRequest")


def test_ivc_filter_without_contraindication_suggests_delete():
    found = only([FILTER], confirmed_dvt(), "IVC-FILTER-NOT-INDICATED")
    assert found.indicator is Indicator.WARNING
    assert found.proposals == (DeleteOrder("DeviceRequest/filter"),)


def test_ivc_filter_with_recent_bleeding_is_indicated():
    f = confirmed_dvt(bleeding=[cond("Condition/gi-bleed", days=10)])
    assert only([FILTER], f, "IVC-FILTER-NOT-INDICATED") is None


@pytest.mark.parametrize("platelets, fires", [(24.9, False), (25.0, True)])
def test_ivc_filter_platelet_contraindication_boundary(platelets, fires):
    f = confirmed_dvt(platelets=[meas("Observation/plt", platelets, "10*3/uL", hours=2)])
    assert (only([FILTER], f, "IVC-FILTER-NOT-INDICATED") is not None) is fires


def test_ivc_filter_out_of_scope_is_none_of_our_business():
    assert ids([FILTER], out_of_scope()) == []


@pytest.mark.parametrize("lost", ["Condition", "Observation"])
def test_ivc_filter_silent_when_contraindications_are_unreadable(lost):
    f = confirmed_dvt(unreadable=frozenset({lost}))
    assert only([FILTER], f, "IVC-FILTER-NOT-INDICATED") is None


# -- THROMBOLYSIS-NOT-INDICATED -----------------------------------------------------------------------
def thrombolytic(dose_mg, doses=1, *, drug_name="alteplase", into_catheter=False, **kw) -> DraftOrder:
    ordered = drug(drug_name, DrugClass.THROMBOLYTIC, dose=dose_mg, per_day=None, kind=OrderKind.THROMBOLYSIS, **kw)
    return replace(ordered, thrombolytic_dose_mg=dose_mg, thrombolytic_doses=doses, into_catheter=into_catheter)


def test_thrombolysis_without_indication_is_critical_and_suggests_delete():
    found = only([thrombolytic(100.0)], confirmed_dvt(), "THROMBOLYSIS-NOT-INDICATED")
    assert found.indicator is Indicator.CRITICAL
    assert found.proposals == (DeleteOrder("MedicationRequest/alteplase"),)


# DATA-CONTRACT Orders, catheter clearance (R2): alteplase <= 2 mg a dose and at most 2 doses; another
# thrombolytic only when instilled into a catheter (route, method or reason), within the same limits.
@pytest.mark.parametrize(
    "dose_mg, doses, fires",
    [(2.0, 1, False), (2.0, 2, False), (1.9, 2, False), (2.1, 1, True), (2.01, 2, True),
     (2.0, 3, True), (1.0, 3, True), (None, 1, True), (2.0, None, True)],
)
def test_catheter_clearance_per_dose_and_number_of_doses(dose_mg, doses, fires):
    found = only([thrombolytic(dose_mg, doses)], confirmed_dvt(), "THROMBOLYSIS-NOT-INDICATED")
    assert (found is not None) is fires


@pytest.mark.parametrize(
    "dose_mg, doses, into_catheter, fires",
    [(2.0, 1, False, True),  # tenecteplase 2 mg IV: no catheter, thrombolysis
     (2.0, 1, True, False), (2.0, 2, True, False),
     (2.1, 1, True, True), (2.0, 3, True, True), (2.0, None, True, True)],
)
def test_other_thrombolytics_are_clearance_only_into_a_catheter(dose_mg, doses, into_catheter, fires):
    tenecteplase = thrombolytic(dose_mg, doses, drug_name="tenecteplase", into_catheter=into_catheter)
    assert (only([tenecteplase], confirmed_dvt(), "THROMBOLYSIS-NOT-INDICATED") is not None) is fires


def test_catheter_clearance_limits_come_from_settings():
    settings = PathwaySettings(catheter_clearance_max_mg=4.0, catheter_clearance_max_doses=3)
    assert only([thrombolytic(3.0, 3)], confirmed_dvt(), "THROMBOLYSIS-NOT-INDICATED", settings) is None
    assert only([thrombolytic(3.0, 4)], confirmed_dvt(), "THROMBOLYSIS-NOT-INDICATED", settings) is not None


def test_catheter_directed_thrombolysis_procedure_fires():
    procedure = order(OrderKind.THROMBOLYSIS, "ServiceRequest/cdt")
    assert only([procedure], confirmed_dvt(), "THROMBOLYSIS-NOT-INDICATED").order_ref == "ServiceRequest/cdt"


def hypotensive(**kw):
    kw.setdefault("systolic_bp", [meas("Observation/bp1", 84.0, "mm[Hg]", minutes=60), meas("Observation/bp2", 80.0, "mm[Hg]", minutes=10)])
    kw.setdefault("phlegmasia", [cond("Condition/phlegmasia", days=0)])
    return confirmed_dvt(**kw)


def test_thrombolysis_for_phlegmasia_with_severe_hypotension_is_indicated():
    assert only([thrombolytic(100.0)], hypotensive(), "THROMBOLYSIS-NOT-INDICATED") is None


def test_thrombolysis_for_phlegmasia_alone_is_not_indicated_literally():
    f = hypotensive(systolic_bp=[])
    assert only([thrombolytic(100.0)], f, "THROMBOLYSIS-NOT-INDICATED") is not None
    current_practice = PathwaySettings(thrombolysis_requires_hypotension=False)
    assert only([thrombolytic(100.0)], f, "THROMBOLYSIS-NOT-INDICATED", current_practice) is None


def test_thrombolysis_for_phlegmasia_without_severe_hypotension_is_a_warning_without_delete():
    """R2: the guideline's criterion is not fully met, but the limb is threatened: confirm, never push deletion."""
    found = only([thrombolytic(100.0)], hypotensive(systolic_bp=[]), "THROMBOLYSIS-NOT-INDICATED")
    assert found.indicator is Indicator.WARNING and found.proposals == ()
    summary, reasoning = RULE_BY_ID["THROMBOLYSIS-NOT-INDICATED"].render(found, S)
    assert "not fully met" in summary and "vascular team" in summary
    assert reasoning.startswith("Confirm the indication with the vascular team")


@pytest.mark.parametrize("systolic, indicator", [(89.0, None), (90.0, Indicator.WARNING)])
def test_phlegmasia_warning_on_both_sides_of_the_hypotension_threshold(systolic, indicator):
    bp = [meas("Observation/bp1", systolic, "mm[Hg]", minutes=60), meas("Observation/bp2", systolic, "mm[Hg]", minutes=10)]
    found = only([thrombolytic(100.0)], hypotensive(systolic_bp=bp), "THROMBOLYSIS-NOT-INDICATED")
    assert (found.indicator if found else None) is indicator


def test_thrombolysis_without_limb_threat_stays_critical_with_delete():
    found = only([thrombolytic(100.0)], confirmed_dvt(), "THROMBOLYSIS-NOT-INDICATED")
    assert found.indicator is Indicator.CRITICAL and found.proposals == (DeleteOrder("MedicationRequest/alteplase"),)
    summary, reasoning = RULE_BY_ID["THROMBOLYSIS-NOT-INDICATED"].render(found, S)
    assert reasoning.startswith("Remove this order") and "not fully met" not in summary


@pytest.mark.parametrize(
    "dose_mg, doses, says",
    [(2.0, 3, "more than 2 doses is not a catheter-clearance order"),
     (2.0, None, "repeated with no set number of doses"),
     (2.0, 1, "not instilled into a catheter"),
     (2.5, 1, "2.5 mg a dose, 1 dose.")],
)
def test_thrombolysis_card_says_why_a_small_dose_is_not_catheter_clearance(dose_mg, doses, says):
    found = only([thrombolytic(dose_mg, doses, drug_name="tenecteplase")], confirmed_dvt(), "THROMBOLYSIS-NOT-INDICATED")
    assert says in RULE_BY_ID["THROMBOLYSIS-NOT-INDICATED"].render(found, S)[1]


@pytest.mark.parametrize("against", ["bleeding", "hemorrhagic_shock"])
def test_phlegmasia_with_bleeding_or_hemorrhagic_shock_stays_critical(against):
    """Phlegmasia without hypotension, but a recorded reason against thrombolysis: critical and delete."""
    f = hypotensive(systolic_bp=[], **{against: [cond(f"Condition/{against}", days=1)]})
    found = only([thrombolytic(100.0)], f, "THROMBOLYSIS-NOT-INDICATED")
    assert found.indicator is Indicator.CRITICAL and found.proposals == (DeleteOrder("MedicationRequest/alteplase"),)


def test_thrombolysis_with_hemorrhagic_shock_is_not_indicated():
    f = hypotensive(hemorrhagic_shock=[cond("Condition/hemorrhagic-shock", days=0)])
    assert only([thrombolytic(100.0)], f, "THROMBOLYSIS-NOT-INDICATED") is not None


def test_thrombolysis_for_another_indication_on_record_or_on_the_order():
    stroke = confirmed_dvt(other_thrombolysis_indications=[cond("Condition/stroke", days=0)])
    assert only([thrombolytic(63.0)], stroke, "THROMBOLYSIS-NOT-INDICATED") is None
    for_stroke = thrombolytic(63.0, reason_codes=("http://hl7.org/fhir/sid/icd-10-cm|I63.9",))
    for_stroke = replace(for_stroke, reason_kinds=("thrombolysis-indication",))
    assert only([for_stroke], confirmed_dvt(), "THROMBOLYSIS-NOT-INDICATED") is None


def test_thrombolysis_for_pe_counts_only_with_hypotension():
    pe = replace(thrombolytic(100.0), reason_kinds=("pulmonary-embolism",))
    assert only([pe], confirmed_dvt(), "THROMBOLYSIS-NOT-INDICATED") is not None
    shocked = confirmed_dvt(shock=[cond("Condition/shock", days=0)])
    assert only([pe], shocked, "THROMBOLYSIS-NOT-INDICATED") is None


def test_thrombolysis_out_of_scope_is_none_of_our_business():
    assert ids([thrombolytic(63.0)], out_of_scope()) == []


def test_thrombolysis_silent_when_conditions_are_unreadable():
    assert only([thrombolytic(100.0)], confirmed_dvt(unreadable=frozenset({"Condition"})), "THROMBOLYSIS-NOT-INDICATED") is None


def test_thrombolysis_silent_with_phlegmasia_when_blood_pressure_is_unreadable():
    f = hypotensive(systolic_bp=[], unreadable=frozenset({"Observation"}))
    assert only([thrombolytic(100.0)], f, "THROMBOLYSIS-NOT-INDICATED") is None


# -- ANTICOAG-REGIMEN -----------------------------------------------------------------------------------
@pytest.mark.parametrize("ordered", ["enoxaparin-wrong-dose", "apixaban", "enoxaparin-with-hit"])
def test_anticoag_regimen_facts_name_the_dvt_evidence(ordered):
    """R2: the facts name the DVT the order treats, first, as well as the order."""
    f = confirmed_dvt(hit=[cond("Condition/hit", days=2)]) if ordered.endswith("hit") else confirmed_dvt()
    order = (drug("apixaban", DrugClass.ANTICOAGULANT, dose=10.0, per_day=2.0) if ordered == "apixaban"
             else drug("enoxaparin", dose=40.0))
    found = only([order], f, "ANTICOAG-REGIMEN")
    assert found.evidence[0].ref == "Condition/dvt-3"


@pytest.mark.parametrize("egfr, twice_daily", [(29.9, False), (30.0, True)])
def test_anticoag_regimen_says_twice_daily_only_at_egfr_30_or_more(egfr, twice_daily):
    """R2: no "twice daily" at eGFR < 30, where the regimen is every 24 h (a card never says both)."""
    rule = RULE_BY_ID["ANTICOAG-REGIMEN"]
    for order in (drug("apixaban", DrugClass.ANTICOAGULANT, dose=10.0, per_day=2.0), drug("enoxaparin", dose=40.0)):
        found = only([order], confirmed_dvt(egfr=egfr), "ANTICOAG-REGIMEN")
        text = " ".join(rule.render(found, S))
        assert ("twice daily" in text) is (twice_daily and order.display == "apixaban"), text
        assert ("every 24 h" in text) is not twice_daily, text
        assert rule.quotes_for(found) == ((8,) if twice_daily else ()), "G:8 says twice daily"


def enoxaparin(dose=80.0, per_day=2.0, unit="mg") -> DraftOrder:
    return drug("enoxaparin", dose=dose, per_day=per_day, unit=unit)


@pytest.mark.parametrize("dose, fires", [(80.0, False), (72.0, False), (71.9, True), (88.0, False), (88.1, True), (60.0, True)])
def test_regimen_tolerance_10_percent_inclusive(dose, fires):
    found = only([enoxaparin(dose)], confirmed_dvt(weight=80.0), "ANTICOAG-REGIMEN")  # 80 mg +- 8 mg
    assert (found is not None) is fires
    if fires:
        assert found.indicator is Indicator.WARNING and found.variant == "dose"
        assert found.proposals == (UpdateOrder("MedicationRequest/enoxaparin", dose_mg=80.0, per_day=2),)


@pytest.mark.parametrize("dose, fires", [(35.0, False), (34.9, True), (45.0, False), (45.1, True)])
def test_regimen_tolerance_5_mg_floor_inclusive(dose, fires):
    # 40 kg: 40 mg; 10 % = 4 mg < 5 mg, so 35-45 mg is accepted.
    assert (only([enoxaparin(dose)], confirmed_dvt(weight=40.0), "ANTICOAG-REGIMEN") is not None) is fires


def test_regimen_once_daily_is_a_frequency_error_with_normal_renal_function():
    found = only([enoxaparin(120.0, per_day=1.0)], confirmed_dvt(), "ANTICOAG-REGIMEN")
    assert found.variant == "dose-and-frequency"
    assert found.proposals == (UpdateOrder("MedicationRequest/enoxaparin", dose_mg=80.0, per_day=2),)


@pytest.mark.parametrize(
    "egfr, per_day, fires", [(30.0, 1.0, True), (30.0, 2.0, False), (29.9, 1.0, False), (29.9, 2.0, True)]
)
def test_regimen_every_24_h_below_egfr_30(egfr, per_day, fires):
    found = only([enoxaparin(80.0, per_day)], confirmed_dvt(egfr=egfr), "ANTICOAG-REGIMEN")
    assert (found is not None) is fires
    if fires:
        assert found.variant == "frequency"


def test_regimen_with_unknown_egfr_is_checked_against_every_12_h():
    assert only([enoxaparin(80.0, 2.0)], confirmed_dvt(egfr=None), "ANTICOAG-REGIMEN") is None
    found = only([enoxaparin(80.0, 1.0)], confirmed_dvt(egfr=None), "ANTICOAG-REGIMEN")
    assert found.egfr is None and found.expected_per_day == 2


def test_regimen_without_weight_says_the_dose_was_not_checked():
    found = only([enoxaparin(60.0)], confirmed_dvt(weight=None), "ANTICOAG-REGIMEN")
    assert found.indicator is Indicator.INFO and found.variant == "no-weight" and found.proposals == ()


def test_regimen_with_hit_suggests_no_enoxaparin():
    f = confirmed_dvt(hit=[cond("Condition/hit")])
    found = only([enoxaparin(60.0)], f, "ANTICOAG-REGIMEN")
    assert found.indicator is Indicator.WARNING and found.proposals == ()


def test_regimen_with_unreadable_dose_is_information():
    found = only([enoxaparin(None)], confirmed_dvt(), "ANTICOAG-REGIMEN")
    assert found.indicator is Indicator.INFO and found.variant == "unreadable"


def test_other_lmwh_is_checked_for_frequency_only():
    assert only([drug("dalteparin", dose=15000.0, unit="[iU]", per_day=2.0)], confirmed_dvt(), "ANTICOAG-REGIMEN") is None
    found = only([drug("dalteparin", dose=15000.0, unit="[iU]", per_day=1.0)], confirmed_dvt(), "ANTICOAG-REGIMEN")
    assert found.indicator is Indicator.WARNING and found.proposals == ()


@pytest.mark.parametrize(
    "agent, pregnant, indicator",
    [("warfarin", False, Indicator.INFO), ("warfarin", True, Indicator.WARNING), ("apixaban", True, Indicator.WARNING),
     ("rivaroxaban", False, Indicator.INFO), ("heparin", True, Indicator.INFO), ("fondaparinux", True, Indicator.INFO)],
)
def test_non_lmwh_agents_are_information_and_a_warning_for_warfarin_or_a_doac_in_pregnancy(agent, pregnant, indicator):
    f = confirmed_dvt(pregnancy=[cond("Condition/pregnancy")] if pregnant else [])
    found = only([drug(agent, DrugClass.ANTICOAGULANT, dose=5.0, per_day=1.0)], f, "ANTICOAG-REGIMEN")
    assert found.indicator is indicator and found.proposals == ()


def test_regimen_needs_a_confirmed_dvt():
    assert only([enoxaparin(40.0, 1.0)], clean(), "ANTICOAG-REGIMEN") is None


def test_antiplatelet_order_is_not_an_anticoagulant_regimen():
    aspirin = drug("aspirin", DrugClass.ANTIPLATELET, dose=81.0, per_day=1.0, kind=OrderKind.ANTIPLATELET)
    assert only([aspirin], confirmed_dvt(), "ANTICOAG-REGIMEN") is None


# -- POST-STENT-ANTITHROMBOTIC-ORDER ---------------------------------------------------------------------
def stented(**kw):
    kw.setdefault("stents", [stent(days=150)])
    kw.setdefault("nivl_diagnoses", [cond("Condition/may-thurner")])
    return left_swelling(**kw)


ASPIRIN = drug("aspirin", DrugClass.ANTIPLATELET, dose=81.0, per_day=1.0, kind=OrderKind.ANTIPLATELET)


def test_post_stent_antithrombotic_order_without_other_indication():
    found = only([ASPIRIN], stented(), "POST-STENT-ANTITHROMBOTIC-ORDER")
    assert found.indicator is Indicator.INFO and found.ingredient == "aspirin"


def test_post_stent_antithrombotic_order_reason_naming_the_stent_still_fires():
    for_stent = replace(ASPIRIN, reason_text="may-thurner stent")
    assert only([for_stent], stented(), "POST-STENT-ANTITHROMBOTIC-ORDER") is not None


@pytest.mark.parametrize(
    "f, ordered",
    [
        (stented(other_antithrombotic_indications=[cond("Condition/af")]), ASPIRIN),
        (stented(vte_history=[cond("Condition/prior-dvt", active=False)]), ASPIRIN),
        (stented(), replace(ASPIRIN, reason_text="atrial fibrillation")),
        (stented(unreadable=frozenset({"Condition"})), ASPIRIN),
    ],
    ids=["other indication", "prior VTE", "reason on the order", "conditions unreadable"],
)
def test_post_stent_antithrombotic_order_silent(f, ordered):
    assert only([ordered], f, "POST-STENT-ANTITHROMBOTIC-ORDER") is None


# -- one card per stent and per rule -----------------------------------------------------------------------
def test_a_device_based_on_a_checked_procedure_is_reported_on_the_procedure():
    procedure = stent_order(50.0, 14.0, resource_type="ServiceRequest", ref="ServiceRequest/p", size_ref="DeviceRequest/d")
    device = stent_order(50.0, 14.0, ref="DeviceRequest/d", based_on=("ServiceRequest/p",))
    findings = run([procedure, device], clean())
    assert [(f.rule_id, f.order_ref) for f in findings] == [("STENT-LENGTH", "ServiceRequest/p")]


def test_a_device_selected_alone_is_reported_on_itself():
    device = stent_order(50.0, 14.0, ref="DeviceRequest/d", based_on=("ServiceRequest/p",))
    assert [f.order_ref for f in run([device], clean())] == ["DeviceRequest/d"]


def test_a_resource_that_is_two_orders_gets_one_card_per_rule():
    as_stent = stent_order(60.0, ref="ServiceRequest/combo", resource_type="ServiceRequest")
    as_venoplasty = order(OrderKind.VENOPLASTY, "ServiceRequest/combo", iliac=True)
    assert ids([as_stent, as_venoplasty], no_ivus()) == ["STENT-IVUS-REQUIRED"]


def test_only_the_given_orders_are_commented():
    assert ids([ASPIRIN], clean(), draft_set=[ASPIRIN, stent_order(50.0)]) == []


# -- catalogue and code style ---------------------------------------------------------------------------
def test_every_order_rule_is_a_unit_of_both_order_hooks():
    assert len({r.rule_id for r in ORDER_RULES}) == len(ORDER_RULES) == 16
    assert all(r.hook == "order" and r.hooks == ("order-select", "order-sign") for r in ORDER_RULES)
    assert all(r.order_kinds and callable(r.could_concern) for r in ORDER_RULES)
    assert [r.rule_id for r in ORDER_RULES if r.order_only] == ["STENT-LENGTH", "STENT-LENGTH-UNKNOWN"]


@pytest.mark.parametrize("rule", ORDER_RULES, ids=lambda r: r.rule_id)
def test_rule_units_are_named_for_their_id_and_cite_their_guideline_lines(rule):
    module = inspect.getmodule(rule.evaluate)
    assert module.__name__ == "cds_service.rules." + rule.rule_id.lower().replace("-", "_")
    cited = {int(n) for n in re.findall(r"G:(\d+)", module.__doc__ or "")}
    cited |= {n for a, b in re.findall(r"G:(\d+)-(\d+)", module.__doc__ or "") for n in range(int(a), int(b) + 1)}
    assert cited and set(rule.guideline_lines) <= cited
    assert all(1 <= n <= len(guideline_lines()) for n in cited)


@pytest.mark.parametrize("rule", ORDER_RULES, ids=lambda r: r.rule_id)
def test_rule_evaluations_hold_no_literal_threshold(rule):
    rule_id = rule.rule_id
    tree = ast.parse(textwrap.dedent(inspect.getsource(rule.evaluate)))
    numbers = [
        node.value for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
    ]
    assert numbers == [], f"{rule_id} holds literal numbers {numbers}: thresholds belong in PathwaySettings"


# -- clinical audit: orders (docs/decisions.md, "Clinical audit: orders") ------------------------------------
@pytest.mark.parametrize("lost", ["ImagingStudy", "Procedure"])
def test_stent_dvt_not_excluded_is_not_silenced_by_studies_that_hold_no_result(lost):
    # An ImagingStudy or Procedure never carries a coded result (DATA-CONTRACT "Imaging done"): unread, it
    # could only add an uncoded study, which never excludes DVT. The warning must still fire.
    f = left_swelling(unreadable=frozenset({lost}))
    found = only([stent_order(60.0)], f, "STENT-DVT-NOT-EXCLUDED")
    assert found is not None and found.dvt_axis == "unassessed"


def test_stent_dvt_not_excluded_says_when_a_pelvic_study_may_be_unread():
    waveform = WaveformFact(ev("Observation/cfv", when=duplex().evidence.when), Waveform.NON_PHASIC, Side.LEFT)
    f = left_swelling(duplex_results=[duplex()], cfv_waveforms=[waveform], unreadable=frozenset({"ImagingStudy"}))
    found = only([stent_order(60.0)], f, "STENT-DVT-NOT-EXCLUDED")
    assert found.dvt_axis == "pelvic-imaging-needed" and found.imaging_unreadable is True
    readable = only([stent_order(60.0)], replace(f, unreadable=frozenset()), "STENT-DVT-NOT-EXCLUDED")
    assert readable.imaging_unreadable is False


@pytest.mark.parametrize("lost", ["Observation", "ImagingStudy", "DiagnosticReport", "Procedure"])
def test_stent_mass_not_characterized_is_not_claimed_from_unread_natures_or_imaging(lost):
    # A mass-nature Observation, or a CT venography Observation / report / study, may be in the unread data.
    f = clean(masses=[mass(days=5)], unreadable=frozenset({lost}))
    assert only([stent_order(60.0)], f, "STENT-MASS-NOT-CHARACTERIZED") is None
    assert only([stent_order(60.0)], clean(masses=[mass(days=5)]), "STENT-MASS-NOT-CHARACTERIZED") is not None


@pytest.mark.parametrize("lost", ["Observation", "MedicationRequest", "MedicationStatement"])
def test_thrombolysis_for_an_acute_pe_is_not_called_unindicated_when_hypotension_is_unread(lost):
    # PE with hypotension is a thrombolysis indication: with the blood pressure or the vasopressors unread,
    # the service cannot say there is none.
    f = confirmed_dvt(pe_diagnoses=[cond("Condition/pe", days=0)], unreadable=frozenset({lost}))
    assert only([thrombolytic(100.0)], f, "THROMBOLYSIS-NOT-INDICATED") is None


def test_thrombolysis_for_an_acute_pe_without_hypotension_is_still_not_indicated():
    f = confirmed_dvt(pe_diagnoses=[cond("Condition/pe", days=0)])  # blood pressure read: none low
    assert only([thrombolytic(100.0)], f, "THROMBOLYSIS-NOT-INDICATED") is not None


def test_thrombolysis_ordered_for_pe_is_not_called_unindicated_when_hypotension_is_unread():
    pe = replace(thrombolytic(100.0), reason_kinds=("pulmonary-embolism",))
    assert only([pe], confirmed_dvt(unreadable=frozenset({"Observation"})), "THROMBOLYSIS-NOT-INDICATED") is None
    assert only([pe], confirmed_dvt(), "THROMBOLYSIS-NOT-INDICATED") is not None


def test_thrombolysis_with_phlegmasia_hypotension_and_bleeding_names_the_contraindication():
    f = hypotensive(bleeding=[cond("Condition/gi-bleed", days=2)])
    found = only([thrombolytic(100.0)], f, "THROMBOLYSIS-NOT-INDICATED")
    assert found.limb_threat and found.severe_hypotension and found.contraindicated


HIT = [cond("Condition/hit", days=2)]


@pytest.mark.parametrize(
    "ordered",
    [enoxaparin(80.0), enoxaparin(60.0), drug("dalteparin", dose=15000.0, unit="[iU]", per_day=2.0),
     drug("heparin", DrugClass.ANTICOAGULANT, dose=5000.0, unit="[iU]", per_day=2.0)],
    ids=["enoxaparin right dose", "enoxaparin wrong dose", "dalteparin", "unfractionated heparin"],
)
def test_a_heparin_ordered_despite_heparin_induced_thrombocytopenia_is_a_warning(ordered):
    found = only([ordered], confirmed_dvt(hit=HIT), "ANTICOAG-REGIMEN")
    assert found is not None and found.indicator is Indicator.WARNING
    assert found.variant == "hit" and found.proposals == ()
    assert Evidence("Condition/hit", "Condition/hit", HIT[0].evidence.when) in found.evidence


def test_without_hit_the_right_enoxaparin_dose_and_heparin_keep_their_rules():
    assert only([enoxaparin(80.0)], confirmed_dvt(), "ANTICOAG-REGIMEN") is None
    heparin = drug("heparin", DrugClass.ANTICOAGULANT, dose=5000.0, unit="[iU]", per_day=2.0)
    assert only([heparin], confirmed_dvt(), "ANTICOAG-REGIMEN").indicator is Indicator.INFO


@pytest.mark.parametrize("agent, pregnant, indicator", [("argatroban", False, Indicator.INFO),
                                                       ("fondaparinux", False, Indicator.INFO),
                                                       ("rivaroxaban", True, Indicator.WARNING)])
def test_a_non_heparin_agent_with_hit_is_not_told_to_switch_to_lmwh(agent, pregnant, indicator):
    f = confirmed_dvt(hit=HIT, pregnancy=[cond("Condition/pregnancy")] if pregnant else [])
    found = only([drug(agent, DrugClass.ANTICOAGULANT, dose=5.0, per_day=1.0)], f, "ANTICOAG-REGIMEN")
    assert found.indicator is indicator and found.hit is True and found.proposals == ()


def test_another_lmwh_with_an_unreadable_frequency_is_not_passed_silently():
    found = only([drug("dalteparin", dose=15000.0, unit="[iU]", per_day=None)], confirmed_dvt(), "ANTICOAG-REGIMEN")
    assert found is not None and found.indicator is Indicator.INFO and found.variant == "unreadable"


def not_run(orders, f, settings: PathwaySettings = S) -> list[str]:
    a = assess(f, settings)
    return [rule.rule_id for rule in checks_not_run(list(orders), f, a, settings, evaluate_orders(list(orders), f, a, settings))]


@pytest.mark.parametrize("doses, listed", [(2, False), (3, True)])
def test_catheter_clearance_is_no_thrombolysis_check_left_undone(doses, listed):
    """With the record unread, a clearance order (told from the order alone) is no check the missing data stopped."""
    f = unreadable(*EVERY_TYPE)
    assert ("THROMBOLYSIS-NOT-INDICATED" in not_run([thrombolytic(2.0, doses)], f)) is listed


def test_checks_not_run_names_the_checks_whose_data_was_unread():
    assert not_run([stent_order(60.0)], clean()) == []
    missed = not_run([stent_order(60.0)], clean(unreadable=frozenset({"Observation"})))
    assert {"STENT-DIAMETER", "STENT-IVUS-REQUIRED", "STENT-BELOW-THRESHOLD"} <= set(missed)
    assert "STENT-LENGTH" not in missed and "IVC-FILTER-NOT-INDICATED" not in missed  # order-only; no filter


def test_a_check_that_gave_a_card_is_not_said_not_to_have_run():
    f = confirmed_dvt(unreadable=frozenset({"ImagingStudy"}))
    assert "STENT-DVT-NOT-EXCLUDED" in ids([stent_order(60.0)], f)
    assert "STENT-DVT-NOT-EXCLUDED" not in not_run([stent_order(60.0)], f)


def test_checks_skipped_for_an_unknown_scope_are_named():
    f = unreadable("Condition")
    missed = not_run([stent_order(60.0, iliac=False)], f)
    assert {"STENT-DIAMETER", "STENT-IVUS-REQUIRED", "STENT-DYNAMIC-LESION", "STENT-BELOW-THRESHOLD"} <= set(missed)
    assert "STENT-DIAMETER" not in not_run([stent_order(60.0, iliac=True)], f)  # iliac: its scope is known


def test_mass_check_is_not_said_not_to_have_run_when_no_mass_is_on_record():
    lost = frozenset({"ImagingStudy"})
    assert "STENT-MASS-NOT-CHARACTERIZED" not in not_run([stent_order(60.0)], clean(unreadable=lost))
    assert "STENT-MASS-NOT-CHARACTERIZED" in not_run([stent_order(60.0)], clean(masses=[mass(days=5)], unreadable=lost))


@pytest.mark.parametrize(
    "readings, fires",
    [(((89.9, 60), (89.9, 10)), False), (((90.0, 60), (89.9, 10)), True),  # systolic < 90 mm[Hg] on both
     (((84.0, 25), (80.0, 10)), False), (((84.0, 24.9), (80.0, 10)), True)],  # at least 15 minutes apart
    ids=["both 89.9", "one at 90", "15 min apart", "14.9 min apart"],
)
def test_thrombolysis_hypotension_boundaries(readings, fires):
    bp = [meas(f"Observation/bp{i}", value, "mm[Hg]", minutes=ago) for i, (value, ago) in enumerate(readings)]
    assert (only([thrombolytic(100.0)], hypotensive(systolic_bp=bp), "THROMBOLYSIS-NOT-INDICATED") is not None) is fires


@pytest.mark.parametrize("days, checked", [(30, True), (30.01, False)])
def test_regimen_weight_window_boundary(days, checked):
    f = confirmed_dvt(weight=None)
    f.weight = [meas("Observation/weight", 80.0, "kg", days=days)]  # body weight counts for 30 days
    found = only([enoxaparin(60.0)], f, "ANTICOAG-REGIMEN")
    assert found.variant == ("dose" if checked else "no-weight")
