"""The patient-view rules of RULES.md: one function per rule ID, in pathway order.

Each rule reads the facts and the `Assessment` (axes, windows and safety facts
already applied) and returns a `Finding` or None. Thresholds come only from
`PathwaySettings`. `evaluate` returns nothing for a patient out of scope.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, Collection

from cds_service.pathway import axes
from cds_service.pathway.assessment import (
    EXTRINSIC,
    NIVL_CONFIRMED,
    NO_STENT,
    POST_STENT,
    STENT_IMAGING_KINDS,
    UNKNOWN,
    Assessment,
    assess,
)
from cds_service.pathway.catalogue import RuleInfo
from cds_service.pathway.dosing import enoxaparin_regimen
from cds_service.pathway.facts import ClinicalFacts, Evidence, Severity, Side
from cds_service.pathway.findings import CreateEnoxaparin, CreateOrder, Finding, Indicator
from cds_service.pathway.settings import PathwaySettings

Rule = Callable[[ClinicalFacts, Assessment, PathwaySettings], "Finding | None"]


def _date(when: datetime | None) -> str:
    return when.date().isoformat() if when else "date unknown"


def _evidence(*groups) -> tuple[Evidence, ...]:
    """Flatten evidence, dropping None and repeats, keeping order."""
    seen: list[Evidence] = []
    for group in groups:
        items = group if isinstance(group, (tuple, list)) else (group,)
        for item in items:
            if item is not None and item not in seen:
                seen.append(item)
    return tuple(seen)


def _imaging_side(a: Assessment) -> Side:
    """The duplex of the swollen side; both legs when the side is not one leg."""
    return a.swelling_side if a.unilateral_swelling else Side.BOTH


def _possible_stent_candidate(a: Assessment) -> bool:
    """DVT excluded, unilateral significant swelling, no other edema cause (known to be none)."""
    return (
        a.dvt_axis == axes.EXCLUDED
        and a.unilateral_swelling
        and a.symptoms == Severity.SIGNIFICANT
        and not a.other_causes
        and a.other_causes_known
    )


def _pelvic_imaging_triggers(a: Assessment) -> tuple[axes.PelvicTrigger, ...] | None:
    """The triggers for DVT-PELVIC-IMAGING, or None when it does not fire."""
    if a.dvt_axis == axes.PELVIC_IMAGING_NEEDED:
        return a.pelvic_triggers
    if a.dvt_axis == axes.CONFIRMED and a.cfv_abnormal is not None and not a.dvt.pelvic_imaging_since_waveform:
        return (axes.PelvicTrigger(axes.ABNORMAL_CFV_WAVEFORM, a.cfv_abnormal.evidence),)
    return None


def _combined_mass_study(a: Assessment) -> bool:
    """One contrast CT (venous phase) answers both DVT-PELVIC-IMAGING and MASS-CHARACTERIZE."""
    return (
        _pelvic_imaging_triggers(a) is not None
        and a.unreadable_pelvic_study is None
        and a.mass_uncharacterized is not None
        and not a.pregnant
    )


# -- DVT ---------------------------------------------------------------------------------------------
def dvt_duplex(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> Finding | None:
    """G:3, G:4: rule out DVT first with a complete duplex, common femoral vein through the calf veins."""
    if a.dvt_axis != axes.UNASSESSED or not (a.unilateral_swelling or facts.masses):
        return None
    dvt = a.dvt
    side = _imaging_side(a)
    values: dict[str, object] = {
        "side": side.value,
        "mass": bool(facts.masses),
        "reports_unreadable": list(dvt.reports_unreadable),
    }
    proposals = (CreateOrder("leg-duplex", side),)
    evidence = _evidence([sw.evidence for sw in facts.swellings], [m.evidence for m in facts.masses])
    if dvt.unreadable_study is not None:
        values.update(variant="result-not-coded", study_date=_date(dvt.unreadable_study.when))
        return Finding("DVT-DUPLEX", Indicator.WARNING, values, _evidence(dvt.unreadable_study, evidence))
    if dvt.pending_study is not None:
        values.update(variant="preliminary", study_date=_date(dvt.pending_study.when))
        return Finding("DVT-DUPLEX", Indicator.WARNING, values, _evidence(dvt.pending_study, evidence))
    if dvt.limited_study is not None:
        study = dvt.limited_study
        values.update(variant="limited", study_date=_date(study.evidence.when), extent=study.extent.value)
        return Finding("DVT-DUPLEX", Indicator.WARNING, values, _evidence(study.evidence, evidence), proposals)
    if dvt.expired_study is not None:
        study = dvt.expired_study
        values.update(variant="expired", study_date=_date(study.evidence.when), window_days=s.negative_study_valid_days)
        return Finding("DVT-DUPLEX", Indicator.WARNING, values, _evidence(study.evidence, evidence), proposals)
    if dvt.voided_by is not None and dvt.negative_duplex is not None:
        values.update(
            variant="new-swelling",
            study_date=_date(dvt.negative_duplex.evidence.when),
            swelling_date=_date(dvt.voided_by.recorded),
        )
        return Finding(
            "DVT-DUPLEX", Indicator.WARNING, values, _evidence(dvt.negative_duplex.evidence, dvt.voided_by.evidence, evidence), proposals
        )
    values["variant"] = "no-study"
    return Finding("DVT-DUPLEX", Indicator.WARNING, values, evidence, proposals)


def dvt_pelvic_imaging(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> Finding | None:
    """G:5, G:6, G:54: a negative leg ultrasound with persisting swelling, a flat CFV waveform or a
    pelvic mass does not exclude iliocaval DVT: image the iliac and pelvic veins (CT or MR venography)."""
    triggers = _pelvic_imaging_triggers(a)
    if triggers is None:
        return None
    duplex = a.dvt.negative_duplex
    values: dict[str, object] = {
        "triggers": sorted({t.kind for t in triggers}),
        "dvt_axis": a.dvt_axis,
        "duplex_date": _date(duplex.evidence.when) if duplex else "",
        "pregnant": a.pregnant,
        "reports_unreadable": list(a.dvt.reports_unreadable),
    }
    evidence = _evidence(duplex.evidence if duplex else None, [t.evidence for t in triggers], a.pregnancy_evidence)
    if a.unreadable_pelvic_study is not None:
        # Done, no final result: review (or await) the report; never order a second study.
        variant = "preliminary" if a.dvt.pelvic_study_preliminary else "result-not-coded"
        values.update(variant=variant, study_date=_date(a.unreadable_pelvic_study.when))
        return Finding("DVT-PELVIC-IMAGING", Indicator.WARNING, values, _evidence(a.unreadable_pelvic_study, evidence))
    if a.pregnant:
        order, variant = "mr-venography", "pregnancy"
    elif _combined_mass_study(a):
        order, variant = "ct-venography-with-mass", "combined-with-mass"
    else:
        order, variant = "ct-venography", "ct-venography"
    values["variant"] = variant
    return Finding("DVT-PELVIC-IMAGING", Indicator.WARNING, values, evidence, (CreateOrder(order),))


def dvt_anticoagulate(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> Finding | None:
    """G:8: DVT confirmed: start therapeutic LMWH twice daily at a weight-adjusted dose, now."""
    if not (a.dvt_confirmed or a.acute_pe) or a.treatment_anticoagulated or a.anticoag_contraindications:
        return None
    weight = a.weight_kg.value if a.weight_kg else None
    egfr = a.egfr.value if a.egfr else None
    values: dict[str, object] = {
        "dvt_confirmed": a.dvt_confirmed,
        "acute_pe": a.acute_pe,
        "preliminary": a.dvt_preliminary,
        "weight_kg": weight,
        "egfr": egfr,
        "egfr_unknown": egfr is None,
        "renal_dosing": egfr is not None and egfr < s.egfr_renal_dosing,
        "platelets": a.platelets.value if a.platelets_known and a.platelets else None,
        "platelets_unknown": not a.platelets_known,
        "platelet_caution": a.thrombocytopenia_caution.value if a.thrombocytopenia_caution else None,
        "hit": a.hit is not None,
        "hit_status": a.hit_status,
        "medications_unknown": "medications" in a.unknown,
        "below_treatment": [m.evidence.display or m.ingredient for m in a.anticoagulant_below_treatment],
        "unsuitable": [{"display": u.display, "reason": u.kind} for u in a.unsuitable_anticoagulants],
        "pregnant": a.pregnant,
    }
    proposals: tuple = ()
    if weight is not None and a.hit is None:
        dose_mg, per_day = enoxaparin_regimen(weight, egfr, s)
        if dose_mg > 0:
            values.update(dose_mg=dose_mg, per_day=per_day)
            proposals = (CreateEnoxaparin(dose_mg, per_day),)
        else:  # a weight too small to give a dose is an error in the record, not a dose of 0 mg
            values["weight_implausible"] = True
    evidence = _evidence(
        a.dvt_evidence,
        a.acute_pe_evidence,
        a.weight_kg.evidence if a.weight_kg else None,
        a.egfr.evidence if a.egfr else None,
        a.platelets.evidence if a.platelets else None,
        a.hit,
        [m.evidence for m in a.anticoagulant_below_treatment],
        a.unsuitable_anticoagulants,
        a.pregnancy_evidence,
    )
    return Finding("DVT-ANTICOAGULATE", Indicator.CRITICAL, values, evidence, proposals)


def dvt_ivc_filter_option(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> Finding | None:
    """G:9: consider a vena cava filter only if anticoagulation is contraindicated."""
    proximal_dvt = a.dvt_confirmed and a.dvt_proximal_or_unspecified
    if not (proximal_dvt or a.acute_pe) or not a.anticoag_contraindications:
        return None
    values = {
        "contraindications": [c.display for c in a.anticoag_contraindications],
        "acute_pe": a.acute_pe,
        "preliminary": a.dvt_preliminary,
    }
    evidence = _evidence(a.dvt_evidence, a.acute_pe_evidence, a.anticoag_contraindications)
    return Finding("DVT-IVC-FILTER-OPTION", Indicator.WARNING, values, evidence)


def dvt_thrombolysis_option(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> Finding | None:
    """G:10: thrombolysis only for limb-threatening ischemia with severe hypotension (hemorrhage risk 8 %)."""
    hypotension_ok = a.severe_hypotension or not s.thrombolysis_requires_hypotension
    if not (a.dvt_confirmed and a.limb_threat and hypotension_ok):
        return None
    if a.anticoag_contraindications or a.hemorrhagic_shock:
        return None
    values = {
        "severe_hypotension": a.severe_hypotension,
        "hemorrhage_risk_pct": 8,
        # No recent platelet count is no contraindication, but a count is needed before lysis.
        "platelets_unknown": not a.platelets_known,
    }
    platelets = a.platelets.evidence if a.platelets else None
    evidence = _evidence(a.dvt_evidence, a.limb_threat_evidence, a.hypotension_evidence, platelets)
    return Finding("DVT-THROMBOLYSIS-OPTION", Indicator.CRITICAL, values, evidence)


# -- mass --------------------------------------------------------------------------------------------
def mass_characterize(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> Finding | None:
    """G:24-29: contrast CT or MRI is essential to characterize the mass (tumour, lymphadenopathy,
    abscess, hematoma, disc bulge, iliopsoas bursitis)."""
    mass = a.mass_uncharacterized
    if mass is None:
        return None
    values: dict[str, object] = {
        "mass": mass.evidence.display,
        "mass_date": _date(mass.recorded),
        "lookback_days": s.mass_imaging_lookback_days,
        "pregnant": a.pregnant,
    }
    evidence = _evidence(mass.evidence, a.pregnancy_evidence)
    if _combined_mass_study(a):
        # The DVT-PELVIC-IMAGING card carries the one study for both: never suggest it twice.
        values["variant"] = "combined-with-pelvic-imaging"
        return Finding("MASS-CHARACTERIZE", Indicator.WARNING, values, evidence)
    order = "mri-pelvis" if a.pregnant else "contrast-ct"
    values["variant"] = "pregnancy" if a.pregnant else "contrast-ct"
    return Finding("MASS-CHARACTERIZE", Indicator.WARNING, values, evidence, (CreateOrder(order),))


def mass_extrinsic(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> Finding | None:
    """G:46-49: extrinsic compression: treat the underlying lesion; stent only as a temporizing or
    palliative measure."""
    if a.lesion_axis != EXTRINSIC or a.extrinsic_mass is None:
        return None
    values = {
        "nature": a.extrinsic_mass.kind,
        "nature_display": a.extrinsic_mass.display,
        "symptoms": a.symptoms.value,
    }
    return Finding("MASS-EXTRINSIC", Indicator.WARNING, values, _evidence(a.extrinsic_mass, [m.evidence for m in facts.masses]))


# -- lesion ------------------------------------------------------------------------------------------
def nivl_workup(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> Finding | None:
    """G:11, G:12, G:15, G:19: DVT excluded: the differential is NIVL vs extrinsic compression."""
    if a.dvt_axis != axes.EXCLUDED or a.lesion_axis != UNKNOWN:
        return None
    mass_open = a.mass_uncharacterized is not None or a.mass_imaged_nature_unknown is not None
    values = {
        "left_sided": a.swelling_side == Side.LEFT,
        "mass_on_record": bool(facts.masses),
        "characterize_mass": mass_open,
        "ivus_step": a.ivus_done is None,
        # IVUS done but no diameter stenosis could be read: the lesion stays unknown until it is.
        "ivus_report_step": a.ivus_done is not None and (a.ivus_stenosis is None or a.ivus_stenosis.value is None),
        "ask_severity": a.symptoms == Severity.UNKNOWN,
        "other_causes_found": len(a.other_causes),
    }
    evidence = _evidence(a.dvt_evidence, [sw.evidence for sw in facts.swellings], [m.evidence for m in facts.masses])
    return Finding("NIVL-WORKUP", Indicator.INFO, values, evidence)


def nivl_other_causes(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> Finding | None:
    """G:14: exclude heart, renal and liver disease, hypoproteinemia, medications and lymphedema first."""
    if a.dvt_axis != axes.EXCLUDED or not a.other_causes:
        return None
    causes = [{"kind": c.kind, "display": c.display, "ref": c.ref} for c in a.other_causes]
    values = {"causes": causes, "albumin_low_g_dl": s.albumin_low_g_dl, "protein_low_g_dl": s.protein_low_g_dl}
    return Finding("NIVL-OTHER-CAUSES", Indicator.WARNING, values, a.other_causes)


def nivl_bilateral_edema(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> Finding | None:
    """G:51: bilateral edema is rarely NIVL and suggests a systemic cause."""
    if not a.bilateral_edema:
        return None
    nivl_considered = (
        a.dvt_axis == axes.EXCLUDED
        or a.nivl_diagnosis is not None
        or a.ct_compression is not None
        or bool(facts.ivus_stenosis)
    )
    if not nivl_considered:
        return None
    evidence = _evidence([sw.evidence for sw in facts.swellings], a.nivl_diagnosis)
    return Finding("NIVL-BILATERAL-EDEMA", Indicator.WARNING, {"sides": "both"}, evidence)


def _venography_ivus_proposal(a: Assessment) -> tuple:
    return (CreateOrder("venography-ivus", a.swelling_side),) if _possible_stent_candidate(a) else ()


def nivl_ct_not_diagnostic(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> Finding | None:
    """G:16, G:17, G:22, G:53: CT compression does not predict symptoms; IVUS confirmation is required."""
    if a.ct_compression is None or not a.no_ivus:
        return None
    ct = a.ct_compression
    values = {
        "ct_percent": ct.value,
        "asymptomatic_over_50_pct": 24,
        "asymptomatic_any_pct": 70,
        "candidate": _possible_stent_candidate(a),
    }
    return Finding("NIVL-CT-NOT-DIAGNOSTIC", Indicator.WARNING, values, (ct.evidence,), _venography_ivus_proposal(a))


def nivl_ivus_required(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> Finding | None:
    """G:19, G:20, G:23: venography with IVUS is mandatory before any intervention."""
    if a.nivl_diagnosis is None or not a.no_ivus:
        return None
    if a.dvt_axis not in (axes.EXCLUDED, axes.PELVIC_IMAGING_NEEDED):
        return None
    if a.ct_compression is not None:  # NIVL-CT-NOT-DIAGNOSTIC speaks instead
        return None
    values = {"ivus_more_lesions_pct": 30, "candidate": _possible_stent_candidate(a)}
    return Finding("NIVL-IVUS-REQUIRED", Indicator.WARNING, values, (a.nivl_diagnosis,), _venography_ivus_proposal(a))


def nivl_stent_candidate(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> Finding | None:
    """G:31, G:32, G:35, G:37-40: > 61 % on IVUS, asymmetric edema significantly affecting quality of
    life, other causes excluded: stenting is appropriate; size from the external iliac reference."""
    if a.lesion_axis != NIVL_CONFIRMED or a.stent_axis != NO_STENT or not a.unilateral_swelling:
        return None
    if a.symptoms != Severity.SIGNIFICANT or a.other_causes or not a.other_causes_known:
        return None
    if a.mass_uncharacterized is not None or (facts.masses and "mass-imaging" in a.unknown):
        return None
    if "stents" in a.unknown:  # "no stent yet" needs the procedures to have been read
        return None
    reference = a.eiv_reference.value if a.eiv_reference else None
    values: dict[str, object] = {
        "ivus_percent": a.ivus_stenosis.value if a.ivus_stenosis else None,
        "threshold_pct": s.ivus_stenosis_threshold_pct,
        "reference_mm": reference,
        "min_length_mm": s.min_stent_length_mm,
        "side": a.swelling_side.value,
        # The lesion axis reads an unrecorded behaviour as fixed (docs/decisions.md); the card says so.
        "fixed_recorded": bool(facts.lesion_behavior),
    }
    if reference is not None:
        values.update(diameter_min_mm=reference + s.oversize_min_mm, diameter_max_mm=reference + s.oversize_max_mm)
    imaged = a.mass_imaged_nature_unknown
    if imaged is not None:
        values.update(mass_ref=imaged.mass.evidence.ref, mass_imaged_date=_date(imaged.imaging.when))
    evidence = _evidence(
        a.ivus_stenosis.evidence if a.ivus_stenosis else None,
        a.eiv_reference.evidence if a.eiv_reference else None,
        a.dvt_evidence,
        a.symptom_evidence,
        imaged.mass.evidence if imaged else None,
        imaged.imaging if imaged else None,
    )
    return Finding("NIVL-STENT-CANDIDATE", Indicator.INFO, values, evidence)


def nivl_below_threshold(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> Finding | None:
    """G:21: a diameter stenosis > 61 % on IVUS is the threshold most predictive of success."""
    ivus = a.ivus_stenosis
    if ivus is None or ivus.value is None or ivus.value > s.ivus_stenosis_threshold_pct:
        return None
    values = {"ivus_percent": ivus.value, "threshold_pct": s.ivus_stenosis_threshold_pct}
    return Finding("NIVL-BELOW-THRESHOLD", Indicator.INFO, values, (ivus.evidence,))


def nivl_dynamic_lesion(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> Finding | None:
    """G:41: do not intervene on dynamic lesions; only fixed lesions warrant treatment."""
    if a.lesion_dynamic is None:
        return None
    return Finding("NIVL-DYNAMIC-LESION", Indicator.WARNING, {"behavior": "dynamic"}, (a.lesion_dynamic,))


def nivl_minimal_symptoms(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> Finding | None:
    """G:34: stenting is inappropriate for minimal symptoms or as prophylaxis when asymptomatic."""
    if a.lesion_axis != NIVL_CONFIRMED:
        return None
    if not (a.symptoms == Severity.MINIMAL or a.asymptomatic):
        return None
    values = {"symptoms": "none" if a.asymptomatic else "minimal"}
    evidence = _evidence(a.ivus_stenosis.evidence if a.ivus_stenosis else None, a.symptom_evidence)
    return Finding("NIVL-MINIMAL-SYMPTOMS", Indicator.INFO, values, evidence)


# -- stent -------------------------------------------------------------------------------------------
def surveillance_days(settings: PathwaySettings, beyond_day: float) -> list[int]:
    """The scheduled study days after the stent (30, 182, 365, then yearly), until two lie past `beyond_day`."""
    days = list(settings.stent_followup_schedule_days)
    while len(days) < 2 or days[-2] < beyond_day:
        days.append(days[-1] + settings.stent_followup_yearly_days)
    return days


def next_surveillance_day(settings: PathwaySettings, last_study_day: float | None) -> int:
    """The day after the stent by which the next surveillance study is due (G:45).

    No study since the stent: the first scheduled day. Otherwise the newest study stands for the
    scheduled day nearest to it (a 6-month study done a week late is still the 6-month study; a tie
    goes to the earlier day), and the next study is due on the scheduled day after that one. So one
    late study never stands for two scheduled studies.
    """
    if last_study_day is None:
        return settings.stent_followup_schedule_days[0]
    days = surveillance_days(settings, last_study_day)
    nearest = min(range(len(days)), key=lambda i: (abs(days[i] - last_study_day), i))
    return days[nearest + 1]


def _stent_imaging(facts: ClinicalFacts, placed: datetime) -> Evidence | None:
    """The newest iliac venous imaging after the day of the stent.

    Imaging on the stent's own day (completion venography, intra-procedural IVUS) is part of the
    procedure, not follow-up.
    """
    dated = [i.evidence for i in facts.imaging if i.kind in STENT_IMAGING_KINDS and i.evidence.when]
    dated += [st.evidence for st in facts.pelvic_venography if st.evidence.when]
    after = [e for e in dated if e.when.date() > placed.date()]
    return max(after, key=lambda e: e.when) if after else None


def post_stent_followup(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> Finding | None:
    """G:45: regular imaging follow-up (ultrasound or CT) for migration, stenosis and thrombosis."""
    if a.stent_axis != POST_STENT or a.stent is None or a.stent.placed is None:
        return None
    if "stent-imaging" in a.unknown:  # "no imaging since" needs the imaging data
        return None
    placed = a.stent.placed
    newest = _stent_imaging(facts, placed)
    last_study_day = (newest.when - placed) / timedelta(days=1) if newest else None
    due_day = next_surveillance_day(s, last_study_day)
    if facts.now - placed <= timedelta(days=due_day):  # due *by* that day: overdue once it has passed
        return None
    values = {
        "stent_date": _date(placed),
        "due_day": due_day,
        "last_imaging_date": _date(newest.when) if newest else "",
        "days_since_stent": (facts.now - placed).days,
    }
    return Finding(
        "POST-STENT-FOLLOWUP", Indicator.INFO, values, _evidence(a.stent.evidence, newest), (CreateOrder("iliocaval-duplex"),)
    )


STENT_REASON_CODES = frozenset(
    {
        "http://hl7.org/fhir/sid/icd-10-cm|Z95.820",
        "http://hl7.org/fhir/sid/icd-10-cm|Z95.828",
        "http://hl7.org/fhir/sid/icd-10-cm|I87.1",
        "http://snomed.info/sct|103716009",
        "http://iliac-vein-cds.org/fhir/CodeSystem/findings|venous-stent",
        "http://iliac-vein-cds.org/fhir/CodeSystem/findings|may-thurner",
    }
)
STENT_REASON_WORDS = ("stent", "may-thurner", "may thurner", "iliac", "nivl")


def has_other_reason(reason_codes: tuple[str, ...], reason_text: str) -> bool:
    """A reason on the prescription other than the venous stent (RULES POST-STENT-ANTITHROMBOTIC)."""
    if any(code not in STENT_REASON_CODES for code in reason_codes):
        return True
    text = reason_text.strip().lower()
    return bool(text) and not any(word in text for word in STENT_REASON_WORDS)


def post_stent_antithrombotic(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> Finding | None:
    """G:43, G:44: no consensus supports routine antithrombotic therapy after NIVL stenting without
    prior VTE; high patency without it."""
    if not a.stented_for_nivl or a.other_antithrombotic_indications:
        return None
    for_stent_only = [m for m in a.antithrombotics if not has_other_reason(m.reason_codes, m.reason_text)]
    if not for_stent_only:
        return None
    values = {"medications": [m.evidence.display or m.ingredient for m in for_stent_only]}
    evidence = _evidence(a.stent.evidence if a.stent else None, [m.evidence for m in for_stent_only])
    return Finding("POST-STENT-ANTITHROMBOTIC", Indicator.INFO, values, evidence)


# -- catalogue ---------------------------------------------------------------------------------------
PV = "patient-view"

RULES: tuple[RuleInfo, ...] = (
    RuleInfo(
        "DVT-DUPLEX", PV, "Rule out DVT first: complete duplex of the whole leg",
        "DVT not yet assessed (no valid negative or positive study) in a patient with unilateral swelling or an "
        "iliac / pelvic mass. Names a limited study, an expired or voided negative study, or a duplex whose "
        "result is not coded; otherwise suggests the complete duplex of the swollen side.",
        (3, 4), "warning", ("negative_study_valid_days", "acute_dvt_current_days"),
    ),
    RuleInfo(
        "DVT-PELVIC-IMAGING", PV, "Negative leg ultrasound with a pelvic trigger: image the pelvic veins",
        "A negative duplex with persisting whole-leg swelling after it, a flat / non-phasic or absent common "
        "femoral vein waveform, or an iliac / pelvic mass, and no CT / MR venography of the pelvis since; or a "
        "confirmed DVT with a non-phasic CFV waveform and no pelvic venography since.",
        (5, 6, 54), "warning", ("negative_study_valid_days",),
    ),
    RuleInfo(
        "DVT-ANTICOAGULATE", PV, "DVT confirmed: start therapeutic LMWH twice daily",
        "A confirmed acute DVT (preliminary positives included) or an acute PE, no anticoagulant at treatment "
        "dose and no anticoagulation contraindication. A heparin or LMWH despite HIT, or warfarin / a DOAC in "
        "pregnancy, is not treatment. Suggests enoxaparin 1 mg/kg every 12 h (every 24 h when eGFR < 30) from the "
        "latest weight, rounded half-up to 10 mg; nothing with HIT on record (active, suspected or past).",
        (8,), "critical",
        (
            "acute_dvt_current_days", "enoxaparin_mg_per_kg", "enoxaparin_rounding_mg", "egfr_renal_dosing",
            "weight_window_days", "platelets_renal_window_hours", "platelets_contraindication_10_3_ul",
            "platelets_caution_10_3_ul", "bleeding_window_days", "enoxaparin_treatment_mg_per_kg_bid",
            "enoxaparin_treatment_mg_per_kg_daily", "enoxaparin_treatment_mg_per_kg_daily_renal",
            "dalteparin_treatment_iu_per_kg_bid", "dalteparin_treatment_iu_per_kg_daily", "fondaparinux_treatment_mg",
        ),
    ),
    RuleInfo(
        "DVT-IVC-FILTER-OPTION", PV, "Anticoagulation contraindicated: consider a vena cava filter",
        "A confirmed proximal (or unspecified) DVT or an acute PE, and an anticoagulation contraindication "
        "(recent bleeding, platelets below the limit).",
        (9,), "warning", ("bleeding_window_days", "platelets_contraindication_10_3_ul", "platelets_renal_window_hours"),
    ),
    RuleInfo(
        "DVT-THROMBOLYSIS-OPTION", PV, "Limb-threatening ischemia with severe hypotension: thrombolysis option",
        "A confirmed DVT with limb-threatening venous ischemia (phlegmasia) and severe hypotension, no "
        "anticoagulation contraindication and no hypovolemic / hemorrhagic shock.",
        (10,), "critical",
        (
            "acute_event_window_days", "systolic_low_mm_hg", "hypotension_readings",
            "hypotension_min_interval_minutes", "vital_signs_window_hours", "thrombolysis_requires_hypotension",
        ),
        "hemorrhage risk 8 %",
    ),
    RuleInfo(
        "MASS-CHARACTERIZE", PV, "Characterize the iliac mass with contrast CT or MRI",
        "An iliac / pelvic mass whose nature is not recorded, and no contrast CT or MRI of abdomen / pelvis from "
        "14 days before the mass was recorded onwards.",
        (24, 25, 26, 27, 28, 29), "warning", ("mass_imaging_lookback_days",),
    ),
    RuleInfo(
        "MASS-EXTRINSIC", PV, "Extrinsic compression: treat the underlying lesion",
        "The mass is characterized as a compressive lesion (malignancy, lymphadenopathy, abscess, hematoma, "
        "disc bulge, iliopsoas bursitis, benign tumour, iliac artery aneurysm).",
        (46, 47, 48, 49), "warning",
    ),
    RuleInfo(
        "NIVL-WORKUP", PV, "DVT excluded: work up NIVL vs extrinsic compression",
        "DVT excluded and the lesion not yet classified: next steps are excluding other edema causes, "
        "characterizing the mass and venography with IVUS.",
        (11, 12, 15, 19), "info", (), "85 % of pregnancy-related cases are left-sided",
    ),
    RuleInfo(
        "NIVL-OTHER-CAUSES", PV, "Other causes of edema must be excluded first",
        "DVT excluded and another edema cause recorded: heart failure, advanced renal disease or nephrotic "
        "syndrome, liver cirrhosis or failure, hypoalbuminemia / hypoproteinemia (diagnosis or low lab), an "
        "edema-causing medication, lymphedema.",
        (14,), "warning", ("albumin_low_g_dl", "protein_low_g_dl", "labs_window_days"),
    ),
    RuleInfo(
        "NIVL-BILATERAL-EDEMA", PV, "Bilateral edema is rarely NIVL",
        "Bilateral lower-limb edema while NIVL is being considered (DVT excluded, an iliac vein compression "
        "diagnosis, a CT compression finding, or an IVUS result).",
        (51,), "warning",
    ),
    RuleInfo(
        "NIVL-CT-NOT-DIAGNOSTIC", PV, "CT compression is not a diagnosis: confirm with IVUS",
        "A CT or MR venography compression finding and no IVUS result on record.",
        (16, 17, 22, 53), "warning", (),
        "up to 24 % of asymptomatic people have > 50 % left iliac compression; up to 70 % some compression",
    ),
    RuleInfo(
        "NIVL-IVUS-REQUIRED", PV, "Venography with IVUS is mandatory before any intervention",
        "An iliac vein compression diagnosis, no IVUS result, DVT excluded or pelvic imaging pending, and no CT "
        "compression finding (which NIVL-CT-NOT-DIAGNOSTIC covers).",
        (19, 20, 23), "warning", (), "IVUS finds 30 % more ≥ 50 % lesions than venography alone",
    ),
    RuleInfo(
        "NIVL-STENT-CANDIDATE", PV, "NIVL confirmed: meets the criteria for stenting",
        "IVUS stenosis above the threshold on a fixed lesion with DVT excluded, no stent yet, unilateral edema, "
        "significant symptoms, no other edema cause, any recorded mass imaged with contrast.",
        (31, 32, 35, 37, 38, 39, 40), "info",
        ("ivus_stenosis_threshold_pct", "oversize_min_mm", "oversize_max_mm", "min_stent_length_mm"),
        "stents < 60 mm: 82.6 % of migrations, 16.2 % mortality",
    ),
    RuleInfo(
        "NIVL-BELOW-THRESHOLD", PV, "IVUS stenosis at or below the stenting threshold",
        "An IVUS diameter stenosis at or below the threshold (61 %).",
        (21,), "info", ("ivus_stenosis_threshold_pct",),
    ),
    RuleInfo(
        "NIVL-DYNAMIC-LESION", PV, "Dynamic lesion: do not intervene",
        "A lesion recorded as dynamic (varies with breathing or position).",
        (41,), "warning",
    ),
    RuleInfo(
        "NIVL-MINIMAL-SYMPTOMS", PV, "Minimal symptoms: stenting is inappropriate",
        "NIVL confirmed and symptoms minimal (mild) or none.",
        (34,), "info",
    ),
    RuleInfo(
        "POST-STENT-FOLLOWUP", PV, "Stent surveillance imaging is due",
        "An iliac venous stent whose newest imaging after placement (or the stent date) is older than the "
        "surveillance schedule allows: first study within 30 days, then 6 months, 12 months and yearly. A study "
        "stands for the scheduled day nearest to it; imaging on the stent's own day is part of the procedure.",
        (45,), "info", ("stent_followup_schedule_days", "stent_followup_yearly_days"),
    ),
    RuleInfo(
        "POST-STENT-ANTITHROMBOTIC", PV, "Antithrombotic therapy after NIVL stenting without prior VTE",
        "Stented for NIVL (no VTE ever, no post-thrombotic lesion), a current anticoagulant or antiplatelet and no "
        "other indication for it recorded.",
        (43, 44), "info",
    ),
)

# Pathway order: DVT, mass, lesion, stent (RULES.md: the order of cards within an indicator).
RULE_FUNCTIONS: tuple[tuple[str, Rule], ...] = (
    ("DVT-DUPLEX", dvt_duplex),
    ("DVT-PELVIC-IMAGING", dvt_pelvic_imaging),
    ("DVT-ANTICOAGULATE", dvt_anticoagulate),
    ("DVT-IVC-FILTER-OPTION", dvt_ivc_filter_option),
    ("DVT-THROMBOLYSIS-OPTION", dvt_thrombolysis_option),
    ("MASS-CHARACTERIZE", mass_characterize),
    ("MASS-EXTRINSIC", mass_extrinsic),
    ("NIVL-WORKUP", nivl_workup),
    ("NIVL-OTHER-CAUSES", nivl_other_causes),
    ("NIVL-BILATERAL-EDEMA", nivl_bilateral_edema),
    ("NIVL-CT-NOT-DIAGNOSTIC", nivl_ct_not_diagnostic),
    ("NIVL-IVUS-REQUIRED", nivl_ivus_required),
    ("NIVL-STENT-CANDIDATE", nivl_stent_candidate),
    ("NIVL-BELOW-THRESHOLD", nivl_below_threshold),
    ("NIVL-DYNAMIC-LESION", nivl_dynamic_lesion),
    ("NIVL-MINIMAL-SYMPTOMS", nivl_minimal_symptoms),
    ("POST-STENT-FOLLOWUP", post_stent_followup),
    ("POST-STENT-ANTITHROMBOTIC", post_stent_antithrombotic),
)
PATHWAY_ORDER: dict[str, int] = {rule_id: index for index, (rule_id, _) in enumerate(RULE_FUNCTIONS)}


def evaluate_assessment(
    facts: ClinicalFacts, a: Assessment, settings: PathwaySettings, skip: Collection[str] = ()
) -> list[Finding]:
    """`skip`: rule IDs the site switched off (site_config, mode "off"): not evaluated at all."""
    if not a.in_scope:
        return []
    findings = (rule(facts, a, settings) for rule_id, rule in RULE_FUNCTIONS if rule_id not in skip)
    return [f for f in findings if f is not None]


def evaluate(facts: ClinicalFacts, settings: PathwaySettings, skip: Collection[str] = ()) -> list[Finding]:
    """Every patient-view finding, in pathway order; [] for a patient out of scope (RULES "Scope")."""
    return evaluate_assessment(facts, assess(facts, settings), settings, skip)
