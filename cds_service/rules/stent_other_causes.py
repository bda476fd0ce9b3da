"""STENT-OTHER-CAUSES (G:14, G:32): exclude other causes of edema first (heart failure, renal disease, liver
disease, hypoproteinemia, medications, primary lymphedema); stenting only after excluding them."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway.assessment import KindedEvidence
from cds_service.pathway.facts import DraftOrder
from cds_service.pathway.findings import Indicator
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import ORDER_HOOKS, Rule
from cds_service.rules.order_context import (
    MEDICATION_TYPES,
    STENT,
    OrderContext,
    OrderFinding,
    is_stent,
    order_line,
    stent_could_concern,
)


@dataclass(frozen=True, kw_only=True)
class StentOtherCauses(OrderFinding):
    causes: tuple[KindedEvidence, ...]  # each recorded cause, its kind, name and reference


def evaluate(order: DraftOrder, ctx: OrderContext) -> StentOtherCauses | None:
    if not is_stent(order, ctx) or not ctx.a.other_causes:
        return None
    causes = tuple(ctx.a.other_causes)
    return StentOtherCauses(
        indicator=Indicator.WARNING, order_ref=order.ref, order_display=order.display, evidence=causes, causes=causes
    )


def render(f: StentOtherCauses, s: PathwaySettings) -> tuple[str, str]:
    summary = f"Stent ordered with another edema cause: {', '.join(c.display for c in f.causes)}"
    listed = "\n".join(f"- {c.display} (`{c.ref}`)" for c in f.causes)
    reasoning = (
        f"{order_line(f)} Other causes of edema are recorded:\n\n{listed}\n\nStenting is appropriate only after "
        "other causes (heart failure, renal or liver disease, hypoproteinemia, medications, lymphedema) are excluded."
    )
    return summary, reasoning


RULE = Rule(
    "STENT-OTHER-CAUSES",
    hooks=ORDER_HOOKS,
    indicator="warning",
    guideline=(14, 32),
    titled="Stent with another cause of edema",
    fires_when=(
        "A stent order while another edema cause is recorded (heart failure, renal or liver disease, "
        "hypoalbuminemia, an edema-causing drug, lymphedema)."
    ),
    reads=("Condition", "Observation") + MEDICATION_TYPES,
    uses=("albumin_low_g_dl", "protein_low_g_dl", "labs_window_days"),
    evaluate=evaluate,
    render=render,
    order_kinds=STENT,
    could_concern=stent_could_concern,
)
