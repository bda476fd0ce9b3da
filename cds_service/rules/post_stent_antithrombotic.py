"""POST-STENT-ANTITHROMBOTIC (G:43, G:44): no consensus supports routine antithrombotic therapy after NIVL
stenting without prior VTE; high patency without it."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway.assessment import Assessment, has_other_reason
from cds_service.pathway.facts import ClinicalFacts
from cds_service.pathway.findings import Finding, Indicator, evidence_of
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.cards import shorten
from cds_service.rules.framework import PATIENT_VIEW, Rule


@dataclass(frozen=True, kw_only=True)
class PostStentAntithrombotic(Finding):
    medications: tuple[str, ...]  # current antithrombotics with no reason but the stent


def evaluate(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> PostStentAntithrombotic | None:
    if not a.stented_for_nivl or a.other_antithrombotic_indications:
        return None
    for_stent_only = [m for m in a.antithrombotics if not has_other_reason(m.reason_codes, m.reason_text)]
    if not for_stent_only:
        return None
    return PostStentAntithrombotic(
        indicator=Indicator.INFO,
        evidence=evidence_of(a.stent.evidence if a.stent else None, [m.evidence for m in for_stent_only]),
        medications=tuple(m.evidence.display or m.ingredient for m in for_stent_only),
    )


def render(f: PostStentAntithrombotic, s: PathwaySettings) -> tuple[str, str]:
    first = f.medications[0][:1].upper() + f.medications[0][1:]
    summary = shorten(f"{first} after NIVL stent without prior VTE: routine antithrombotic therapy not supported")
    reasoning = (
        "Review the need for " + "; ".join(f.medications) + ": no other indication is recorded. If started only "
        "for the venous stent, no consensus supports routine anticoagulation or antiplatelet therapy after NIVL "
        "stenting without prior VTE; high patency rates are achieved without it."
    )
    return summary, reasoning


RULE = Rule(
    "POST-STENT-ANTITHROMBOTIC",
    hooks=PATIENT_VIEW,
    indicator="info",
    guideline=(43, 44),
    titled="Antithrombotic therapy after NIVL stenting without prior VTE",
    fires_when=(
        "Stented for NIVL (no VTE ever, no post-thrombotic lesion), a current anticoagulant or antiplatelet and no "
        "other indication for it recorded."
    ),
    reads=("Procedure", "Condition", "Observation", "DiagnosticReport", "MedicationRequest", "MedicationStatement"),
    evaluate=evaluate,
    render=render,
)
