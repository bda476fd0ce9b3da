"""NIVL-STENT-CANDIDATE (G:31, G:32, G:35, G:37-40): > 61 % on IVUS, asymmetric edema significantly affecting
quality of life, no other cause of edema recorded: stenting is appropriate; size from the external iliac reference.

R2: the card says "no other cause of edema recorded", never "excluded", and names the checks of G:14 that are
not on record (an albumin or total protein result, a renal function result in the lab window)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from cds_service.pathway.assessment import NIVL_CONFIRMED, NO_STENT, Assessment
from cds_service.pathway.facts import ClinicalFacts, Measurement, Severity
from cds_service.pathway.findings import Finding, Indicator, evidence_of
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.common import date_of
from cds_service.rules.framework import PATIENT_VIEW, Rule, num

# G:38, G:39: the figures of the study the guideline quotes (its own cut-off, whatever a site's minimum).
STUDY_CUTOFF_MM, MIGRATIONS_PCT, MORTALITY_PCT = 60, 82.6, 16.2
MIGRATION_EVIDENCE = (
    f"stents < {STUDY_CUTOFF_MM} mm account for {MIGRATIONS_PCT} % of migrations, {MORTALITY_PCT} % mortality"
)


@dataclass(frozen=True, kw_only=True)
class NivlStentCandidate(Finding):
    ivus_percent: float | None
    threshold_pct: float
    reference_mm: float | None  # the IVUS external iliac reference diameter
    min_length_mm: float
    side: str
    # The lesion axis reads an unrecorded behaviour as fixed (docs/decisions.md); the card says so.
    fixed_recorded: bool
    diameter_min_mm: float | None = None
    diameter_max_mm: float | None = None
    # A mass imaged with contrast whose nature is still not recorded: when it was recorded and imaged.
    mass_recorded_date: str = ""
    mass_imaged_date: str = ""
    # G:14 checks with no result in the lab window ("no albumin or total protein result", ...).
    checks_missing: tuple[str, ...] = ()
    labs_window_days: int = 90


def _in_window(measurements: list[Measurement], facts: ClinicalFacts, days: int) -> bool:
    window = timedelta(days=days)
    return any(m.value is not None and m.evidence.when is not None and facts.now - m.evidence.when <= window
               for m in measurements)


def checks_missing(facts: ClinicalFacts, s: PathwaySettings) -> tuple[str, ...]:
    """The lab checks for other causes of edema (G:14) with no result in the lab window."""
    missing = []
    if not _in_window(facts.albumin + facts.total_protein, facts, s.labs_window_days):
        missing.append("no albumin or total protein result")
    if not _in_window(facts.egfr, facts, s.labs_window_days):
        missing.append("no renal function (eGFR) result")
    return tuple(missing)


def _eligible(facts: ClinicalFacts, a: Assessment) -> bool:
    if a.lesion_axis != NIVL_CONFIRMED or a.stent_axis != NO_STENT or not a.unilateral_swelling:
        return False
    if a.symptoms != Severity.SIGNIFICANT or a.other_causes or not a.other_causes_known:
        return False
    if a.mass_uncharacterized is not None or (facts.masses and "mass-imaging" in a.unknown):
        return False
    return "stents" not in a.unknown  # "no stent yet" needs the procedures to have been read


def evaluate(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> NivlStentCandidate | None:
    if not _eligible(facts, a):
        return None
    reference = a.eiv_reference.value if a.eiv_reference else None
    imaged = a.mass_imaged_nature_unknown
    return NivlStentCandidate(
        indicator=Indicator.INFO,
        evidence=evidence_of(
            a.ivus_stenosis.evidence if a.ivus_stenosis else None,
            a.eiv_reference.evidence if a.eiv_reference else None,
            a.dvt_evidence,
            a.symptom_evidence,
            imaged.mass.evidence if imaged else None,
            imaged.imaging if imaged else None,
        ),
        ivus_percent=a.ivus_stenosis.value if a.ivus_stenosis else None,
        threshold_pct=s.ivus_stenosis_threshold_pct,
        reference_mm=reference,
        min_length_mm=s.min_stent_length_mm,
        side=a.swelling_side.value,
        fixed_recorded=bool(facts.lesion_behavior),
        diameter_min_mm=None if reference is None else reference + s.oversize_min_mm,
        diameter_max_mm=None if reference is None else reference + s.oversize_max_mm,
        mass_recorded_date=date_of(imaged.mass.evidence.when) if imaged else "",
        mass_imaged_date=date_of(imaged.imaging.when) if imaged else "",
        checks_missing=checks_missing(facts, s),
        labs_window_days=s.labs_window_days,
    )


def _sizing(f: NivlStentCandidate, s: PathwaySettings, pct: str) -> tuple[str, str]:
    """The summary and the sizing sentence: from the reference diameter, or how to get it."""
    oversize = f"reference + {num(s.oversize_min_mm)} to + {num(s.oversize_max_mm)} mm"
    if f.reference_mm is not None:
        size = f"{num(f.diameter_min_mm)}-{num(f.diameter_max_mm)} mm"
        return (
            f"NIVL {pct}% on IVUS: meets stenting criteria; stent {size}, length ≥ {num(f.min_length_mm)} mm",
            f"Size: external iliac vein reference {num(f.reference_mm)} mm on IVUS, so stent diameter {size} "
            f"({oversize})",
        )
    return (
        f"NIVL {pct}% on IVUS: meets stenting criteria; size from the IVUS reference vein",
        f"Size: no external iliac reference diameter is recorded; measure it on IVUS (stent diameter = {oversize})",
    )


def render(f: NivlStentCandidate, s: PathwaySettings) -> tuple[str, str]:
    pct = num(f.ivus_percent)
    summary, sizing = _sizing(f, s, pct)
    lines = [
        f"Meets the criteria for stenting: IVUS diameter stenosis {pct} % > {num(f.threshold_pct)} %, asymmetric "
        "edema with significant symptoms, no other cause of edema recorded.",
    ]
    if f.checks_missing:
        missing = " and ".join(f.checks_missing)
        lines.append(
            f"{missing[0].upper()}{missing[1:]} in the last {f.labs_window_days} days: check them before stenting "
            "(other causes of edema)."
        )
    lines.append(f"{sizing}; length ≥ {num(f.min_length_mm)} mm, landing in the straight external iliac vein.")
    if not f.fixed_recorded:
        lines.append("Lesion behaviour is not recorded: confirm it is fixed (not varying with breathing or position).")
    if f.mass_imaged_date:
        lines.append(
            f"Confirm the mass (recorded {f.mass_recorded_date}, imaged {f.mass_imaged_date}) is not compressing "
            "the vein."
        )
    return summary, "\n\n".join(lines)


RULE = Rule(
    "NIVL-STENT-CANDIDATE",
    hooks=PATIENT_VIEW,
    indicator="info",
    guideline=(31, 32, 35, 37, 38, 39, 40),
    quoted=(32, 38),
    titled="NIVL confirmed: meets the criteria for stenting",
    fires_when=(
        "IVUS stenosis above the threshold on a fixed lesion with DVT excluded, no stent yet, unilateral edema, "
        "significant symptoms, no other edema cause recorded, any recorded mass imaged with contrast."
    ),
    reads=("Condition", "Observation", "DiagnosticReport", "ImagingStudy", "Procedure", "MedicationRequest",
           "MedicationStatement"),
    uses=("ivus_stenosis_threshold_pct", "oversize_min_mm", "oversize_max_mm", "min_stent_length_mm"),
    evidence=f"stents < {STUDY_CUTOFF_MM} mm: {MIGRATIONS_PCT} % of migrations, {MORTALITY_PCT} % mortality",
    evaluate=evaluate,
    render=render,
    opens_app=True,
)
