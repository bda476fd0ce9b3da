"""`assess(facts, settings) -> Assessment`: the pathway state and the safety facts, read once.

Pure: facts in, a frozen `Assessment` out. The patient-view rules and the order
rules read the same assessment, so a threshold or a time window (DATA-CONTRACT
"General reading rules", all from `PathwaySettings`) is applied in one place.

Unknown is not false: `Assessment.unknown` names what could not be determined
because the data it is read from was unreadable; a rule that would conclude
"no X" must check it first (e.g. `"ivus" in a.unknown`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cds_service.pathway import axes
from cds_service.pathway.axes import PelvicTrigger, counts, within
from cds_service.pathway.dosing import is_anticoagulant, is_treatment_dose
from cds_service.pathway.facts import (
    ClinicalFacts,
    ConditionFact,
    DrugClass,
    EdemaCauseKind,
    Evidence,
    ImagingKind,
    LesionBehavior,
    MassFact,
    MassNature,
    Measurement,
    Medication,
    ResultStatus,
    Severity,
    Side,
    StentRecord,
    ThrombusResult,
    VenousStudy,
    Verification,
    WaveformFact,
    newest,
)
from cds_service.pathway.settings import PathwaySettings

# Lesion axis values (RULES.md "Lesion axis")
POST_THROMBOTIC = "post-thrombotic"
EXTRINSIC = "extrinsic"
NIVL_CONFIRMED = "nivl-confirmed"
BELOW_THRESHOLD = "below-threshold"
DYNAMIC = "dynamic"
UNKNOWN = "unknown"
# Stent axis values
POST_STENT = "post-stent"
NO_STENT = "none"

COMPRESSIVE_NATURES = frozenset(MassNature) - {MassNature.NON_COMPRESSIVE}
# Contrast imaging that characterizes a mass (DATA-CONTRACT "Imaging done"): never MR venography.
MASS_IMAGING_KINDS = (ImagingKind.CONTRAST_CT_MRI_ABDOMEN_PELVIS, ImagingKind.CT_VENOGRAPHY_PELVIS)
# Imaging that shows an iliac venous stent (G:45: ultrasound or CT).
STENT_IMAGING_KINDS = (
    ImagingKind.ILIOCAVAL_DUPLEX,
    ImagingKind.CT_VENOGRAPHY_PELVIS,
    ImagingKind.MR_VENOGRAPHY_PELVIS,
    ImagingKind.CONTRAST_CT_MRI_ABDOMEN_PELVIS,
    ImagingKind.IVUS,
)
IMAGING_TYPES = ("ImagingStudy", "DiagnosticReport", "Procedure")
IVUS_TYPES = ("Observation", "DiagnosticReport", "Procedure", "ImagingStudy")
MEDICATION_TYPES = ("MedicationRequest", "MedicationStatement")
IV_ROUTE_CODES = ("iv", "47625008")  # SNOMED 47625008 intravenous route
IV_ONLY_PRESSORS = frozenset({"norepinephrine", "vasopressin", "dopamine"})
# Anticoagulants that cannot treat this patient's DVT whatever their dose (see _unsuitable_reason).
HEPARINS = frozenset({"heparin", "enoxaparin", "dalteparin", "tinzaparin"})
NOT_IN_PREGNANCY = frozenset({"warfarin", "apixaban", "rivaroxaban", "dabigatran", "edoxaban"})
HIT_REASON = "heparin-induced thrombocytopenia"
PREGNANCY_REASON = "pregnancy"


@dataclass(frozen=True)
class KindedEvidence(Evidence):
    """Evidence with the kind of fact it is (an edema cause kind, a contraindication kind...)."""

    kind: str = ""


@dataclass(frozen=True)
class MassImaged:
    """A mass imaged with contrast whose nature is still not recorded (NIVL-STENT-CANDIDATE)."""

    mass: MassFact
    imaging: Evidence


@dataclass(frozen=True)
class Assessment:
    in_scope: bool
    scope_reasons: tuple[str, ...]
    # DVT axis
    dvt_axis: str  # "confirmed" | "pelvic-imaging-needed" | "excluded" | "unassessed"
    dvt: axes.DvtAxis  # every detail of the DVT axis
    dvt_evidence: tuple[Evidence, ...]  # the deciding diagnosis / studies
    dvt_preliminary: bool
    dvt_proximal_or_unspecified: bool
    pelvic_triggers: tuple[PelvicTrigger, ...]
    limited_study: VenousStudy | None
    unreadable_study: Evidence | None
    unreadable_pelvic_study: Evidence | None
    cfv_abnormal: WaveformFact | None
    acute_pe: bool
    acute_pe_evidence: tuple[Evidence, ...]
    # lesion axis
    lesion_axis: str
    post_thrombotic: tuple[Evidence, ...]
    extrinsic_mass: KindedEvidence | None  # the nature that makes the lesion extrinsic (kind = MassNature)
    ivus_stenosis: Measurement | None
    ivus_known: bool
    ivus_done: Evidence | None  # any IVUS evidence (a measurement or the procedure)
    eiv_reference: Measurement | None
    lesion_dynamic: Evidence | None
    nivl_diagnosis: Evidence | None
    ct_compression: Measurement | None
    mass_uncharacterized: MassFact | None
    mass_imaged_nature_unknown: MassImaged | None
    # stent axis
    stent_axis: str
    stent: StentRecord | None
    stented_for_nivl: bool
    # presentation
    swelling_side: Side
    bilateral_edema: bool
    symptoms: Severity
    symptom_evidence: tuple[Evidence, ...]
    asymptomatic: bool
    other_causes: tuple[KindedEvidence, ...]
    # safety and dosing
    anticoag_contraindications: tuple[KindedEvidence, ...]
    hit: Evidence | None
    thrombocytopenia_caution: Measurement | None
    platelets: Measurement | None
    platelets_known: bool
    pregnant: bool
    pregnancy_evidence: Evidence | None
    weight_kg: Measurement | None
    egfr: Measurement | None
    treatment_anticoagulated: bool
    treatment_anticoagulants: tuple[Medication, ...]  # at treatment dose and fit for this patient
    anticoagulant_below_treatment: tuple[Medication, ...]
    antithrombotics: tuple[Medication, ...]  # current anticoagulants and antiplatelets
    limb_threat: bool
    limb_threat_evidence: tuple[Evidence, ...]
    severe_hypotension: bool
    hypotension_evidence: tuple[Evidence, ...]
    hemorrhagic_shock: bool
    other_antithrombotic_indications: tuple[Evidence, ...]
    other_thrombolysis_indications: tuple[Evidence, ...]
    # what could not be determined: "dvt-studies", "imaging", "ivus", "medications",
    # "other-causes", "mass-imaging", "stent-imaging", "platelets", "egfr", "weight", "vitals", "stents"
    unknown: frozenset[str]
    # How the heparin-induced thrombocytopenia in `hit` is recorded: "active", "suspected" (provisional,
    # differential) or "history" (inactive); "" when none. Any of them rules out heparin (see _hit).
    hit_status: str = ""
    # Current anticoagulants that cannot treat this patient's DVT at any dose (kind = the reason: HIT_REASON
    # for a heparin or LMWH, PREGNANCY_REASON for warfarin or a DOAC). They never count as treatment.
    unsuitable_anticoagulants: tuple[KindedEvidence, ...] = ()

    @property
    def dvt_confirmed(self) -> bool:
        return self.dvt_axis == axes.CONFIRMED

    @property
    def anticoagulation_contraindicated(self) -> bool:
        return bool(self.anticoag_contraindications)

    @property
    def other_causes_known(self) -> bool:
        return "other-causes" not in self.unknown

    @property
    def unilateral_swelling(self) -> bool:
        return self.swelling_side in (Side.LEFT, Side.RIGHT)

    @property
    def no_ivus(self) -> bool:
        """No IVUS on record, and the IVUS data was read: only then may a rule say so."""
        return self.ivus_known and self.ivus_done is None


# -- small readers -------------------------------------------------------------------------------
def _current(conditions: list[ConditionFact], now: datetime, window: timedelta | None = None) -> list[ConditionFact]:
    return [c for c in conditions if counts(c) and (window is None or within(c.evidence.when, now, window))]


def _confirmed_ever(conditions) -> list:
    """Recorded at any time (active or history), never provisional."""
    return [c for c in conditions if c.verification == Verification.CONFIRMED]


def _newest_in_window(measurements: list[Measurement], now: datetime, window: timedelta) -> Measurement | None:
    return newest([m for m in measurements if m.evidence.when is not None and now - m.evidence.when <= window])


def swelling_side(facts: ClinicalFacts) -> Side:
    """Left and right together are bilateral; an unsided swelling adds nothing to a sided one."""
    sides = {sw.side for sw in facts.swellings}
    if Side.BOTH in sides or {Side.LEFT, Side.RIGHT} <= sides:
        return Side.BOTH
    for side in (Side.LEFT, Side.RIGHT):
        if side in sides:
            return side
    return Side.UNKNOWN


def _symptoms(facts: ClinicalFacts) -> tuple[Severity, tuple[Evidence, ...]]:
    """Severity of the newest swelling; scrotal / penile edema or venous skin changes are significant (G:35)."""
    significant = [c.evidence for c in facts.genital_edema + facts.skin_changes if counts(c)]
    if significant:
        return Severity.SIGNIFICANT, tuple(significant)
    latest = newest(facts.swellings, when=lambda sw: sw.recorded)
    if latest is None:
        return Severity.UNKNOWN, ()
    return latest.severity, (latest.evidence,)


# -- lesion ----------------------------------------------------------------------------------------
def _post_thrombotic(facts: ClinicalFacts) -> tuple[Evidence, ...]:
    chronic = [d.evidence for d in _confirmed_ever(facts.dvt_diagnoses) if d.chronic]
    studies = facts.duplex_results + facts.pelvic_venography
    chronic += [st.evidence for st in studies if st.result == ThrombusResult.CHRONIC]
    return tuple(chronic)


def _mass_nature(facts: ClinicalFacts) -> KindedEvidence | None:
    """A compressive nature: linked to a mass, or a site-specific nature diagnosis (G:25-29, G:46)."""
    for mass in facts.masses:
        if mass.nature in COMPRESSIVE_NATURES:
            source = mass.nature_evidence or mass.evidence
            return KindedEvidence(source.ref, source.display, source.when, kind=mass.nature.value)
    for nature in _current(facts.mass_natures, facts.now):
        if nature.kind in {n.value for n in COMPRESSIVE_NATURES}:
            e = nature.evidence
            return KindedEvidence(e.ref, e.display, e.when, kind=nature.kind)
    return None


def _nature_recorded(mass: MassFact, facts: ClinicalFacts) -> bool:
    return mass.nature is not None or bool(_current(facts.mass_natures, facts.now))


def _pregnancy(facts: ClinicalFacts) -> ConditionFact | None:
    return newest([c for c in facts.pregnancy if counts(c)])


def _mass_imaging(facts: ClinicalFacts) -> list[Evidence]:
    """Contrast CT / MRI and CT venography; in pregnancy also MRI pelvis without contrast (CPT 72195, R2).

    RULES MASS-CHARACTERIZE, STENT-MASS-NOT-CHARACTERIZED and NIVL-STENT-CANDIDATE ("mass imaged") all read
    the outcome (`Assessment.mass_uncharacterized`, `mass_imaged_nature_unknown`), so they agree.
    """
    kinds = MASS_IMAGING_KINDS + ((ImagingKind.MASS_STUDY_IN_PREGNANCY,) if _pregnancy(facts) else ())
    done = [i.evidence for i in facts.imaging if i.kind in kinds]
    done += [st.evidence for st in facts.pelvic_venography if st.method == "ct-venography"]
    return done


def _mass_imaged(mass: MassFact, imaging: list[Evidence], settings: PathwaySettings) -> Evidence | None:
    """Contrast CT / MRI from 14 days before the mass was recorded onwards (undated: counts)."""
    if mass.recorded is None:
        return imaging[0] if imaging else None
    start = mass.recorded - timedelta(days=settings.mass_imaging_lookback_days)
    fitting = [e for e in imaging if e.when is None or e.when >= start]
    return newest(fitting, when=lambda e: e.when)


def _lesion_behavior(facts: ClinicalFacts) -> tuple[Evidence, LesionBehavior] | None:
    return newest(facts.lesion_behavior, when=lambda pair: pair[0].when)


def _ivus(facts: ClinicalFacts) -> Measurement | None:
    final = [m for m in facts.ivus_stenosis if m.status == ResultStatus.FINAL]
    return newest(final)


def _lesion_axis(
    dvt_axis: str,
    extrinsic: KindedEvidence | None,
    post_thrombotic: tuple[Evidence, ...],
    ivus: Measurement | None,
    dynamic: Evidence | None,
    settings: PathwaySettings,
) -> str:
    # Extrinsic before post-thrombotic: a compressing mass must be treated whatever the venous history
    # (docs/decisions.md, "The clinical pathway").
    if extrinsic is not None:
        return EXTRINSIC
    if post_thrombotic:
        return POST_THROMBOTIC
    if dynamic is not None:
        return DYNAMIC
    if ivus is not None and ivus.value is not None:
        if ivus.value <= settings.ivus_stenosis_threshold_pct:
            return BELOW_THRESHOLD
        if dvt_axis == axes.EXCLUDED:
            return NIVL_CONFIRMED
    return UNKNOWN


# -- other causes of edema (G:14) ----------------------------------------------------------------
def _low_lab(measurements, threshold: float, now: datetime, window: timedelta, label: str):
    """(cause or None, unknown?) from the latest lab in the window."""
    latest = _newest_in_window(measurements, now, window)
    if latest is None:
        return None, False
    if latest.value is None:
        return None, True
    if latest.value < threshold:
        e = latest.evidence
        display = f"{label} {latest.value:g} {latest.unit}"
        return KindedEvidence(e.ref, display, e.when, kind=EdemaCauseKind.HYPOALBUMINEMIA.value), False
    return None, False


def _other_causes(facts: ClinicalFacts, settings: PathwaySettings) -> tuple[tuple[KindedEvidence, ...], bool]:
    causes = [
        KindedEvidence(c.evidence.ref, c.evidence.display, c.evidence.when, kind=c.kind)
        for c in _current(facts.edema_causes, facts.now)
    ]
    labs = timedelta(days=settings.labs_window_days)
    albumin, albumin_unknown = _low_lab(facts.albumin, settings.albumin_low_g_dl, facts.now, labs, "Albumin")
    protein, protein_unknown = _low_lab(facts.total_protein, settings.protein_low_g_dl, facts.now, labs, "Total protein")
    causes += [c for c in (albumin, protein) if c is not None]
    causes += [
        KindedEvidence(m.evidence.ref, m.evidence.display, m.evidence.when, kind=EdemaCauseKind.MEDICATION.value)
        for m in facts.medications
        if m.drug_class == DrugClass.EDEMA_CAUSING
    ]
    unknown = (
        albumin_unknown
        or protein_unknown
        or not facts.known("Condition", "Observation")
        or not facts.known(*MEDICATION_TYPES)
    )
    return tuple(causes), unknown


# -- safety --------------------------------------------------------------------------------------
def _platelets(facts: ClinicalFacts, settings: PathwaySettings) -> Measurement | None:
    return _newest_in_window(facts.platelets, facts.now, timedelta(hours=settings.platelets_renal_window_hours))


def _contraindications(facts: ClinicalFacts, settings: PathwaySettings, platelets: Measurement | None):
    bleeding = _current(facts.bleeding, facts.now, timedelta(days=settings.bleeding_window_days))
    found = [KindedEvidence(c.evidence.ref, c.evidence.display, c.evidence.when, kind=c.kind or "bleeding") for c in bleeding]
    if platelets is not None and platelets.value is not None and platelets.value < settings.platelets_contraindication_10_3_ul:
        e = platelets.evidence
        found.append(KindedEvidence(e.ref, f"Platelets {platelets.value:g} ×10³/µL", e.when, kind="thrombocytopenia"))
    return tuple(found)


def _caution(platelets: Measurement | None, settings: PathwaySettings) -> Measurement | None:
    if platelets is None or platelets.value is None:
        return None
    low, high = settings.platelets_contraindication_10_3_ul, settings.platelets_caution_10_3_ul
    return platelets if low <= platelets.value <= high else None


def _low_systolic_series(readings: list[Measurement], settings: PathwaySettings) -> tuple[Evidence, ...]:
    """Enough low readings, each at least the interval after the one counted before it."""
    low = sorted(
        ((m.evidence.when, m) for m in readings
         if m.value is not None and m.value < settings.systolic_low_mm_hg and m.evidence.when is not None),
        key=lambda pair: pair[0],
    )
    gap = timedelta(minutes=settings.hypotension_min_interval_minutes)
    chosen: list[tuple[datetime, Measurement]] = []
    for when, reading in low:
        if not chosen or when - chosen[-1][0] >= gap:
            chosen.append((when, reading))
    if len(chosen) >= settings.hypotension_readings:
        return tuple(m.evidence for _, m in chosen)
    return ()


def _systemic(pressor: Medication) -> bool:
    """A vasopressor given for blood pressure: intravenous, or a drug that has no other route.

    Vasopressors are matched by name, so an epinephrine auto-injector or a local anaesthetic with
    epinephrine must not read as shock.
    """
    if pressor.is_infusion or "intravenous" in pressor.route or pressor.route in IV_ROUTE_CODES:
        return True
    return not pressor.route and pressor.ingredient.lower() in IV_ONLY_PRESSORS


def _severe_hypotension(facts: ClinicalFacts, settings: PathwaySettings) -> tuple[Evidence, ...]:
    """Shock diagnosis, or 2 systolic readings < 90 mm[Hg] >= 15 min apart, or a vasopressor (G:10)."""
    shock = [c.evidence for c in _current(facts.shock, facts.now, timedelta(days=settings.acute_event_window_days))]
    vitals_window = timedelta(hours=settings.vital_signs_window_hours)
    recent = [m for m in facts.systolic_bp if m.evidence.when is not None and facts.now - m.evidence.when <= vitals_window]
    readings = _low_systolic_series(recent, settings)
    pressors = [m.evidence for m in facts.medications if m.drug_class == DrugClass.VASOPRESSOR and _systemic(m)]
    return tuple(shock) + readings + tuple(pressors)


def _long_term_anticoagulant(facts: ClinicalFacts) -> list[Medication]:
    """Z79.01: anticoagulated at an unknown dose (DATA-CONTRACT "Medications")."""
    return [
        Medication(evidence=e, drug_class=DrugClass.ANTICOAGULANT, ingredient="anticoagulant (long-term use, dose unknown)")
        for e in facts.long_term_anticoagulant
    ]


def _hit(facts: ClinicalFacts) -> tuple[ConditionFact | None, str]:
    """Heparin-induced thrombocytopenia on record, however it is recorded: (the fact, its status).

    Unknown is not false: a suspected (provisional / differential) HIT is not "no HIT", and a past HIT
    still rules out heparin re-exposure for treating a DVT. So any of them stops the service from
    suggesting enoxaparin (RULES DVT-ANTICOAGULATE; docs/decisions.md "Clinical audit: patient-view").
    """
    for status, found in (
        ("active", [c for c in facts.hit if counts(c)]),
        ("suspected", [c for c in facts.hit if c.active and c.verification == Verification.PROVISIONAL]),
        ("history", _confirmed_ever([c for c in facts.hit if not c.active])),
    ):
        if found:
            return newest(found), status
    return None, ""


def _plausible_weight(measurement: Measurement) -> bool:
    """A body weight that can dose a drug: a finite number above zero (0 kg is a data-entry error)."""
    return measurement.value is not None and math.isfinite(measurement.value) and measurement.value > 0


def _unsuitable_reason(medication: Medication, hit: bool, pregnant: bool) -> str:
    """Why a current anticoagulant cannot treat this DVT at any dose, or "" when it can.

    RULES.md is silent here; a heparin given despite HIT, or warfarin / a DOAC in pregnancy (the
    guideline's drug is LMWH, G:8; RULES cross-cutting: pregnancy makes warfarin and DOACs a warning),
    is no treatment the card may stay silent about (docs/decisions.md "Clinical audit: patient-view").
    """
    ingredient = medication.ingredient.lower()
    if hit and (medication.drug_class == DrugClass.LMWH or ingredient in HEPARINS):
        return HIT_REASON
    if pregnant and ingredient in NOT_IN_PREGNANCY:
        return PREGNANCY_REASON
    return ""


def _anticoagulation(facts, settings, weight: Measurement | None, egfr: Measurement | None, hit: bool, pregnant: bool):
    """(at treatment dose and suitable, below treatment or dose unknown, unsuitable with the reason)."""
    weight_value = weight.value if weight else None
    egfr_value = egfr.value if egfr else None
    anticoagulants = [m for m in facts.medications if is_anticoagulant(m)]
    unsuitable = tuple(
        KindedEvidence(m.evidence.ref, m.evidence.display or m.ingredient, m.evidence.when, kind=reason)
        for m in anticoagulants
        if (reason := _unsuitable_reason(m, hit, pregnant))
    )
    suitable = [m for m in anticoagulants if not _unsuitable_reason(m, hit, pregnant)]
    treating = tuple(m for m in suitable if is_treatment_dose(m, weight_value, egfr_value, settings) is True)
    below = tuple(m for m in suitable if m not in treating) + tuple(_long_term_anticoagulant(facts))
    return treating, below, unsuitable


def _other_thrombolysis(facts: ClinicalFacts, settings: PathwaySettings, pe, hypotension) -> tuple[Evidence, ...]:
    """Stroke, MI, arterial limb ischemia (7 days), and an acute PE with shock or hypotension.

    Extraction adds a PE only when a shock diagnosis is recorded; hypotension from blood pressure
    readings or a vasopressor is known only here.
    """
    window = timedelta(days=settings.acute_event_window_days)
    found = [c.evidence for c in _current(facts.other_thrombolysis_indications, facts.now, window)]
    if hypotension:
        found += [e for e in pe if e not in found]
    return tuple(found)


def _stent(facts: ClinicalFacts) -> StentRecord | None:
    return newest(facts.stents, when=lambda st: st.placed)


def _vte_ever(facts: ClinicalFacts) -> bool:
    return bool(
        _confirmed_ever(facts.dvt_diagnoses)
        or _confirmed_ever(facts.pe_diagnoses)
        or _confirmed_ever(facts.vte_history)
        or any(st.result == ThrombusResult.PRESENT for st in facts.duplex_results + facts.pelvic_venography)
    )


def _scope(facts: ClinicalFacts, side: Side, dvt_axis: str, nivl: Evidence | None, stent) -> tuple[str, ...]:
    """RULES.md "Scope": the reasons this patient is in scope (empty: the service stays silent)."""
    reasons = []
    if side in (Side.LEFT, Side.RIGHT):
        reasons.append("unilateral lower-limb swelling")
    if facts.swellings and (facts.masses or nivl or stent):
        reasons.append("lower-limb swelling with an iliac mass, compression or stent")
    if nivl is not None:
        reasons.append("iliac vein compression diagnosis")
    if stent is not None:
        reasons.append("iliac venous stent")
    if dvt_axis == axes.CONFIRMED:
        reasons.append("confirmed acute lower-limb DVT")
    return tuple(reasons)


def _unknown(facts: ClinicalFacts, other_causes_unknown: bool, platelets, egfr, weight) -> frozenset[str]:
    unknown = set()
    if not facts.known("Observation", "DiagnosticReport"):
        unknown.add("dvt-studies")
    if not facts.known(*IMAGING_TYPES):
        unknown.update({"imaging", "mass-imaging", "stent-imaging"})
    if not facts.known(*IVUS_TYPES):
        unknown.add("ivus")
    if not facts.known(*MEDICATION_TYPES):
        unknown.add("medications")
    if other_causes_unknown:
        unknown.add("other-causes")
    if platelets is None or platelets.value is None:
        unknown.add("platelets")
    if egfr is None or egfr.value is None:
        unknown.add("egfr")
    if weight is None:
        unknown.add("weight")
    if not facts.known("Observation"):
        unknown.add("vitals")
    if not facts.known("Procedure", "Condition"):
        unknown.add("stents")  # stents are read from Procedures and stent-status Conditions
    return frozenset(unknown)


def _mass_state(facts: ClinicalFacts, settings: PathwaySettings):
    """(uncharacterized and not imaged, imaged but nature unknown, imaging unknown)."""
    imaging = _mass_imaging(facts)
    # A mass-nature or a CT-venography Observation may characterize the mass: it must have been read too.
    imaging_known = facts.known("Observation", *IMAGING_TYPES)
    uncharacterized = None
    imaged_unknown = None
    for mass in sorted(facts.masses, key=lambda m: m.recorded or facts.now, reverse=True):
        if _nature_recorded(mass, facts):
            continue
        imaged = _mass_imaged(mass, imaging, settings)
        if imaged is not None:
            imaged_unknown = imaged_unknown or MassImaged(mass, imaged)
        elif imaging_known:
            uncharacterized = uncharacterized or mass
    return uncharacterized, imaged_unknown


def _dvt_fields(facts: ClinicalFacts, settings: PathwaySettings, dvt: axes.DvtAxis) -> dict[str, Any]:
    """The DVT axis, acute PE and the thrombolysis facts."""
    acute_window = timedelta(days=settings.acute_event_window_days)
    pe = [c.evidence for c in _current(facts.pe_diagnoses, facts.now, timedelta(days=settings.acute_dvt_current_days))]
    limb_threat = [c.evidence for c in _current(facts.phlegmasia, facts.now, acute_window)]
    hypotension = _severe_hypotension(facts, settings)
    return dict(
        dvt_axis=dvt.value,
        dvt=dvt,
        dvt_evidence=dvt.deciding,
        dvt_preliminary=dvt.preliminary,
        dvt_proximal_or_unspecified=dvt.proximal_or_unspecified,
        pelvic_triggers=dvt.triggers,
        limited_study=dvt.limited_study,
        unreadable_study=dvt.unreadable_study,
        unreadable_pelvic_study=dvt.unreadable_pelvic_study,
        cfv_abnormal=dvt.abnormal_waveform,
        acute_pe=bool(pe),
        acute_pe_evidence=tuple(pe),
        limb_threat=bool(limb_threat),
        limb_threat_evidence=tuple(limb_threat),
        severe_hypotension=bool(hypotension),
        hypotension_evidence=hypotension,
        hemorrhagic_shock=bool(_current(facts.hemorrhagic_shock, facts.now, acute_window)),
        other_thrombolysis_indications=_other_thrombolysis(facts, settings, pe, hypotension),
    )


def _lesion_fields(facts: ClinicalFacts, settings: PathwaySettings, dvt_axis: str) -> dict[str, Any]:
    """The lesion axis, the mass, the stent axis and the symptoms."""
    behavior = _lesion_behavior(facts)
    dynamic = behavior[0] if behavior and behavior[1] == LesionBehavior.DYNAMIC else None
    ivus = _ivus(facts)
    ivus_evidence = [m.evidence for m in facts.ivus_stenosis + facts.eiv_reference_diameter]
    ivus_evidence += [i.evidence for i in facts.imaging if i.kind == ImagingKind.IVUS]
    extrinsic = _mass_nature(facts)
    post_thrombotic = _post_thrombotic(facts)
    uncharacterized, imaged_unknown = _mass_state(facts, settings)
    nivl = newest([c for c in facts.nivl_diagnoses if counts(c)])
    stent = _stent(facts)
    symptoms, symptom_evidence = _symptoms(facts)
    return dict(
        lesion_axis=_lesion_axis(dvt_axis, extrinsic, post_thrombotic, ivus, dynamic, settings),
        post_thrombotic=post_thrombotic,
        extrinsic_mass=extrinsic,
        ivus_stenosis=ivus,
        ivus_known=facts.known(*IVUS_TYPES),
        ivus_done=newest(ivus_evidence, when=lambda e: e.when),
        eiv_reference=newest([m for m in facts.eiv_reference_diameter if m.status == ResultStatus.FINAL]),
        lesion_dynamic=dynamic,
        nivl_diagnosis=nivl.evidence if nivl else None,
        ct_compression=newest(facts.ct_compression),
        mass_uncharacterized=uncharacterized,
        mass_imaged_nature_unknown=imaged_unknown,
        stent_axis=POST_STENT if stent else NO_STENT,
        stent=stent,
        stented_for_nivl=bool(stent) and facts.known("Condition", "Observation", "DiagnosticReport")
        and not _vte_ever(facts) and not post_thrombotic,
        symptoms=symptoms,
        symptom_evidence=symptom_evidence,
        asymptomatic=not facts.swellings and not symptom_evidence and facts.known("Condition"),
    )


def _safety_fields(facts: ClinicalFacts, settings: PathwaySettings) -> dict[str, Any]:
    """Anticoagulation: contraindications, HIT, pregnancy, weight and renal function, current drugs; what is unknown."""
    platelets = _platelets(facts, settings)
    hit, hit_status = _hit(facts)
    pregnancy = _pregnancy(facts)
    weight = _newest_in_window(
        [m for m in facts.weight if _plausible_weight(m)], facts.now, timedelta(days=settings.weight_window_days)
    )
    egfr = _newest_in_window(facts.egfr, facts.now, timedelta(hours=settings.platelets_renal_window_hours))
    treating, below, unsuitable = _anticoagulation(facts, settings, weight, egfr, hit is not None, pregnancy is not None)
    other_causes, other_causes_unknown = _other_causes(facts, settings)
    return dict(
        other_causes=other_causes,
        anticoag_contraindications=_contraindications(facts, settings, platelets),
        hit=hit.evidence if hit else None,
        hit_status=hit_status,
        thrombocytopenia_caution=_caution(platelets, settings),
        platelets=platelets,
        platelets_known=platelets is not None and platelets.value is not None,
        pregnant=pregnancy is not None,
        pregnancy_evidence=pregnancy.evidence if pregnancy else None,
        weight_kg=weight,
        egfr=egfr if egfr is not None and egfr.value is not None else None,
        treatment_anticoagulated=bool(treating),
        treatment_anticoagulants=treating,
        anticoagulant_below_treatment=below,
        unsuitable_anticoagulants=unsuitable,
        antithrombotics=tuple(m for m in facts.medications if is_anticoagulant(m) or m.drug_class == DrugClass.ANTIPLATELET),
        other_antithrombotic_indications=tuple(c.evidence for c in _confirmed_ever(facts.other_antithrombotic_indications)),
        unknown=_unknown(facts, other_causes_unknown, platelets, egfr, weight),
    )


def assess(facts: ClinicalFacts, settings: PathwaySettings) -> Assessment:
    """Scope, the three axes (DVT, lesion, stent) and the safety facts, every window and threshold applied."""
    side = swelling_side(facts)
    dvt = axes.read_dvt_axis(facts, settings, side)
    lesion = _lesion_fields(facts, settings, dvt.value)
    scope = _scope(facts, side, dvt.value, lesion["nivl_diagnosis"], lesion["stent"])
    return Assessment(
        in_scope=bool(scope),
        scope_reasons=scope,
        swelling_side=side,
        bilateral_edema=side == Side.BOTH,
        **_dvt_fields(facts, settings, dvt),
        **lesion,
        **_safety_fields(facts, settings),
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
