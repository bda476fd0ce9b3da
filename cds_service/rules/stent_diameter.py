"""STENT-DIAMETER (G:37, G:40): size the stent from the IVUS external iliac reference diameter D, oversized
by 1-4 mm: the diameter must lie within D + 1 to D + 4 mm (inclusive). The fix: the nearest diameter in range."""
from __future__ import annotations

import math
from dataclasses import dataclass

from cds_service.pathway.facts import DraftOrder
from cds_service.pathway.findings import Indicator, UpdateOrder
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import ORDER_HOOKS, Rule, num
from cds_service.rules.order_context import (
    LESION_TYPES,
    STENT,
    OrderContext,
    OrderFinding,
    as_ordered,
    corrected_too,
    dec,
    figure,
    is_stent,
    order_line,
    stent_could_concern,
)
from cds_service.rules.order_fixes import order_suggestions


@dataclass(frozen=True, kw_only=True)
class StentDiameter(OrderFinding):
    diameter_mm: float
    diameter_as_ordered: str
    reference_mm: float  # the IVUS external iliac reference diameter
    range_low_mm: float
    range_high_mm: float
    oversize_mm: float  # ordered minus reference
    suggested_mm: float


def nearest_diameter_in_range(low: float, high: float, ordered: float) -> float:
    """The stent diameter to suggest: the whole millimetre in [low, high] nearest the ordered one
    (stents come in whole millimetres), else the nearest bound."""
    whole = [float(d) for d in range(math.ceil(low), math.floor(high) + 1)]
    candidates = whole or [low, high]
    return min(candidates, key=lambda d: (abs(dec(d) - dec(ordered)), d))


def evaluate(order: DraftOrder, ctx: OrderContext) -> StentDiameter | None:
    reference = ctx.a.eiv_reference
    if not is_stent(order, ctx) or order.diameter_mm is None or reference is None or reference.value is None:
        return None
    low = dec(reference.value) + dec(ctx.s.oversize_min_mm)
    high = dec(reference.value) + dec(ctx.s.oversize_max_mm)
    if low <= dec(order.diameter_mm) <= high:
        return None
    suggested = float(nearest_diameter_in_range(float(low), float(high), order.diameter_mm))
    return StentDiameter(
        indicator=Indicator.WARNING,
        order_ref=order.ref,
        order_display=order.display,
        evidence=(reference.evidence,),
        proposals=(UpdateOrder(order_ref=order.ref, diameter_mm=suggested),),
        diameter_mm=order.diameter_mm,
        diameter_as_ordered=order.diameter_as_ordered,
        reference_mm=reference.value,
        range_low_mm=float(low),
        range_high_mm=float(high),
        oversize_mm=float(dec(order.diameter_mm) - dec(reference.value)),
        suggested_mm=suggested,
    )


def render(f: StentDiameter, s: PathwaySettings) -> tuple[str, str]:
    diameter = as_ordered(f.diameter_as_ordered, f.diameter_mm)
    low, high, reference = figure(f.range_low_mm), figure(f.range_high_mm), figure(f.reference_mm)
    oversize_range = f"{figure(s.oversize_min_mm)} to {figure(s.oversize_max_mm)}"
    summary = (
        f"Stent diameter {figure(f.diameter_mm)} mm outside {low}-{high} mm (EIV reference {reference} mm "
        f"+ {oversize_range})"
    )
    reasoning = (
        f"Choose a stent diameter of {low}-{high} mm: the IVUS external iliac vein reference diameter is {reference} "
        f"mm, oversized by {figure(s.oversize_min_mm)}-{figure(s.oversize_max_mm)} mm.\n\n{order_line(f)} Diameter "
        f"as ordered: {diameter}, {f.oversize_mm:+.10g} mm against the reference. Suggested: "
        f"{figure(f.suggested_mm)} mm, the nearest diameter in range{corrected_too(f, 'diameter')}."
    )
    return summary, reasoning


RULE = Rule(
    "STENT-DIAMETER",
    hooks=ORDER_HOOKS,
    indicator="warning",
    guideline=(37, 40),
    titled=lambda s: f"Stent diameter outside reference + {num(s.oversize_min_mm)} to + {num(s.oversize_max_mm)} mm",
    fires_when=lambda s: (
        "An iliac venous stent order whose diameter is not within the IVUS external iliac reference diameter "
        f"+ {num(s.oversize_min_mm)} to + {num(s.oversize_max_mm)} mm (inclusive)."
    ),
    reads=LESION_TYPES,
    uses=("oversize_min_mm", "oversize_max_mm"),
    evaluate=evaluate,
    render=render,
    suggest=order_suggestions,
    order_kinds=STENT,
    could_concern=stent_could_concern,
    opens_app=True,
)
