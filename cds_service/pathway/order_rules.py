"""The order rules of RULES.md (hooks order-select and order-sign): one function per rule ID.

Each rule looks at one recognized draft order (`DraftOrder`) against the patient's
`Assessment` and returns a `Finding` (with `order_ref`) or None. Thresholds come only
from `PathwaySettings`.

Which orders are checked at all (RULES.md "Scope"): stent and venoplasty checks run when
the patient is in scope or the order itself is clearly iliac venous; IVC-filter,
thrombolysis and drug checks only for patients in scope. When the record could not be
read, whether the patient is in scope is unknown: the stent-size checks (which need only
the order) then still run for every venous stent, because a migrating short stent is the
harm this service exists to prevent (docs/decisions.md, "Orders").

Unknown is not false: a rule that needs a fact the service could not read stays silent
rather than claim the fact is absent (RULES cross-cutting); the service's DATA-UNAVAILABLE
card names the checks that could not run.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Collection, Iterable

from cds_service.pathway import axes
from cds_service.pathway.assessment import EXTRINSIC, Assessment
from cds_service.pathway.catalogue import RuleInfo
from cds_service.pathway.dosing import enoxaparin_regimen, renal_dosing
from cds_service.pathway.facts import ClinicalFacts, DraftOrder, DrugClass, Evidence, OrderKind, Severity
from cds_service.pathway.findings import DeleteOrder, Finding, Indicator, UpdateOrder
from cds_service.pathway.patient_view import has_other_reason
from cds_service.pathway.settings import PathwaySettings

# Resource types each group of patient facts is read from (facts.unreadable names the unread ones).
SCOPE_TYPES = ("Condition", "Procedure", "Observation", "DiagnosticReport")
DVT_TYPES = ("Condition", "Observation", "DiagnosticReport", "ImagingStudy", "Procedure")
# What could turn "DVT not excluded" into "excluded": conditions (the legs in question, a diagnosis) and
# study results (axes.REPORT_TYPES). An ImagingStudy or Procedure carries no result: unread, it can
# only hide an uncoded study, which never excludes DVT.
DVT_EXCLUSION_TYPES = ("Condition",) + axes.REPORT_TYPES
IMAGING_TYPES = ("ImagingStudy", "DiagnosticReport", "Procedure")
# A mass's nature (Condition, or a mass-nature Observation) and its contrast imaging (a CT venography
# Observation, or a study).
MASS_TYPES = ("Condition", "Observation") + IMAGING_TYPES
CONDITION_TYPES = ("Condition",)
CONTRAINDICATION_TYPES = ("Condition", "Observation")  # bleeding diagnoses, platelet counts
LESION_TYPES = ("Observation",)  # IVUS measurements, lesion behaviour
MEDICATION_TYPES = ("MedicationRequest", "MedicationStatement")

# Non-LMWH agents that are a warning in pregnancy (RULES cross-cutting: warfarin and DOACs).
PREGNANCY_WARNING_AGENTS = frozenset({"warfarin", "apixaban", "rivaroxaban", "dabigatran", "edoxaban"})
# Unfractionated heparin: with the LMWHs, the heparins a patient with heparin-induced thrombocytopenia
# must not get (DATA-CONTRACT: "no heparin").
UNFRACTIONATED_HEPARIN = "heparin"
ENOXAPARIN = "enoxaparin"
# The guideline's regimen in administrations per day (G:8: twice daily; once daily below the eGFR cut-off).
TWICE_DAILY, ONCE_DAILY = 2, 1
SEVERE_GRADE = "severe"  # Swelling.grade as recorded (Condition.severity SNOMED 24484000)


@dataclass(frozen=True)
class OrderContext:
    """What every order rule reads: the patient, the whole draft set and the settings."""

    facts: ClinicalFacts
    a: Assessment
    s: PathwaySettings
    draft_set: tuple[DraftOrder, ...]  # every order of draftOrders (order-select: not only the selections)

    def known(self, *resource_types: str) -> bool:
        return self.facts.known(*resource_types)

    @property
    def scope_unknown(self) -> bool:
        """Not in scope as far as the record was read, but part of it could not be read."""
        return not self.a.in_scope and not self.known(*SCOPE_TYPES)


Rule = Callable[[DraftOrder, OrderContext], "Finding | None"]


def _dec(value: float) -> Decimal:
    # str() first: compare the numbers as written, without the binary error of floats.
    return Decimal(str(value))


def _evidence(*groups) -> tuple[Evidence, ...]:
    """Flatten evidence, dropping None and repeats, keeping order."""
    seen: list[Evidence] = []
    for group in groups:
        for item in group if isinstance(group, (tuple, list)) else (group,):
            if item is not None and item not in seen:
                seen.append(item)
    return tuple(seen)


def _order_values(order: DraftOrder) -> dict[str, object]:
    return {"order_display": order.display, "order_ref": order.ref}


def _finding(rule_id: str, indicator: Indicator, order: DraftOrder, values: dict, evidence=(), proposals=()) -> Finding:
    return Finding(rule_id, indicator, {**_order_values(order), **values}, tuple(evidence), tuple(proposals), order.ref)


# -- which orders a rule looks at -------------------------------------------------------------------
def _stent_scope(order: DraftOrder, ctx: OrderContext) -> bool:
    """RULES Scope: the patient is in scope, or the order is clearly iliac venous."""
    return ctx.a.in_scope or order.iliac


def _is_stent(order: DraftOrder, ctx: OrderContext) -> bool:
    return order.kind is OrderKind.STENT and _stent_scope(order, ctx)


def _is_sizable_stent(order: DraftOrder, ctx: OrderContext) -> bool:
    """Size checks need only the order: they also run while the patient's scope is unknown."""
    return order.kind is OrderKind.STENT and (_stent_scope(order, ctx) or ctx.scope_unknown)


