"""STENT-MINIMAL-SYMPTOMS (G:34): stenting is inappropriate if symptoms are minimal, or as prophylaxis in
asymptomatic patients. An unrecorded severity is unknown, not minimal."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cds_service.pathway.facts import DraftOrder, Severity
from cds_service.pathway.findings import Indicator
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import ORDER_HOOKS, Rule
from cds_service.rules.order_context import (
    CONDITION_TYPES,
    STENT,
    OrderContext,
    OrderFinding,
    is_stent,
    order_line,
    stent_could_concern,
)


@dataclass(frozen=True, kw_only=True)
class StentMinimalSymptoms(OrderFinding):
    variant: Literal["minimal", "asymptomatic"]


def evaluate(order: DraftOrder, ctx: OrderContext) -> StentMinimalSymptoms | None:
    if not is_stent(order, ctx):
        return None
    variant: Literal["minimal", "asymptomatic"]
    if ctx.a.symptoms == Severity.MINIMAL:
        variant = "minimal"
    elif ctx.a.asymptomatic:  # no swelling recorded, and the conditions were read
        variant = "asymptomatic"
    else:
        return None
    return StentMinimalSymptoms(
        indicator=Indicator.WARNING, order_ref=order.ref, order_display=order.display,
        evidence=tuple(ctx.a.symptom_evidence), variant=variant,
    )


def render(f: StentMinimalSymptoms, s: PathwaySettings) -> tuple[str, str]:
    if f.variant == "minimal":
        summary = "Stent ordered for mild swelling: stenting is inappropriate for minimal symptoms"
        found = "The swelling is recorded as mild."
    else:
        summary = "Stent ordered with no symptoms recorded: prophylactic stenting is inappropriate"
        found = "No leg swelling or other venous symptom is recorded."
    reasoning = (
        f"Reconsider the stent: {found[0].lower()}{found[1:]} Stenting is inappropriate for minimal symptoms or as "
        f"prophylaxis.\n\n{order_line(f)}"
    )
    return summary, reasoning


RULE = Rule(
    "STENT-MINIMAL-SYMPTOMS",
    hooks=ORDER_HOOKS,
    indicator="warning",
    guideline=(34,),
    titled="Stent for minimal or no symptoms",
    fires_when="A stent order while the swelling is recorded as mild, or no symptom is recorded at all.",
    reads=CONDITION_TYPES,
    evaluate=evaluate,
    render=render,
    order_kinds=STENT,
    could_concern=stent_could_concern,
)
