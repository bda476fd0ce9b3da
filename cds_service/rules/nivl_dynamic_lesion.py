"""NIVL-DYNAMIC-LESION (G:41): do not intervene on dynamic lesions; only fixed lesions warrant treatment."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway.assessment import Assessment
from cds_service.pathway.facts import ClinicalFacts
from cds_service.pathway.findings import Finding, Indicator
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import PATIENT_VIEW, Rule


@dataclass(frozen=True, kw_only=True)
class NivlDynamicLesion(Finding):
    behavior: str = "dynamic"


def evaluate(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> NivlDynamicLesion | None:
    if a.lesion_dynamic is None:
        return None
    return NivlDynamicLesion(indicator=Indicator.WARNING, evidence=(a.lesion_dynamic,))


def render(f: NivlDynamicLesion, s: PathwaySettings) -> tuple[str, str]:
    return (
        "Dynamic iliac vein lesion: do not intervene; only fixed lesions warrant treatment",
        "The lesion varies with breathing or position (dynamic): do not intervene. Only fixed lesions warrant treatment.",
    )


RULE = Rule(
    "NIVL-DYNAMIC-LESION",
    hooks=PATIENT_VIEW,
    indicator="warning",
    guideline=(41,),
    titled="Dynamic lesion: do not intervene",
    fires_when="A lesion recorded as dynamic (varies with breathing or position).",
    reads=("Observation",),
    evaluate=evaluate,
    render=render,
)