def _scope_caveat(order: DraftOrder, ctx: OrderContext) -> dict[str, object]:
    unsure = not ctx.a.in_scope and not order.iliac
    return {"scope_unknown": unsure}


# -- stent size (need only the draft order) ----------------------------------------------------------
def stent_length(order: DraftOrder, ctx: OrderContext) -> Finding | None:
    """G:38, G:39, G:52: stent length must be >= 60 mm; stents < 60 mm account for 82.6 % of
    migrations with 16.2 % mortality. Suggest the same order at the minimum length."""
    if not _is_sizable_stent(order, ctx) or order.length_mm is None:
        return None
    minimum = ctx.s.min_stent_length_mm
    if _dec(order.length_mm) >= _dec(minimum):
        return None
    values = {
        "length_mm": order.length_mm,
        "length_as_ordered": order.length_as_ordered,
        "min_length_mm": minimum,
        "size_ref": order.size_ref,
        **_scope_caveat(order, ctx),
    }
    # The service finds the resource that states the length (this order, or its device order).
    fix = UpdateOrder(order_ref=order.ref, length_mm=minimum)
    return _finding("STENT-LENGTH", Indicator.CRITICAL, order, values, proposals=(fix,))


def stent_length_unknown(order: DraftOrder, ctx: OrderContext) -> Finding | None:
    """G:38: the length cannot be verified, and it must be >= 60 mm. A warning for a device order;
    information for a procedure order with no device (sizes are often chosen on the table)."""
    if not _is_sizable_stent(order, ctx) or order.length_mm is not None:
        return None
    device_ordered = order.resource_type == "DeviceRequest" or bool(order.size_ref)
    values = {
        "length_as_ordered": order.length_as_ordered,  # "60 millimetres": a unit that is not UCUM
        "min_length_mm": ctx.s.min_stent_length_mm,
        "device_ordered": device_ordered,
        "size_ref": order.size_ref,
        **_scope_caveat(order, ctx),
    }
    indicator = Indicator.WARNING if device_ordered else Indicator.INFO
    return _finding("STENT-LENGTH-UNKNOWN", indicator, order, values)


def nearest_diameter_in_range(low: float, high: float, ordered: float) -> float:
    """The stent diameter to suggest: the whole millimetre in [low, high] nearest the ordered one
    (stents come in whole millimetres), else the nearest bound."""
    whole = [d for d in range(math.ceil(low), math.floor(high) + 1)]
    candidates = whole or [low, high]
    return min(candidates, key=lambda d: (abs(_dec(d) - _dec(ordered)), d))


def stent_diameter(order: DraftOrder, ctx: OrderContext) -> Finding | None:
    """G:37, G:40: size from the IVUS external iliac reference diameter D; oversize by 1-4 mm, so the
    stent diameter must lie within D+1 to D+4 mm (inclusive)."""
    reference = ctx.a.eiv_reference
    if not _is_stent(order, ctx) or order.diameter_mm is None or reference is None or reference.value is None:
        return None
    low = _dec(reference.value) + _dec(ctx.s.oversize_min_mm)
    high = _dec(reference.value) + _dec(ctx.s.oversize_max_mm)
    if low <= _dec(order.diameter_mm) <= high:
        return None
    suggested = nearest_diameter_in_range(float(low), float(high), order.diameter_mm)
    values = {
        "diameter_mm": order.diameter_mm,
        "diameter_as_ordered": order.diameter_as_ordered,
        "reference_mm": reference.value,
        "range_low_mm": float(low),
        "range_high_mm": float(high),
        "oversize_mm": float(_dec(order.diameter_mm) - _dec(reference.value)),
        "suggested_mm": float(suggested),
    }
    fix = UpdateOrder(order_ref=order.ref, diameter_mm=float(suggested))
    return _finding("STENT-DIAMETER", Indicator.WARNING, order, values, (reference.evidence,), (fix,))


# -- IVUS and the lesion ------------------------------------------------------------------------------
def stent_ivus_required(order: DraftOrder, ctx: OrderContext) -> Finding | None:
    """G:19, G:22, G:37: venography with IVUS is mandatory before any intervention; do not treat on
    CT or ultrasound alone; size from the IVUS reference vessel. No card when IVUS is in the same
    order set (the stent is then conditional on intra-procedural IVUS)."""
    if order.kind not in (OrderKind.STENT, OrderKind.VENOPLASTY) or not _stent_scope(order, ctx):
        return None
    if any(o.kind is OrderKind.IVUS for o in ctx.draft_set):
        return None
    if not ctx.a.no_ivus:  # an IVUS on record, or the IVUS data could not be read (unknown, not absent)
        return None
    values = {"procedure": order.kind.value, "ct_compression": _ct_compression(ctx)}
    evidence = (ctx.a.ct_compression.evidence,) if ctx.a.ct_compression else ()
    return _finding("STENT-IVUS-REQUIRED", Indicator.CRITICAL, order, values, evidence)


