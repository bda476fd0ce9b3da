"""STENT-IVUS-REQUIRED (G:19, G:22, G:37): venography with IVUS is mandatory before any intervention; do
not treat on CT or ultrasound alone; size from the IVUS reference vessel. No card when IVUS is in the same
order set (the stent is then conditional on intra-procedural IVUS)."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway.facts import DraftOrder, OrderKind
from cds_service.pathway.findings import Indicator
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import ORDER_HOOKS, Rule
from cds_service.rules.order_context import (
    IMAGING_TYPES,
    OrderContext,
    OrderFinding,
    figure,
    order_line,
    stent_could_concern,
    stent_scope,
)


@dataclass(frozen=True, kw_only=True)
class StentIvusRequired(OrderFinding):
    procedure: str  # OrderKind value: "stent" or "venoplasty"
    ct_compression: float | None  # the CT compression on record, which does not predict symptoms


def evaluate(order: DraftOrder, ctx: OrderContext) -> StentIvusRequired | None:
    if order.kind not in (OrderKind.STENT, OrderKind.VENOPLASTY) or not stent_scope(order, ctx):
        return None
    if any(o.kind is OrderKind.IVUS for o in ctx.draft_set):
        return None
    if not ctx.a.no_ivus:  # an IVUS on record, or the IVUS data could not be read (unknown, not absent)
        return None
    compression = ctx.a.ct_compression
    return StentIvusRequired(
        indicator=Indicator.CRITICAL,
        order_ref=order.ref,
        order_display=order.display,
        evidence=(compression.evidence,) if compression else (),
        procedure=order.kind.value,
        ct_compression=compression.value if compression else None,
    )


def render(f: StentIvusRequired, s: PathwaySettings) -> tuple[str, str]:
    what = "Venoplasty" if f.procedure == OrderKind.VENOPLASTY.value else "Stent"
    summary = f"{what} ordered with no IVUS on record or ordered: IVUS confirmation is mandatory first"
    reasoning = (
        "Confirm with venography and IVUS before any intervention: no IVUS result is on record and no IVUS is in "
        f"this order set.\n\n{order_line(f)}\n\n"
        "Venography with IVUS is mandatory before any intervention and is the only definitive test; do not treat "
        "on CT or ultrasound findings alone. Size the stent from the IVUS external iliac reference vessel. "
        "Ordering IVUS in the same order set makes the intervention conditional on intra-procedural IVUS."
    )
    if f.ct_compression is not None:
        reasoning += f" The CT compression of {figure(f.ct_compression)} % does not predict symptoms."
    return summary, reasoning


RULE = Rule(
    "STENT-IVUS-REQUIRED",
    hooks=ORDER_HOOKS,
    indicator="critical",
    guideline=(19, 22, 37),
    titled="No IVUS before iliac vein intervention",
    fires_when=(
        "An iliac venous stent or venoplasty order, no IVUS result on record (the IVUS data was read), and no "
        "IVUS ordered in the same draft orders."
    ),
    reads=("Observation",) + IMAGING_TYPES,
    evaluate=evaluate,
    render=render,
    order_kinds=(OrderKind.STENT, OrderKind.VENOPLASTY),
    could_concern=stent_could_concern,
)
