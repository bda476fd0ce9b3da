"""STENT-LENGTH (G:38, G:39, G:52): an iliac venous stent must be at least the minimum length; shorter
stents account for most migrations. The fix: the same order at the minimum length."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway.facts import DraftOrder
from cds_service.pathway.findings import Indicator, UpdateOrder
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import ORDER_HOOKS, Rule, num
from cds_service.rules.nivl_stent_candidate import MIGRATIONS_PCT, MORTALITY_PCT, STUDY_CUTOFF_MM
from cds_service.rules.order_context import (
    STENT,
    OrderContext,
    OrderFinding,
    as_ordered,
    corrected_too,
    dec,
    device_note,
    figure,
    is_sizable_stent,
    order_line,
    scope_caveat,
    scope_note,
    stent_could_concern,
)
from cds_service.rules.order_fixes import order_suggestions

# G:38, G:52: the study the guideline quotes (its own cut-off, whatever a site's minimum); the migration
# and mortality figures are NIVL-STENT-CANDIDATE's too, so they are typed once, in that unit.
TO_HEART_PCT, TO_PULMONARY_ARTERY_PCT = 56, 24
MIGRATION_EVIDENCE = (
    f"Stents shorter than {STUDY_CUTOFF_MM} mm account for {MIGRATIONS_PCT} % of stent migrations, with "
    f"{MORTALITY_PCT} % mortality; {TO_HEART_PCT} % of migrated stents reach the heart and "
    f"{TO_PULMONARY_ARTERY_PCT} % the pulmonary artery."
)


@dataclass(frozen=True, kw_only=True)
class StentLength(OrderFinding):
    length_mm: float
    length_as_ordered: str
    min_length_mm: float
    size_ref: str  # the device order that states the size, when it is not this order
    scope_unknown: bool  # checked although neither the patient nor the order is known to be iliac


def evaluate(order: DraftOrder, ctx: OrderContext) -> StentLength | None:
    if not is_sizable_stent(order, ctx) or order.length_mm is None:
        return None
    minimum = ctx.s.min_stent_length_mm
    if dec(order.length_mm) >= dec(minimum):
        return None
    return StentLength(
        indicator=Indicator.CRITICAL,
        order_ref=order.ref,
        order_display=order.display,
        # The fix goes on the resource that states the length (this order, or its device order).
        proposals=(UpdateOrder(order_ref=order.ref, length_mm=minimum),),
        length_mm=order.length_mm,
        length_as_ordered=order.length_as_ordered,
        min_length_mm=minimum,
        size_ref=order.size_ref,
        scope_unknown=scope_caveat(order, ctx),
    )


def render(f: StentLength, s: PathwaySettings) -> tuple[str, str]:
    length = as_ordered(f.length_as_ordered, f.length_mm)
    minimum = figure(f.min_length_mm)
    summary = f"Stent length {length} < {minimum} mm minimum: migration risk. Order {minimum} mm or longer"
    reasoning = (
        f"Order a stent of at least {minimum} mm, extended into the straight portion of the external iliac vein: "
        f"{MIGRATION_EVIDENCE}\n\n{order_line(f)} Length as ordered: {length}; the minimum is {minimum} mm."
        f"{device_note(f.size_ref)} Suggested: the same order with a {minimum} mm length"
        f"{corrected_too(f, 'length')}, nothing else changed."
        + scope_note(f.scope_unknown)
    )
    return summary, reasoning


RULE = Rule(
    "STENT-LENGTH",
    hooks=ORDER_HOOKS,
    indicator="critical",
    guideline=(38, 39, 52),
    titled=lambda s: f"Iliac venous stent shorter than {num(s.min_stent_length_mm)} mm",
    fires_when=lambda s: (
        "An iliac venous stent order whose length, after unit conversion, is below the minimum "
        f"({num(s.min_stent_length_mm)} mm)."
    ),
    uses=("min_stent_length_mm",),
    evidence=(
        f"stents < {STUDY_CUTOFF_MM} mm: {MIGRATIONS_PCT} % of migrations, {MORTALITY_PCT} % mortality; "
        f"{TO_HEART_PCT} % migrate to the heart, {TO_PULMONARY_ARTERY_PCT} % to the pulmonary artery"
    ),
    evaluate=evaluate,
    render=render,
    suggest=order_suggestions,
    order_kinds=STENT,
    order_only=True,
    could_concern=stent_could_concern,
    opens_app=True,
)