def _ct_compression(ctx: OrderContext) -> float | None:
    measurement = ctx.a.ct_compression
    return measurement.value if measurement else None


def stent_below_threshold(order: DraftOrder, ctx: OrderContext) -> Finding | None:
    """G:21: a diameter stenosis > 61 % on IVUS is the threshold most predictive of clinical success
    with stenting; at or below it the lesion does not meet the threshold."""
    ivus = ctx.a.ivus_stenosis
    if not _is_stent(order, ctx) or ivus is None or ivus.value is None:
        return None
    threshold = ctx.s.ivus_stenosis_threshold_pct
    if _dec(ivus.value) > _dec(threshold):
        return None
    values = {"stenosis_pct": ivus.value, "threshold_pct": threshold}
    return _finding("STENT-BELOW-THRESHOLD", Indicator.WARNING, order, values, (ivus.evidence,))


def stent_dynamic_lesion(order: DraftOrder, ctx: OrderContext) -> Finding | None:
    """G:41: do not intervene on dynamic lesions that vary with breathing or position."""
    if not _is_stent(order, ctx) or ctx.a.lesion_dynamic is None:
        return None
    return _finding("STENT-DYNAMIC-LESION", Indicator.WARNING, order, {}, (ctx.a.lesion_dynamic,))


def stent_bilateral_edema(order: DraftOrder, ctx: OrderContext) -> Finding | None:
    """G:51: bilateral edema is rarely caused by NIVL and suggests systemic causes."""
    if not _is_stent(order, ctx) or not ctx.a.bilateral_edema:
        return None
    evidence = [sw.evidence for sw in ctx.facts.swellings]
    return _finding("STENT-BILATERAL-EDEMA", Indicator.WARNING, order, {}, evidence)


def stent_minimal_symptoms(order: DraftOrder, ctx: OrderContext) -> Finding | None:
    """G:34: stenting is inappropriate if symptoms are minimal, or as prophylaxis in asymptomatic
    patients. An unrecorded severity is unknown, not minimal."""
    if not _is_stent(order, ctx):
        return None
    if ctx.a.symptoms == Severity.MINIMAL:
        variant = "minimal"
    elif ctx.a.asymptomatic:  # no swelling recorded, and the conditions were read
        variant = "asymptomatic"
    else:
        return None
    return _finding("STENT-MINIMAL-SYMPTOMS", Indicator.WARNING, order, {"variant": variant}, ctx.a.symptom_evidence)


def stent_dvt_not_excluded(order: DraftOrder, ctx: OrderContext) -> Finding | None:
    """G:3, G:7, G:11: rule out DVT first; with an acute DVT, anticoagulate first (stenting only with
    thrombus removal by the vascular team); NIVL is considered once DVT is ruled out."""
    if not _is_stent(order, ctx):
        return None
    axis = ctx.a.dvt_axis
    if axis == axes.CONFIRMED:
        values = {"dvt_axis": axis, "preliminary": ctx.a.dvt_preliminary}
        return _finding("STENT-DVT-NOT-EXCLUDED", Indicator.WARNING, order, values, ctx.a.dvt_evidence)
    if axis not in (axes.UNASSESSED, axes.PELVIC_IMAGING_NEEDED) or not ctx.known(*DVT_EXCLUSION_TYPES):
        return None  # "not excluded" from unread results would be a guess: a newer negative one may exist
    values = {
        "dvt_axis": axis,
        "triggers": sorted({t.kind for t in ctx.a.pelvic_triggers}),
        "limited_study": ctx.a.limited_study is not None,
        # A pelvic study done but unread (no result either way) is possible: the card says so.
        "imaging_unreadable": not ctx.known(*IMAGING_TYPES),
    }
    evidence = _evidence(ctx.a.dvt_evidence, ctx.a.limited_study.evidence if ctx.a.limited_study else None)
    return _finding("STENT-DVT-NOT-EXCLUDED", Indicator.WARNING, order, values, evidence)


def stent_other_causes(order: DraftOrder, ctx: OrderContext) -> Finding | None:
    """G:14, G:32: exclude other causes of edema first (heart failure, renal disease, liver disease,
    hypoproteinemia, medications, primary lymphedema); stenting only after excluding them."""
    if not _is_stent(order, ctx) or not ctx.a.other_causes:
        return None
    values = {"causes": [(c.kind, c.display, c.ref) for c in ctx.a.other_causes]}
    return _finding("STENT-OTHER-CAUSES", Indicator.WARNING, order, values, ctx.a.other_causes)


def stent_mass_not_characterized(order: DraftOrder, ctx: OrderContext) -> Finding | None:
    """G:24-26: the mass may be the cause of the compression; CT or MRI with contrast is essential to
    characterize it before stenting."""
    mass = ctx.a.mass_uncharacterized
    if not _is_stent(order, ctx) or mass is None or not ctx.known(*MASS_TYPES):
        return None  # an unread mass-nature Observation or CT venography may characterize it
    values = {"mass_display": mass.evidence.display, "mass_ref": mass.evidence.ref}
    return _finding("STENT-MASS-NOT-CHARACTERIZED", Indicator.WARNING, order, values, (mass.evidence,))


def _severe_symptoms(facts: ClinicalFacts) -> bool:
    """The newest swelling is recorded as severe, not only moderate (G:48 "symptoms are severe")."""
    dated = [sw for sw in facts.swellings if sw.recorded is not None]
    newest = max(dated, key=lambda sw: sw.recorded) if dated else next(iter(facts.swellings), None)
    return newest is not None and newest.grade == SEVERE_GRADE


