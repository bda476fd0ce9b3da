"""DVT-ANTICOAGULATE (G:8): DVT confirmed: start therapeutic LMWH twice daily at a weight-adjusted dose, now.

A heparin or LMWH despite HIT, or warfarin / a DOAC in pregnancy, is not treatment. The suggested
enoxaparin dose comes from the latest weight (`pathway.dosing`); nothing is suggested with HIT on record.
"""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway.assessment import HIT_REASON, PREGNANCY_REASON, Assessment
from cds_service.pathway.dosing import enoxaparin_regimen
from cds_service.pathway.facts import ClinicalFacts
from cds_service.pathway.findings import CreateEnoxaparin, Finding, Indicator, evidence_of
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import PATIENT_VIEW, Rule, num


@dataclass(frozen=True)
class Unsuitable:
    """A current anticoagulant that does not count as treatment, and why (HIT_REASON, PREGNANCY_REASON)."""

    display: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class DvtAnticoagulate(Finding):
    dvt_confirmed: bool
    acute_pe: bool
    preliminary: bool
    weight_kg: float | None
    egfr: float | None
    egfr_unknown: bool
    renal_dosing: bool
    platelets: float | None
    platelets_unknown: bool
    platelet_caution: float | None  # a count in the caution band
    hit: bool
    hit_status: str
    medications_unknown: bool
    below_treatment: tuple[str, ...]  # current anticoagulants at a prophylactic or unknown dose
    unsuitable: tuple[Unsuitable, ...]
    pregnant: bool
    dose_mg: int | None = None  # the suggested enoxaparin dose
    per_day: int | None = None
    weight_implausible: bool = False  # a weight too small to give a dose


def _dose(a: Assessment, s: PathwaySettings) -> dict[str, object]:
    """The suggested regimen, or why there is none."""
    weight = a.weight_kg.value if a.weight_kg else None
    if weight is None or a.hit is not None:
        return {}
    dose_mg, per_day = enoxaparin_regimen(weight, a.egfr.value if a.egfr else None, s)
    if dose_mg > 0:
        return {"dose_mg": dose_mg, "per_day": per_day, "proposals": (CreateEnoxaparin(dose_mg, per_day),)}
    return {"weight_implausible": True}  # an error in the record, not a dose of 0 mg


