"""IVC-FILTER-NOT-INDICATED (G:9): consider a vena cava filter only if anticoagulation is contraindicated.
The fix: remove the draft order."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway.facts import DraftOrder, OrderKind
from cds_service.pathway.findings import DeleteOrder, Indicator, evidence_of
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.dvt_ivc_filter_option import QuotesG9ForPregnancy
from cds_service.rules.framework import ORDER_HOOKS
from cds_service.rules.order_context import (
    CONTRAINDICATION_TYPES,
    SCOPE_TYPES,
    OrderContext,
    OrderFinding,
    in_scope_could_concern,
    order_line,
)
from cds_service.rules.order_fixes import order_suggestions


@dataclass(frozen=True, kw_only=True)
class IvcFilterNotIndicated(OrderFinding):
    dvt_axis: str
    acute_pe: bool
    pregnant: bool  # G:9's "same indications as non-pregnant patients" is quoted only to pregnant patients (R2)


def evaluate(order: DraftOrder, ctx: OrderContext) -> IvcFilterNotIndicated | None:
    if order.kind is not OrderKind.IVC_FILTER or not ctx.a.in_scope:
        return None
    if ctx.a.anticoagulation_contraindicated or not ctx.known(*CONTRAINDICATION_TYPES):
        return None  # a contraindication that could not be read may exist
    return IvcFilterNotIndicated(
        indicator=Indicator.WARNING,
        order_ref=order.ref,
        order_display=order.display,
        evidence=evidence_of(ctx.a.dvt_evidence, ctx.a.acute_pe_evidence),
        proposals=(DeleteOrder(order.ref),),
        dvt_axis=ctx.a.dvt_axis,
        acute_pe=ctx.a.acute_pe,
        pregnant=ctx.a.pregnant,
    )


def render(f: IvcFilterNotIndicated, s: PathwaySettings) -> tuple[str, str]:
    summary = "Vena cava filter ordered with no contraindication to anticoagulation recorded"
    reasoning = (
        "Remove the draft order unless anticoagulation is contraindicated: a vena cava filter is only for patients "
        "who cannot be anticoagulated, and no contraindication is recorded (no recent bleeding, platelets not below "
        f"the contraindication threshold).\n\n{order_line(f)}"
    )
    return summary, reasoning


RULE = QuotesG9ForPregnancy(
    "IVC-FILTER-NOT-INDICATED",
    hooks=ORDER_HOOKS,
    indicator="warning",
    guideline=(9,),
    titled="Vena cava filter without a contraindication to anticoagulation",
    fires_when=(
        "A patient in scope, a vena cava filter order, and no anticoagulation contraindication recorded "
        "(the conditions and labs were read)."
    ),
    reads=SCOPE_TYPES,
    uses=("bleeding_window_days", "platelets_contraindication_10_3_ul"),
    evaluate=evaluate,
    render=render,
    suggest=order_suggestions,
    order_kinds=(OrderKind.IVC_FILTER,),
    could_concern=in_scope_could_concern,
    order_on_its_line=True,  # the order shows on the "Order:" line only
)