def stent_extrinsic_mass(order: DraftOrder, ctx: OrderContext) -> Finding | None:
    """G:47-49: treat the underlying mass; a stent is a temporizing measure only when the mass is not
    immediately resectable and symptoms are severe, or palliative in malignancy. A warning unless
    the symptoms are known to be severe."""
    if not _is_stent(order, ctx) or ctx.a.lesion_axis != EXTRINSIC or ctx.a.extrinsic_mass is None:
        return None
    severe = _severe_symptoms(ctx.facts)
    values = {
        "nature": ctx.a.extrinsic_mass.kind,
        "nature_display": ctx.a.extrinsic_mass.display,
        "symptoms_severe": severe,
    }
    indicator = Indicator.INFO if severe else Indicator.WARNING
    evidence = _evidence(ctx.a.extrinsic_mass, ctx.a.symptom_evidence)
    return _finding("STENT-EXTRINSIC-MASS", indicator, order, values, evidence)


# -- IVC filter and thrombolysis (patients in scope only) -------------------------------------------
def ivc_filter_not_indicated(order: DraftOrder, ctx: OrderContext) -> Finding | None:
    """G:9: consider a vena cava filter only if anticoagulation is contraindicated."""
    if order.kind is not OrderKind.IVC_FILTER or not ctx.a.in_scope:
        return None
    if ctx.a.anticoagulation_contraindicated or not ctx.known(*CONTRAINDICATION_TYPES):
        return None  # a contraindication that could not be read may exist
    values = {"dvt_axis": ctx.a.dvt_axis, "acute_pe": ctx.a.acute_pe}
    evidence = _evidence(ctx.a.dvt_evidence, ctx.a.acute_pe_evidence)
    return _finding("IVC-FILTER-NOT-INDICATED", Indicator.WARNING, order, values, evidence, (DeleteOrder(order.ref),))


def is_catheter_clearance(order: DraftOrder, s: PathwaySettings) -> bool:
    """A thrombolytic drug order of at most 2 mg in total clears a catheter; an unread dose never does."""
    total = order.thrombolytic_total_mg
    return order.resource_type == "MedicationRequest" and total is not None and _dec(total) <= _dec(s.catheter_clearance_max_mg)


def _thrombolysis_indicated(ctx: OrderContext) -> bool | None:
    """G:10 (literal): limb-threatening ischemia with severe hypotension, no contraindication to
    anticoagulation, no hemorrhagic shock (as DVT-THROMBOLYSIS-OPTION). None: cannot tell."""
    a = ctx.a
    if not a.limb_threat:
        return False
    if ctx.s.thrombolysis_requires_hypotension and not a.severe_hypotension:
        return None if _hypotension_unread(ctx) else False
    return not (a.anticoagulation_contraindicated or a.hemorrhagic_shock)


def _hypotension_unread(ctx: OrderContext) -> bool:
    """Severe hypotension is also read from blood pressures and vasopressors: unread, it may be there."""
    return not ctx.known("Observation", *MEDICATION_TYPES)


def _other_thrombolysis_indication(order: DraftOrder, ctx: OrderContext) -> bool | None:
    """Stroke, myocardial infarction, acute arterial limb ischemia, or PE with shock / hypotension:
    recorded on the patient, or named as the order's reason. None: a PE whose blood pressure could
    not be read (unknown, not "no indication")."""
    if ctx.a.other_thrombolysis_indications or "thrombolysis-indication" in order.reason_kinds:
        return True
    if not (ctx.a.acute_pe or "pulmonary-embolism" in order.reason_kinds):
        return False
    if ctx.a.severe_hypotension:
        return True
    return None if _hypotension_unread(ctx) else False


def thrombolysis_not_indicated(order: DraftOrder, ctx: OrderContext) -> Finding | None:
    """G:10: thrombolysis should be reserved only for limb-threatening ischemia with severe
    hypotension, as hemorrhage risk is 8 %."""
    if order.kind is not OrderKind.THROMBOLYSIS or is_catheter_clearance(order, ctx.s):
        return None
    if not (ctx.a.in_scope or ctx.a.dvt_confirmed) or not ctx.known(*CONDITION_TYPES):
        return None  # phlegmasia, shock and the other indications are conditions: unread, they may exist
    if _other_thrombolysis_indication(order, ctx) is not False:
        return None
    indicated = _thrombolysis_indicated(ctx)
    if indicated is not False:
        return None
    a = ctx.a
    values = {
        "limb_threat": a.limb_threat,
        "severe_hypotension": a.severe_hypotension,
        "contraindicated": a.anticoagulation_contraindicated,
        "hemorrhagic_shock": a.hemorrhagic_shock,
        "requires_hypotension": ctx.s.thrombolysis_requires_hypotension,
        "total_mg": order.thrombolytic_total_mg,
        "drug": order.medication.ingredient if order.medication else "",
    }
    evidence = _evidence(a.dvt_evidence, a.limb_threat_evidence, a.hypotension_evidence, a.anticoag_contraindications)
    return _finding("THROMBOLYSIS-NOT-INDICATED", Indicator.CRITICAL, order, values, evidence, (DeleteOrder(order.ref),))


