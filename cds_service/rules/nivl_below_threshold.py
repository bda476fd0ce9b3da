"""NIVL-BELOW-THRESHOLD (G:21): a diameter stenosis > 61 % on IVUS is the threshold most predictive of success."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway.assessment import Assessment
from cds_service.pathway.facts import ClinicalFacts
from cds_service.pathway.findings import Finding, Indicator
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import PATIENT_VIEW, Rule, num


@dataclass(frozen=True, kw_only=True)
class NivlBelowThreshold(Finding):
    ivus_percent: float
    threshold_pct: float


def evaluate(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> NivlBelowThreshold | None:
    ivus = a.ivus_stenosis
    if ivus is None or ivus.value is None or ivus.value > s.ivus_stenosis_threshold_pct:
        return None
    return NivlBelowThreshold(
        indicator=Indicator.INFO, evidence=(ivus.evidence,), ivus_percent=ivus.value,
        threshold_pct=s.ivus_stenosis_threshold_pct,
    )


def render(f: NivlBelowThreshold, s: PathwaySettings) -> tuple[str, str]:
    pct, limit = num(f.ivus_percent), num(f.threshold_pct)
    summary = f"IVUS stenosis {pct}% ≤ {limit}%: below the threshold that predicts stenting success"
    reasoning = f"IVUS diameter stenosis {pct} % is below the > {limit} % threshold that predicts clinical success with stenting."
    return summary, reasoning


RULE = Rule(
    "NIVL-BELOW-THRESHOLD",
    hooks=PATIENT_VIEW,
    indicator="info",
    guideline=(21,),
    titled="IVUS stenosis at or below the stenting threshold",
    fires_when=lambda s: f"An IVUS diameter stenosis at or below the threshold ({num(s.ivus_stenosis_threshold_pct)} %).",
    reads=("Observation",),
    uses=("ivus_stenosis_threshold_pct",),
    evaluate=evaluate,
    render=render,
)
