"""NIVL-CT-NOT-DIAGNOSTIC (G:16, G:17, G:22, G:53): CT compression does not predict symptoms; IVUS
confirmation is required. Up to 24 % of asymptomatic people have > 50 % left iliac compression, up to 70 %
some compression."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway.assessment import Assessment
from cds_service.pathway.facts import ClinicalFacts
from cds_service.pathway.findings import Finding, Indicator
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.common import candidate_note, possible_stent_candidate, venography_ivus_offer
from cds_service.rules.framework import PATIENT_VIEW, Rule, num

ASYMPTOMATIC_OVER_50_PCT = 24  # G:16, quoted by the guideline
ASYMPTOMATIC_ANY_PCT = 70


@dataclass(frozen=True, kw_only=True)
class NivlCtNotDiagnostic(Finding):
    ct_percent: float | None  # the compression CT reports, when it gives a figure
    asymptomatic_over_50_pct: int
    asymptomatic_any_pct: int
    candidate: bool  # a possible stent candidate: the IVUS order is offered


def applies(a: Assessment) -> bool:
    """A CT compression finding and no IVUS: this card speaks (NIVL-IVUS-REQUIRED then stays silent)."""
    return a.ct_compression is not None and a.no_ivus


def evaluate(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> NivlCtNotDiagnostic | None:
    if not applies(a) or a.ct_compression is None:
        return None
    return NivlCtNotDiagnostic(
        indicator=Indicator.WARNING,
        evidence=(a.ct_compression.evidence,),
        proposals=venography_ivus_offer(a),
        ct_percent=a.ct_compression.value,
        asymptomatic_over_50_pct=ASYMPTOMATIC_OVER_50_PCT,
        asymptomatic_any_pct=ASYMPTOMATIC_ANY_PCT,
        candidate=possible_stent_candidate(a),
    )


def render(f: NivlCtNotDiagnostic, s: PathwaySettings) -> tuple[str, str]:
    pct = f"{num(f.ct_percent)}% " if f.ct_percent is not None else ""
    summary = f"CT shows {pct}iliac vein compression: not diagnostic, confirm with venography and IVUS"
    reasoning = (
        "Confirm with venography and IVUS before any treatment decision: anatomic compression on CT does not "
        f"predict symptoms (up to {f.asymptomatic_over_50_pct} % of asymptomatic people have > 50 % left iliac vein "
        f"compression, up to {f.asymptomatic_any_pct} % some compression). Never decide treatment on CT alone."
        + candidate_note(f.candidate)
    )
    return summary, reasoning


RULE = Rule(
    "NIVL-CT-NOT-DIAGNOSTIC",
    hooks=PATIENT_VIEW,
    indicator="warning",
    guideline=(16, 17, 22, 53),
    titled="CT compression is not a diagnosis: confirm with IVUS",
    fires_when="A CT or MR venography compression finding and no IVUS result on record.",
    reads=("Observation", "DiagnosticReport", "ImagingStudy"),
    evidence=(
        f"up to {ASYMPTOMATIC_OVER_50_PCT} % of asymptomatic people have > 50 % left iliac compression; "
        f"up to {ASYMPTOMATIC_ANY_PCT} % some compression"
    ),
    evaluate=evaluate,
    render=render,
)