# -- drug orders ------------------------------------------------------------------------------------
def within_regimen_tolerance(ordered_mg: float, expected_mg: float, s: PathwaySettings) -> bool:
    """|ordered - expected| <= max(10 % of expected, 5 mg), bound included (RULES ANTICOAG-REGIMEN)."""
    tolerance = max(_dec(expected_mg) * _dec(s.regimen_tolerance_fraction), _dec(s.regimen_tolerance_min_mg))
    return abs(_dec(ordered_mg) - _dec(expected_mg)) <= tolerance


def anticoag_regimen(order: DraftOrder, ctx: OrderContext) -> Finding | None:
    """G:8: initiate therapeutic anticoagulation with LMWH twice daily at weight-adjusted doses
    (enoxaparin 1 mg/kg every 12 h; every 24 h when eGFR < 30)."""
    medication = order.medication
    if order.kind is not OrderKind.ANTICOAGULANT or medication is None or not ctx.a.dvt_confirmed:
        return None
    if ctx.a.hit is not None and _is_heparin(order):
        return _heparin_despite_hit(order, ctx)
    if medication.drug_class is DrugClass.LMWH:
        return _lmwh_regimen(order, ctx)
    return _non_lmwh_agent(order, ctx)


def _is_heparin(order: DraftOrder) -> bool:
    return order.medication.drug_class is DrugClass.LMWH or order.medication.ingredient == UNFRACTIONATED_HEPARIN


def _heparin_despite_hit(order: DraftOrder, ctx: OrderContext) -> Finding:
    """Heparin-induced thrombocytopenia: no heparin, LMWH included (DATA-CONTRACT; RULES
    DVT-ANTICOAGULATE: "a non-heparin anticoagulant is needed"). The guideline's LMWH regimen (G:8)
    does not apply, whatever the dose, so there is no dose to suggest."""
    values = {"ingredient": order.medication.ingredient, "variant": "hit", "hit": True, **_renal_values(ctx)}
    return _finding("ANTICOAG-REGIMEN", Indicator.WARNING, order, values, (ctx.a.hit,))


def _renal_values(ctx: OrderContext) -> dict[str, object]:
    egfr = ctx.a.egfr
    return {"egfr": egfr.value if egfr else None, "egfr_threshold": ctx.s.egfr_renal_dosing}


def _lmwh_regimen(order: DraftOrder, ctx: OrderContext) -> Finding | None:
    medication = order.medication
    egfr = ctx.a.egfr.value if ctx.a.egfr else None
    expected_per_day = ONCE_DAILY if renal_dosing(egfr, ctx.s) else TWICE_DAILY
    values: dict[str, object] = {
        "ingredient": medication.ingredient,
        "dose": medication.dose,
        "dose_unit": medication.dose_unit,
        "per_day": medication.per_day,
        "expected_per_day": expected_per_day,
        **_renal_values(ctx),
    }
    evidence = _evidence(ctx.a.weight_kg.evidence if ctx.a.weight_kg else None, ctx.a.egfr.evidence if ctx.a.egfr else None)
    frequency_error = medication.per_day is not None and medication.per_day != expected_per_day
    if medication.ingredient != ENOXAPARIN:
        # Only enoxaparin is dosed in the guideline's mg/kg; other LMWHs are checked for frequency only.
        if frequency_error:
            values.update(variant="frequency", expected_dose_mg=None)
            return _finding("ANTICOAG-REGIMEN", Indicator.WARNING, order, values, evidence)
        if medication.per_day is None:  # not a regimen we can confirm (as for enoxaparin)
            values.update(variant="unreadable", expected_dose_mg=None)
            return _finding("ANTICOAG-REGIMEN", Indicator.INFO, order, values, evidence)
        return None
    return _enoxaparin_regimen(order, ctx, values, evidence, frequency_error)


def _enoxaparin_regimen(order, ctx: OrderContext, values: dict, evidence, frequency_error: bool) -> Finding | None:
    medication = order.medication
    weight = ctx.a.weight_kg.value if ctx.a.weight_kg else None
    if weight is None:
        # No dose can be computed: a frequency error is still an error; otherwise say it was not checked.
        variant = "frequency-no-weight" if frequency_error else "no-weight"
        indicator = Indicator.WARNING if frequency_error else Indicator.INFO
        values.update(variant=variant, weight_unreadable=not ctx.known("Observation"))
        return _finding("ANTICOAG-REGIMEN", indicator, order, values, evidence)
    expected_mg, per_day = enoxaparin_regimen(weight, values["egfr"], ctx.s)
    values.update(expected_dose_mg=expected_mg, weight_kg=weight, tolerance_mg=_tolerance_mg(expected_mg, ctx.s))
    dose_readable = medication.dose is not None and medication.dose_unit.lower() == "mg"
    dose_error = dose_readable and not within_regimen_tolerance(medication.dose, expected_mg, ctx.s)
    fix = (UpdateOrder(order_ref=order.ref, dose_mg=float(expected_mg), per_day=per_day),)  # HIT never reaches here
    if dose_error or frequency_error:
        variant = "dose-and-frequency" if dose_error and frequency_error else "dose" if dose_error else "frequency"
        return _finding("ANTICOAG-REGIMEN", Indicator.WARNING, order, {**values, "variant": variant}, evidence, fix)
    if not dose_readable or medication.per_day is None:
        # Unread dose or frequency: not an error we can name, but not a regimen we can confirm either.
        return _finding("ANTICOAG-REGIMEN", Indicator.INFO, order, {**values, "variant": "unreadable"}, evidence, fix)
    return None


