"""NIVL-MINIMAL-SYMPTOMS (G:34): stenting is inappropriate for minimal symptoms or as prophylaxis when asymptomatic."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway.assessment import NIVL_CONFIRMED, Assessment
from cds_service.pathway.facts import ClinicalFacts, Severity
from cds_service.pathway.findings import Finding, Indicator, evidence_of
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import PATIENT_VIEW, Rule


@dataclass(frozen=True, kw_only=True)
class NivlMinimalSymptoms(Finding):
    symptoms: str  # "minimal" or "none"


def evaluate(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> NivlMinimalSymptoms | None:
    if a.lesion_axis != NIVL_CONFIRMED:
        return None
    if not (a.symptoms == Severity.MINIMAL or a.asymptomatic):
        return None
    return NivlMinimalSymptoms(
        indicator=Indicator.INFO,
        evidence=evidence_of(a.ivus_stenosis.evidence if a.ivus_stenosis else None, a.symptom_evidence),
        symptoms="none" if a.asymptomatic else "minimal",
    )


def render(f: NivlMinimalSymptoms, s: PathwaySettings) -> tuple[str, str]:
    if f.symptoms == "none":
        summary = "NIVL without symptoms: prophylactic stenting is inappropriate"
    else:
        summary = "NIVL with minimal symptoms: stenting is inappropriate"
    return summary, "Stenting is inappropriate if symptoms are minimal, or as prophylaxis in asymptomatic patients."


RULE = Rule(
    "NIVL-MINIMAL-SYMPTOMS",
    hooks=PATIENT_VIEW,
    indicator="info",
    guideline=(34,),
    titled="Minimal symptoms: stenting is inappropriate",
    fires_when="NIVL confirmed and symptoms minimal (mild) or none.",
    reads=("Condition", "Observation"),
    evaluate=evaluate,
    render=render,
)
