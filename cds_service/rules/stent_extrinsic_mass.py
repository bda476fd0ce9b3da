"""STENT-EXTRINSIC-MASS (G:47-49): treat the underlying mass; a stent is a temporizing measure only when the
mass is not immediately resectable and symptoms are severe, or palliative in malignancy. A warning unless the
symptoms are known to be severe."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway.assessment import EXTRINSIC
from cds_service.pathway.facts import ClinicalFacts, DraftOrder, newest
from cds_service.pathway.findings import Indicator, evidence_of
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.cards import shorten
from cds_service.rules.framework import ORDER_HOOKS, Rule
from cds_service.rules.order_context import STENT, OrderContext, OrderFinding, is_stent, order_line, stent_could_concern

SEVERE_GRADE = "severe"  # Swelling.grade as recorded (Condition.severity SNOMED 24484000)


@dataclass(frozen=True, kw_only=True)
class StentExtrinsicMass(OrderFinding):
    nature: str  # the MassNature kind of the compressing mass
    nature_display: str
    symptoms_severe: bool


def _severe_symptoms(facts: ClinicalFacts) -> bool:
    """The newest swelling is recorded as severe, not only moderate (G:48 "symptoms are severe")."""
    latest = newest(facts.swellings, when=lambda sw: sw.recorded)
    return latest is not None and latest.grade == SEVERE_GRADE


def evaluate(order: DraftOrder, ctx: OrderContext) -> StentExtrinsicMass | None:
    mass = ctx.a.extrinsic_mass
    if not is_stent(order, ctx) or ctx.a.lesion_axis != EXTRINSIC or mass is None:
        return None
    severe = _severe_symptoms(ctx.facts)
    return StentExtrinsicMass(
        indicator=Indicator.INFO if severe else Indicator.WARNING,
        order_ref=order.ref,
        order_display=order.display,
        evidence=evidence_of(mass, ctx.a.symptom_evidence),
        nature=mass.kind,
        nature_display=mass.display,
        symptoms_severe=severe,
    )


def render(f: StentExtrinsicMass, s: PathwaySettings) -> tuple[str, str]:
    nature = f.nature_display
    if f.symptoms_severe:
        summary = f"Stent for compression by {shorten(nature, 50)}: temporizing or palliative only"
        severity = "Symptoms are severe: a stent may be a temporizing measure if the mass is not immediately resectable."
    else:
        summary = f"Stent for compression by {shorten(nature, 50)}, symptoms not severe: treat the mass"
        severity = "Symptoms are not recorded as severe: a temporizing stent is for severe symptoms only."
    reasoning = (
        f"Treat the underlying lesion: the compression is extrinsic ({nature}). Oncologic treatment for malignancy, "
        f"drainage for an abscess, excision for a benign compressive lesion. {severity} For malignancy, coordinate "
        f"with oncology; palliative stenting if life expectancy permits.\n\n{order_line(f)}"
    )
    return summary, reasoning


RULE = Rule(
    "STENT-EXTRINSIC-MASS",
    hooks=ORDER_HOOKS,
    indicator="info / warning",
    guideline=(47, 48, 49),
    titled="Stent for extrinsic compression by a mass",
    fires_when="A stent order while the lesion is extrinsic compression by a characterized mass.",
    reads=("Condition", "Observation"),
    evaluate=evaluate,
    render=render,
    order_kinds=STENT,
    could_concern=stent_could_concern,
)