def _tolerance_mg(expected_mg: float, s: PathwaySettings) -> float:
    return float(max(_dec(expected_mg) * _dec(s.regimen_tolerance_fraction), _dec(s.regimen_tolerance_min_mg)))


def _non_lmwh_agent(order: DraftOrder, ctx: OrderContext) -> Finding:
    """Any non-LMWH anticoagulant: information (the guideline's regimen is LMWH); warfarin or a DOAC
    in pregnancy, or while pregnancy could not be checked in a patient who may be pregnant: a warning."""
    ingredient = order.medication.ingredient
    pregnancy_unread = not ctx.known(*CONDITION_TYPES) and ctx.facts.gender != "male"
    in_pregnancy = ingredient in PREGNANCY_WARNING_AGENTS and (ctx.a.pregnant or pregnancy_unread)
    values = {
        "ingredient": ingredient,
        "variant": "pregnancy" if ctx.a.pregnant else "pregnancy-unknown" if in_pregnancy else "non-lmwh",
        # With HIT the card must not recommend LMWH: a non-heparin agent is what is needed.
        "hit": ctx.a.hit is not None,
        **_renal_values(ctx),
    }
    indicator = Indicator.WARNING if in_pregnancy else Indicator.INFO
    return _finding("ANTICOAG-REGIMEN", indicator, order, values, _evidence(ctx.a.pregnancy_evidence, ctx.a.hit))


def post_stent_antithrombotic_order(order: DraftOrder, ctx: OrderContext) -> Finding | None:
    """G:43, G:44: no consensus supports routine anticoagulation or antiplatelet therapy for treated
    NIVL without prior VTE; high patency rates are achieved without it."""
    if order.kind not in (OrderKind.ANTICOAGULANT, OrderKind.ANTIPLATELET) or not ctx.a.stented_for_nivl:
        return None
    if ctx.a.other_antithrombotic_indications or has_other_reason(order.reason_codes, order.reason_text):
        return None
    values = {"ingredient": order.medication.ingredient if order.medication else ""}
    evidence = _evidence(ctx.a.stent.evidence if ctx.a.stent else None)
    return _finding("POST-STENT-ANTITHROMBOTIC-ORDER", Indicator.INFO, order, values, evidence)


# -- catalogue ---------------------------------------------------------------------------------------
ORDER = "order"

RULES: tuple[RuleInfo, ...] = (
    RuleInfo(
        "STENT-LENGTH", ORDER, "Iliac venous stent shorter than 60 mm",
        "An iliac venous stent order whose length, after unit conversion, is below the minimum (60 mm).",
        (38, 39, 52), "critical", ("min_stent_length_mm",),
        "stents < 60 mm: 82.6 % of migrations, 16.2 % mortality; 56 % migrate to the heart, 24 % to the pulmonary artery",
    ),
    RuleInfo(
        "STENT-LENGTH-UNKNOWN", ORDER, "Stent length cannot be verified",
        "An iliac venous stent order with no readable length (none given, or in a unit that is not UCUM).",
        (38,), "warning / info", ("min_stent_length_mm",),
    ),
    RuleInfo(
        "STENT-DIAMETER", ORDER, "Stent diameter outside reference + 1 to + 4 mm",
        "An iliac venous stent order whose diameter is not within the IVUS external iliac reference diameter "
        "+ 1 to + 4 mm (inclusive).",
        (37, 40), "warning", ("oversize_min_mm", "oversize_max_mm"),
    ),
    RuleInfo(
        "STENT-IVUS-REQUIRED", ORDER, "No IVUS before iliac vein intervention",
        "An iliac venous stent or venoplasty order, no IVUS result on record (the IVUS data was read), and no "
        "IVUS ordered in the same draft orders.",
        (19, 22, 37), "critical",
    ),
    RuleInfo(
        "STENT-BELOW-THRESHOLD", ORDER, "Stent for an IVUS stenosis at or below 61 %",
        "A stent order while the IVUS diameter stenosis is at or below the threshold (61 %).",
        (21,), "warning", ("ivus_stenosis_threshold_pct",),
    ),
    RuleInfo(
        "STENT-DYNAMIC-LESION", ORDER, "Stent for a dynamic lesion",
        "A stent order while the lesion is recorded as dynamic (varies with breathing or position).",
        (41,), "warning",
    ),
    RuleInfo(
        "STENT-BILATERAL-EDEMA", ORDER, "Stent with bilateral edema",
        "A stent order while bilateral lower-limb edema is recorded.",
        (51,), "warning",
    ),
    RuleInfo(
        "STENT-MINIMAL-SYMPTOMS", ORDER, "Stent for minimal or no symptoms",
        "A stent order while the swelling is recorded as mild, or no symptom is recorded at all.",
        (34,), "warning",
    ),
    RuleInfo(
        "STENT-DVT-NOT-EXCLUDED", ORDER, "Stent before DVT is excluded",
        "A stent order while the DVT axis is unassessed, pelvic imaging is needed, or DVT is confirmed.",
        (3, 7, 11), "warning",
    ),
    RuleInfo(
        "STENT-OTHER-CAUSES", ORDER, "Stent with another cause of edema",
        "A stent order while another edema cause is recorded (heart failure, renal or liver disease, "
        "hypoalbuminemia, an edema-causing drug, lymphedema).",
        (14, 32), "warning", ("albumin_low_g_dl", "protein_low_g_dl", "labs_window_days"),
    ),
    RuleInfo(
        "STENT-MASS-NOT-CHARACTERIZED", ORDER, "Stent with an uncharacterized mass",
        "A stent order while an iliac / pelvic mass is on record, its nature not recorded and no contrast CT or "
        "MRI from 14 days before the mass onwards.",
        (24, 25, 26), "warning", ("mass_imaging_lookback_days",),
    ),
    RuleInfo(
        "STENT-EXTRINSIC-MASS", ORDER, "Stent for extrinsic compression by a mass",
        "A stent order while the lesion is extrinsic compression by a characterized mass.",
        (47, 48, 49), "info / warning",
    ),
    RuleInfo(
        "IVC-FILTER-NOT-INDICATED", ORDER, "Vena cava filter without a contraindication to anticoagulation",
        "A patient in scope, a vena cava filter order, and no anticoagulation contraindication recorded "
        "(the conditions and labs were read).",
        (9,), "warning", ("bleeding_window_days", "platelets_contraindication_10_3_ul"),
    ),
    RuleInfo(
        "THROMBOLYSIS-NOT-INDICATED", ORDER, "Thrombolysis without limb-threatening ischemia and severe hypotension",
        "A patient in scope or with a confirmed leg DVT; a thrombolytic drug order (not a catheter-clearance dose) "
        "or catheter-directed venous thrombolysis; not both limb-threatening venous ischemia and severe "
        "hypotension; no other thrombolysis indication.",
        (10,), "critical",
        ("catheter_clearance_max_mg", "thrombolysis_requires_hypotension", "systolic_low_mm_hg", "acute_event_window_days"),
        "hemorrhage risk 8 %",
    ),
    RuleInfo(
        "ANTICOAG-REGIMEN", ORDER, "Anticoagulant order is not the guideline's LMWH regimen",
        "DVT confirmed and an anticoagulant order that is not LMWH twice daily within max(10 %, 5 mg) of the "
        "weight-adjusted dose (enoxaparin 1 mg/kg every 12 h; every 24 h when eGFR < 30); or any heparin, LMWH "
        "included, while heparin-induced thrombocytopenia is recorded (warning).",
        (8,), "warning / info",
        ("enoxaparin_mg_per_kg", "enoxaparin_rounding_mg", "regimen_tolerance_fraction", "regimen_tolerance_min_mg",
         "egfr_renal_dosing", "weight_window_days"),
    ),
    RuleInfo(
        "POST-STENT-ANTITHROMBOTIC-ORDER", ORDER, "Antithrombotic order after NIVL stenting without prior VTE",
        "Stented for NIVL, an anticoagulant or antiplatelet order, and no other indication recorded.",
        (43, 44), "info",
    ),
)