def _facts_used(a: Assessment) -> tuple:
    return evidence_of(
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


def evaluate(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> DvtAnticoagulate | None:
    if not (a.dvt_confirmed or a.acute_pe) or a.treatment_anticoagulated or a.anticoag_contraindications:
        return None
    egfr = a.egfr.value if a.egfr else None
    return DvtAnticoagulate(
        indicator=Indicator.CRITICAL,
        evidence=_facts_used(a),
        dvt_confirmed=a.dvt_confirmed,
        acute_pe=a.acute_pe,
        preliminary=a.dvt_preliminary,
        weight_kg=a.weight_kg.value if a.weight_kg else None,
        egfr=egfr,
        egfr_unknown=egfr is None,
        renal_dosing=egfr is not None and egfr < s.egfr_renal_dosing,
        platelets=a.platelets.value if a.platelets_known and a.platelets else None,
        platelets_unknown=not a.platelets_known,
        platelet_caution=a.thrombocytopenia_caution.value if a.thrombocytopenia_caution else None,
        hit=a.hit is not None,
        hit_status=a.hit_status,
        medications_unknown="medications" in a.unknown,
        below_treatment=tuple(m.evidence.display or m.ingredient for m in a.anticoagulant_below_treatment),
        unsuitable=tuple(Unsuitable(u.display, u.kind) for u in a.unsuitable_anticoagulants),
        pregnant=a.pregnant,
        **_dose(a, s),  # type: ignore[arg-type]
    )


HIT_WORDS = {"active": "HIT", "suspected": "suspected HIT", "history": "a history of HIT"}
UNSUITABLE_TEXT = {
    HIT_REASON: "heparin-induced thrombocytopenia is recorded, stop heparin and LMWH; it does not count as treatment",
    PREGNANCY_REASON: "pregnancy is recorded, warfarin and DOACs are not used to treat DVT in pregnancy: switch to LMWH",
}


def _interval(f: DvtAnticoagulate) -> str:
    return "every 12 h" if f.per_day == 2 else "every 24 h"


def _dose_line(f: DvtAnticoagulate, s: PathwaySettings) -> str:
    if f.dose_mg is not None:
        return (
            f"Dose: enoxaparin {num(s.enoxaparin_mg_per_kg)} mg/kg × {num(round(f.weight_kg or 0, 1))} kg (latest "
            f"weight) = {f.dose_mg} mg subcutaneously {_interval(f)} (rounded to the nearest {num(s.enoxaparin_rounding_mg)} mg)."
        )
    if f.weight_implausible:
        return f"The latest weight ({num(f.weight_kg)} kg) gives no dose: check and record the weight. No dose is suggested."
    return (
        f"No usable body weight in the last {s.weight_window_days} days: no dose is suggested. Record a weight "
        "to compute the weight-adjusted dose."
    )


def _summary(f: DvtAnticoagulate, what: str, hit: str) -> str:
    if f.hit:
        return f"{what} with {hit}: start a non-heparin anticoagulant now"
    if f.dose_mg is not None and any(d.reason == PREGNANCY_REASON for d in f.unsuitable):
        return f"{what} in pregnancy: switch to enoxaparin {f.dose_mg} mg SC {_interval(f)} now"
    if f.dose_mg is not None:
        return f"{what}: start enoxaparin {f.dose_mg} mg SC {_interval(f)} now"
    return f"{what}: start therapeutic LMWH now; record a weight for the dose"


def _cautions(f: DvtAnticoagulate, s: PathwaySettings) -> list[str]:
    lines = []
    if f.egfr_unknown:
        lines.append("Renal function is unknown (no recent eGFR): check it before the second dose.")
    if f.below_treatment:
        lines.append(
            "Current anticoagulant at a prophylactic or unknown dose (not treatment): " + "; ".join(f.below_treatment) + "."
        )
    for drug in f.unsuitable:
        lines.append(f"{drug.display} (current): {UNSUITABLE_TEXT[drug.reason]}.")
    if f.medications_unknown:
        lines.append("Anticoagulation status could not be checked: medication data could not be read.")
    if f.platelet_caution is not None:
        lines.append(
            f"Platelets {num(f.platelet_caution)} ×10³/µL ({num(s.platelets_contraindication_10_3_ul)}-"
            f"{num(s.platelets_caution_10_3_ul)}): discuss the dose with hematology."
        )
    if f.platelets_unknown:
        lines.append(
            "No recent platelet count: obtain one (a missing count is not a contraindication; it is needed to "
            "monitor heparin)."
        )
    return lines


def render(f: DvtAnticoagulate, s: PathwaySettings) -> tuple[str, str]:
    what = "DVT confirmed" if f.dvt_confirmed else "Acute PE"
    if f.dvt_confirmed and f.preliminary:
        what += " (preliminary)"
    hit = HIT_WORDS.get(f.hit_status, "HIT")
    if f.hit:
        # The guideline's LMWH must not be the first thing a clinician reads on a HIT patient's card.
        lines = [
            f"Start therapeutic anticoagulation immediately, with a non-heparin anticoagulant: {hit} is recorded, so "
            "no heparin and no LMWH (the guideline's regimen is LMWH twice daily). No enoxaparin is suggested."
        ]
    elif f.renal_dosing:
        # eGFR below the renal threshold: once daily; the card never says "twice daily" and then "every 24 h".
        lines = [
            "Start therapeutic anticoagulation immediately: LMWH at a weight-adjusted dose, once daily (every "
            f"24 h) because eGFR {num(f.egfr)} < {num(s.egfr_renal_dosing)}."
        ]
    else:
        lines = ["Start therapeutic anticoagulation immediately: LMWH twice daily at a weight-adjusted dose."]
    if f.preliminary:
        lines.append("The positive result is preliminary; it is enough to start treatment.")
    if not f.hit:
        lines.append(_dose_line(f, s))
    return _summary(f, what, hit), "\n\n".join(lines + _cautions(f, s))


def _fires_when(s: PathwaySettings) -> str:
    return (
        "A confirmed acute DVT (preliminary positives included) or an acute PE, no anticoagulant at treatment "
        "dose and no anticoagulation contraindication. A heparin or LMWH despite HIT, or warfarin / a DOAC in "
        f"pregnancy, is not treatment. Suggests enoxaparin {num(s.enoxaparin_mg_per_kg)} mg/kg every 12 h (every 24 h "
        f"when eGFR < {num(s.egfr_renal_dosing)}) from the latest weight, rounded half-up to "
        f"{num(s.enoxaparin_rounding_mg)} mg; nothing with HIT on record (active, suspected or past)."
    )


RULE = Rule(
    "DVT-ANTICOAGULATE",
    hooks=PATIENT_VIEW,
    indicator="critical",
    guideline=(8,),
    quoted=lambda f: () if f.renal_dosing else (8,),  # G:8 says "twice daily": not on a once-daily card
    titled="DVT confirmed: start therapeutic LMWH twice daily",
    fires_when=_fires_when,
    reads=("Condition", "Observation", "DiagnosticReport", "ImagingStudy", "Procedure", "MedicationRequest",
           "MedicationStatement"),
    uses=(
        "acute_dvt_current_days", "enoxaparin_mg_per_kg", "enoxaparin_rounding_mg", "egfr_renal_dosing",
        "weight_window_days", "platelets_renal_window_hours", "platelets_contraindication_10_3_ul",
        "platelets_caution_10_3_ul", "bleeding_window_days", "enoxaparin_treatment_mg_per_kg_bid",
        "enoxaparin_treatment_mg_per_kg_daily", "enoxaparin_treatment_mg_per_kg_daily_renal",
        "dalteparin_treatment_iu_per_kg_bid", "dalteparin_treatment_iu_per_kg_daily", "fondaparinux_treatment_mg",
    ),
    evaluate=evaluate,
    render=render,
)
