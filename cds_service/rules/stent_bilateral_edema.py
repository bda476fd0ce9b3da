"""STENT-BILATERAL-EDEMA (G:51): bilateral edema is rarely caused by NIVL and suggests systemic causes."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway.facts import DraftOrder
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
class StentBilateralEdema(OrderFinding):
    pass  # the swellings on record are the finding's evidence


def evaluate(order: DraftOrder, ctx: OrderContext) -> StentBilateralEdema | None:
    if not is_stent(order, ctx) or not ctx.a.bilateral_edema:
        return None
    return StentBilateralEdema(
        indicator=Indicator.WARNING, order_ref=order.ref, order_display=order.display,
        evidence=tuple(sw.evidence for sw in ctx.facts.swellings),
    )


def render(f: StentBilateralEdema, s: PathwaySettings) -> tuple[str, str]:
    summary = "Stent ordered with bilateral leg edema: rarely NIVL, look for a systemic cause"
    reasoning = (
        "Look for a systemic cause before stenting: bilateral edema is recorded, is rarely caused by NIVL, and "
        f"stenting needs asymmetrical edema.\n\n{order_line(f)}"
    )
    return summary, reasoning


RULE = Rule(
    "STENT-BILATERAL-EDEMA",
    hooks=ORDER_HOOKS,
    indicator="warning",
    guideline=(51,),
    titled="Stent with bilateral edema",
    fires_when="A stent order while bilateral lower-limb edema is recorded.",
    reads=CONDITION_TYPES,
    evaluate=evaluate,
    render=render,
    order_kinds=STENT,
    could_concern=stent_could_concern,
)