# RULES.md order: the order of cards within an indicator.
RULE_FUNCTIONS: tuple[tuple[str, Rule], ...] = (
    ("STENT-LENGTH", stent_length),
    ("STENT-LENGTH-UNKNOWN", stent_length_unknown),
    ("STENT-DIAMETER", stent_diameter),
    ("STENT-IVUS-REQUIRED", stent_ivus_required),
    ("STENT-BELOW-THRESHOLD", stent_below_threshold),
    ("STENT-DYNAMIC-LESION", stent_dynamic_lesion),
    ("STENT-BILATERAL-EDEMA", stent_bilateral_edema),
    ("STENT-MINIMAL-SYMPTOMS", stent_minimal_symptoms),
    ("STENT-DVT-NOT-EXCLUDED", stent_dvt_not_excluded),
    ("STENT-OTHER-CAUSES", stent_other_causes),
    ("STENT-MASS-NOT-CHARACTERIZED", stent_mass_not_characterized),
    ("STENT-EXTRINSIC-MASS", stent_extrinsic_mass),
    ("IVC-FILTER-NOT-INDICATED", ivc_filter_not_indicated),
    ("THROMBOLYSIS-NOT-INDICATED", thrombolysis_not_indicated),
    ("ANTICOAG-REGIMEN", anticoag_regimen),
    ("POST-STENT-ANTITHROMBOTIC-ORDER", post_stent_antithrombotic_order),
)
RULE_ORDER: dict[str, int] = {rule_id: index for index, (rule_id, _) in enumerate(RULE_FUNCTIONS)}

_STENT = (OrderKind.STENT,)
_DRUGS = (OrderKind.ANTICOAGULANT, OrderKind.ANTIPLATELET)
# For the DATA-UNAVAILABLE card: the order kinds each rule checks and the resource types it reads
# (besides the scope, read from SCOPE_TYPES, for an order that is not clearly iliac).
RULE_INPUTS: dict[str, tuple[tuple[OrderKind, ...], tuple[str, ...]]] = {
    "STENT-LENGTH": (_STENT, ()),
    "STENT-LENGTH-UNKNOWN": (_STENT, ()),
    "STENT-DIAMETER": (_STENT, LESION_TYPES),
    "STENT-IVUS-REQUIRED": ((OrderKind.STENT, OrderKind.VENOPLASTY), ("Observation",) + IMAGING_TYPES),
    "STENT-BELOW-THRESHOLD": (_STENT, LESION_TYPES),
    "STENT-DYNAMIC-LESION": (_STENT, LESION_TYPES),
    "STENT-BILATERAL-EDEMA": (_STENT, CONDITION_TYPES),
    "STENT-MINIMAL-SYMPTOMS": (_STENT, CONDITION_TYPES),
    "STENT-DVT-NOT-EXCLUDED": (_STENT, DVT_TYPES),
    "STENT-OTHER-CAUSES": (_STENT, ("Condition", "Observation") + MEDICATION_TYPES),
    "STENT-MASS-NOT-CHARACTERIZED": (_STENT, MASS_TYPES),
    "STENT-EXTRINSIC-MASS": (_STENT, ("Condition", "Observation")),
    "IVC-FILTER-NOT-INDICATED": ((OrderKind.IVC_FILTER,), SCOPE_TYPES),
    "THROMBOLYSIS-NOT-INDICATED": ((OrderKind.THROMBOLYSIS,), SCOPE_TYPES + MEDICATION_TYPES),
    "ANTICOAG-REGIMEN": ((OrderKind.ANTICOAGULANT,), DVT_TYPES),
    "POST-STENT-ANTITHROMBOTIC-ORDER": (_DRUGS, DVT_TYPES),
}


