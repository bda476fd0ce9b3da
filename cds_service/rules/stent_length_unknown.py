"""STENT-LENGTH-UNKNOWN (G:38): the stent's length cannot be verified, and it must be at least the minimum.
A warning for a device order; information for a procedure order with no device (sizes are often chosen
on the table)."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.fhir.units import LENGTH_TO_MM
from cds_service.pathway.facts import DraftOrder
from cds_service.pathway.findings import Indicator
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import ORDER_HOOKS, Rule
from cds_service.rules.order_context import (
    STENT,
    OrderContext,
    OrderFinding,
    device_note,
    figure,
    is_sizable_stent,
    order_line,
    scope_caveat,
    scope_note,
    stent_could_concern,
)

# The length units the service reads (fhir/units.py): "mm, cm, m or [in_i]".
READABLE_UNITS = ", ".join(list(LENGTH_TO_MM)[:-1]) + " or " + list(LENGTH_TO_MM)[-1]


@dataclass(frozen=True, kw_only=True)
class StentLengthUnknown(OrderFinding):
    length_as_ordered: str  # "60 millimetres": a unit that is not UCUM; "" when none is given
    min_length_mm: float
    device_ordered: bool  # a device order states (or should state) the size
    size_ref: str
    scope_unknown: bool


def evaluate(order: DraftOrder, ctx: OrderContext) -> StentLengthUnknown | None:
    if not is_sizable_stent(order, ctx) or order.length_mm is not None:
        return None
    device_ordered = order.resource_type == "DeviceRequest" or bool(order.size_ref)
    return StentLengthUnknown(
        indicator=Indicator.WARNING if device_ordered else Indicator.INFO,
        order_ref=order.ref,
        order_display=order.display,
        length_as_ordered=order.length_as_ordered,
        min_length_mm=ctx.s.min_stent_length_mm,
        device_ordered=device_ordered,
        size_ref=order.size_ref,
        scope_unknown=scope_caveat(order, ctx),
    )


def render(f: StentLengthUnknown, s: PathwaySettings) -> tuple[str, str]:
    minimum = figure(f.min_length_mm)
    if f.length_as_ordered:
        found = (
            f"the length is given as '{f.length_as_ordered}', which the service cannot read as a length "
            f"(a number with a decimal point, in {READABLE_UNITS})"
        )
    else:
        found = "the order states no stent length"
    summary = f"Stent length cannot be verified: it must be at least {minimum} mm"
    reasoning = (
        f"Confirm the stent length is at least {minimum} mm: it cannot be verified, as {found}."
        f"{device_note(f.size_ref)}\n\n{order_line(f)}"
    )
    if not f.device_ordered:
        reasoning += " (A procedure order: the size is often chosen on the table; confirm it then.)"
    return summary, reasoning + scope_note(f.scope_unknown)


RULE = Rule(
    "STENT-LENGTH-UNKNOWN",
    hooks=ORDER_HOOKS,
    indicator="warning / info",
    guideline=(38,),
    titled="Stent length cannot be verified",
    fires_when="An iliac venous stent order with no readable length (none given, or in a unit that is not UCUM).",
    uses=("min_stent_length_mm",),
    evaluate=evaluate,
    render=render,
    order_kinds=STENT,
    order_only=True,
    could_concern=stent_could_concern,
)
