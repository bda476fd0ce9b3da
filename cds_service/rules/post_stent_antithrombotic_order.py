"""POST-STENT-ANTITHROMBOTIC-ORDER (G:43, G:44): no consensus supports routine anticoagulation or antiplatelet
therapy for treated NIVL without prior VTE; high patency rates are achieved without it."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway.assessment import has_other_reason
from cds_service.pathway.facts import DraftOrder, OrderKind
from cds_service.pathway.findings import Indicator, evidence_of
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import ORDER_HOOKS, Rule
from cds_service.rules.order_context import DVT_TYPES, OrderContext, OrderFinding, any_order, order_line


@dataclass(frozen=True, kw_only=True)
class PostStentAntithromboticOrder(OrderFinding):
    ingredient: str


def evaluate(order: DraftOrder, ctx: OrderContext) -> PostStentAntithromboticOrder | None:
    if order.kind not in (OrderKind.ANTICOAGULANT, OrderKind.ANTIPLATELET) or not ctx.a.stented_for_nivl:
        return None
    if ctx.a.other_antithrombotic_indications or has_other_reason(order.reason_codes, order.reason_text):
        return None
    return PostStentAntithromboticOrder(
        indicator=Indicator.INFO,
        order_ref=order.ref,
        order_display=order.display,
        evidence=evidence_of(ctx.a.stent.evidence if ctx.a.stent else None),
        ingredient=order.medication.ingredient if order.medication else "",
    )


def render(f: PostStentAntithromboticOrder, s: PathwaySettings) -> tuple[str, str]:
    agent = f.ingredient or "antithrombotic"
    summary = f"{agent.capitalize()} after NIVL stenting without prior VTE: no consensus supports it"
    reasoning = (
        "If this is meant only for the venous stent, reconsider it: no consensus supports routine anticoagulation or "
        "antiplatelet therapy after NIVL stenting without prior VTE; patency is high without it. The iliac stent was "
        "placed for NIVL, with no VTE ever recorded and no other indication for antithrombotic therapy."
        f"\n\n{order_line(f)}"
    )
    return summary, reasoning


RULE = Rule(
    "POST-STENT-ANTITHROMBOTIC-ORDER",
    hooks=ORDER_HOOKS,
    indicator="info",
    guideline=(43, 44),
    titled="Antithrombotic order after NIVL stenting without prior VTE",
    fires_when="Stented for NIVL, an anticoagulant or antiplatelet order, and no other indication recorded.",
    reads=DVT_TYPES,
    evaluate=evaluate,
    order_on_its_line=True,  # the order shows on the "Order:" line only
    render=render,
    order_kinds=(OrderKind.ANTICOAGULANT, OrderKind.ANTIPLATELET),
    could_concern=any_order,
)