# Rules that need only the draft order: they run whatever could be read, the scope included.
ORDER_ONLY_RULES = frozenset({"STENT-LENGTH", "STENT-LENGTH-UNKNOWN"})
_STENT_FAMILY = frozenset(rule_id for rule_id, (kinds, _) in RULE_INPUTS.items() if OrderKind.STENT in kinds)


def _may_apply(rule_id: str, order: DraftOrder, ctx: OrderContext) -> bool:
    """Whether the rule could concern this order, as far as the record tells (its scope gate)."""
    if rule_id == "STENT-MASS-NOT-CHARACTERIZED" and ctx.known("Condition") and not ctx.facts.masses:
        return False  # no mass on record: nothing to characterize, whatever else could not be read
    if rule_id in _STENT_FAMILY:
        return _stent_scope(order, ctx) or ctx.scope_unknown
    if rule_id == "IVC-FILTER-NOT-INDICATED":
        return ctx.a.in_scope or ctx.scope_unknown
    if rule_id == "THROMBOLYSIS-NOT-INDICATED":
        return ctx.a.in_scope or ctx.a.dvt_confirmed or ctx.scope_unknown
    return True


def _could_not_run(rule_id: str, order: DraftOrder, resource_types: tuple[str, ...], ctx: OrderContext) -> bool:
    if set(resource_types) & set(ctx.facts.unreadable):
        return True
    # A venous order that is not clearly iliac is checked only for a patient in scope (RULES Scope).
    return rule_id in _STENT_FAMILY - ORDER_ONLY_RULES and ctx.scope_unknown and not order.iliac


def checks_not_run(
    orders: list[DraftOrder], facts: ClinicalFacts, assessment: Assessment, settings: PathwaySettings,
    findings: Iterable[Finding],
    skip: Collection[str] = (),
) -> list[str]:
    """The rule IDs (RULES.md order) that could concern these orders but could not run on the record as
    read: a resource type they read was unreadable, or the patient's scope was unknown. A rule that
    gave a finding ran. For the DATA-UNAVAILABLE card: their silence does not mean the order is safe."""
    ctx = OrderContext(facts, assessment, settings, tuple(orders))
    fired = {finding.rule_id for finding in findings}
    return [
        rule_id
        for rule_id, (kinds, resource_types) in RULE_INPUTS.items()
        if rule_id not in fired
        and rule_id not in skip  # switched off by the site: not a check that "could not run"
        and any(
            o.kind in kinds and _may_apply(rule_id, o, ctx) and _could_not_run(rule_id, o, resource_types, ctx)
            for o in orders
        )
    ]


# -- evaluation ----------------------------------------------------------------------------------------
def _names(reference: str, target_ref: str) -> bool:
    return reference == target_ref or reference.endswith("/" + target_ref)


def is_device_of_checked_procedure(order: DraftOrder, checked: Iterable[DraftOrder]) -> bool:
    """A stent DeviceRequest based on a stent ServiceRequest that is checked too: one stent, whose
    cards go on the procedure (its size was read from this device, and fixes update the device)."""
    if order.kind is not OrderKind.STENT or order.resource_type != "DeviceRequest":
        return False
    return any(
        o.kind is OrderKind.STENT and o.resource_type == "ServiceRequest" and any(_names(b, o.ref) for b in order.based_on)
        for o in checked
    )


def evaluate_orders(
    orders: list[DraftOrder],
    facts: ClinicalFacts,
    assessment: Assessment,
    settings: PathwaySettings,
    *,
    draft_set: Iterable[DraftOrder] | None = None,
    skip: Collection[str] = (),
) -> list[Finding]:
    """Every finding on `orders` (order-select: the selected ones; order-sign: all), order by order
    and within an order in RULES.md order. `draft_set` is every order of draftOrders (default:
    `orders`): "IVUS in the same order set" reads all of it. `skip`: rule IDs the site switched off."""
    ctx = OrderContext(facts, assessment, settings, tuple(draft_set if draft_set is not None else orders))
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for order in orders:
        if is_device_of_checked_procedure(order, orders):
            continue
        for rule_id, rule in RULE_FUNCTIONS:
            if rule_id in skip:
                continue
            finding = rule(order, ctx)
            # One resource can be two orders (stent and venoplasty): one card per rule and resource.
            if finding is not None and (rule_id, order.ref) not in seen:
                seen.add((rule_id, order.ref))
                findings.append(finding)
    return findings
