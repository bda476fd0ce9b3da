"""NIVL-BILATERAL-EDEMA (G:51): bilateral edema is rarely NIVL and suggests a systemic cause."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway import axes
from cds_service.pathway.assessment import Assessment
from cds_service.pathway.facts import ClinicalFacts
from cds_service.pathway.findings import Finding, Indicator, evidence_of
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import PATIENT_VIEW, Rule


@dataclass(frozen=True, kw_only=True)
class NivlBilateralEdema(Finding):
    sides: str = "both"


def evaluate(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> NivlBilateralEdema | None:
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
    evidence = evidence_of([sw.evidence for sw in facts.swellings], a.nivl_diagnosis)
    return NivlBilateralEdema(indicator=Indicator.WARNING, evidence=evidence)


def render(f: NivlBilateralEdema, s: PathwaySettings) -> tuple[str, str]:
    return (
        "Bilateral leg edema: rarely NIVL, look for a systemic cause",
        "Look for a systemic cause: bilateral edema is rarely caused by NIVL, so do not assume it is iliac vein "
        "compression.",
    )


RULE = Rule(
    "NIVL-BILATERAL-EDEMA",
    hooks=PATIENT_VIEW,
    indicator="warning",
    guideline=(51,),
    titled="Bilateral edema is rarely NIVL",
    fires_when=(
        "Bilateral lower-limb edema while NIVL is being considered (DVT excluded, an iliac vein compression "
        "diagnosis, a CT compression finding, or an IVUS result)."
    ),
    reads=("Condition", "Observation"),
    evaluate=evaluate,
    render=render,
)
