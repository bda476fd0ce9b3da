"""NIVL-IVUS-REQUIRED (G:19, G:20, G:23): venography with IVUS is mandatory before any intervention.
IVUS finds 30 % more >= 50 % lesions than venography alone. Silent when NIVL-CT-NOT-DIAGNOSTIC speaks."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway import axes
from cds_service.pathway.assessment import Assessment
from cds_service.pathway.facts import ClinicalFacts
from cds_service.pathway.findings import Finding, Indicator
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules import nivl_ct_not_diagnostic
from cds_service.rules.common import candidate_note, possible_stent_candidate, venography_ivus_offer
from cds_service.rules.framework import PATIENT_VIEW, Rule

IVUS_MORE_LESIONS_PCT = 30  # G:20, quoted by the guideline


@dataclass(frozen=True, kw_only=True)
class NivlIvusRequired(Finding):
    ivus_more_lesions_pct: int
    candidate: bool  # a possible stent candidate: the IVUS order is offered


def applies(a: Assessment) -> bool:
    """A compression diagnosis, no IVUS, DVT excluded or pelvic imaging pending, and no CT compression finding
    (NIVL-CT-NOT-DIAGNOSTIC speaks then): this card asks for the IVUS."""
    return (
        a.nivl_diagnosis is not None
        and a.no_ivus
        and a.dvt_axis in (axes.EXCLUDED, axes.PELVIC_IMAGING_NEEDED)
        and not nivl_ct_not_diagnostic.applies(a)
    )


def evaluate(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> NivlIvusRequired | None:
    if not applies(a) or a.nivl_diagnosis is None:
        return None
    return NivlIvusRequired(
        indicator=Indicator.WARNING,
        evidence=(a.nivl_diagnosis,),
        proposals=venography_ivus_offer(a),
        ivus_more_lesions_pct=IVUS_MORE_LESIONS_PCT,
        candidate=possible_stent_candidate(a),
    )


def render(f: NivlIvusRequired, s: PathwaySettings) -> tuple[str, str]:
    summary = "Iliac vein compression without IVUS: venography with IVUS before any intervention"
    reasoning = (
        "Do venography with IVUS before any intervention: it is the only definitive test, and IVUS finds "
        f"{f.ivus_more_lesions_pct} % more ≥ 50 % lesions than venography alone. Measure at the lesion and at the "
        "external iliac vein reference." + candidate_note(f.candidate)
    )
    return summary, reasoning


RULE = Rule(
    "NIVL-IVUS-REQUIRED",
    hooks=PATIENT_VIEW,
    indicator="warning",
    guideline=(19, 20, 23),
    titled="Venography with IVUS is mandatory before any intervention",
    fires_when=(
        "An iliac vein compression diagnosis, no IVUS result, DVT excluded or pelvic imaging pending, and no CT "
        "compression finding (which NIVL-CT-NOT-DIAGNOSTIC covers)."
    ),
    reads=("Condition", "Observation", "DiagnosticReport", "ImagingStudy", "Procedure"),
    evidence=f"IVUS finds {IVUS_MORE_LESIONS_PCT} % more ≥ 50 % lesions than venography alone",
    evaluate=evaluate,
    render=render,
)
