"""STENT-DYNAMIC-LESION (G:41): do not intervene on dynamic lesions that vary with breathing or position."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway.facts import DraftOrder
from cds_service.pathway.findings import Indicator
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import ORDER_HOOKS, Rule
from cds_service.rules.order_context import (
    LESION_TYPES,
    STENT,
    OrderContext,
    OrderFinding,
    is_stent,
    order_line,
    stent_could_concern,
)


@dataclass(frozen=True, kw_only=True)
class StentDynamicLesion(OrderFinding):
    pass  # the lesion behaviour on record is the finding's evidence


def evaluate(order: DraftOrder, ctx: OrderContext) -> StentDynamicLesion | None:
    if not is_stent(order, ctx) or ctx.a.lesion_dynamic is None:
        return None
    return StentDynamicLesion(
        indicator=Indicator.WARNING, order_ref=order.ref, order_display=order.display,
        evidence=(ctx.a.lesion_dynamic,),
    )


def render(f: StentDynamicLesion, s: PathwaySettings) -> tuple[str, str]:
    summary = "Stent ordered for a dynamic lesion: do not stent lesions that vary with breathing or position"
    reasoning = (
        "Do not stent this lesion: it is recorded as dynamic (varies with breathing or position), and only fixed "
        f"lesions warrant treatment.\n\n{order_line(f)}"
    )
    return summary, reasoning


RULE = Rule(
    "STENT-DYNAMIC-LESION",
    hooks=ORDER_HOOKS,
    indicator="warning",
    guideline=(41,),
    titled="Stent for a dynamic lesion",
    fires_when="A stent order while the lesion is recorded as dynamic (varies with breathing or position).",
    reads=LESION_TYPES,
    evaluate=evaluate,
    render=render,
    order_kinds=STENT,
    could_concern=stent_could_concern,
)
