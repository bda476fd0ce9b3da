"""STENT-BELOW-THRESHOLD (G:21): a diameter stenosis above the threshold on IVUS is the one most predictive
of clinical success with stenting; at or below it the lesion does not meet the threshold."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway.facts import DraftOrder
from cds_service.pathway.findings import Indicator
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import ORDER_HOOKS, Rule, num
from cds_service.rules.order_context import (
    LESION_TYPES,
    STENT,
    OrderContext,
    OrderFinding,
    dec,
    figure,
    is_stent,
    order_line,
    stent_could_concern,
)


@dataclass(frozen=True, kw_only=True)
class StentBelowThreshold(OrderFinding):
    stenosis_pct: float
    threshold_pct: float


def evaluate(order: DraftOrder, ctx: OrderContext) -> StentBelowThreshold | None:
    ivus = ctx.a.ivus_stenosis
    if not is_stent(order, ctx) or ivus is None or ivus.value is None:
        return None
    threshold = ctx.s.ivus_stenosis_threshold_pct
    if dec(ivus.value) > dec(threshold):
        return None
    return StentBelowThreshold(
        indicator=Indicator.WARNING,
        order_ref=order.ref,
        order_display=order.display,
        evidence=(ivus.evidence,),
        stenosis_pct=ivus.value,
        threshold_pct=threshold,
    )


def render(f: StentBelowThreshold, s: PathwaySettings) -> tuple[str, str]:
    stenosis, threshold = figure(f.stenosis_pct), figure(f.threshold_pct)
    summary = f"IVUS stenosis {stenosis} % is not above the {threshold} % stenting threshold"
    reasoning = (
        f"Reconsider the stent: IVUS diameter stenosis {stenosis} % ≤ {threshold} %, below the threshold most "
        f"predictive of clinical success with stenting.\n\n{order_line(f)}"
    )
    return summary, reasoning


RULE = Rule(
    "STENT-BELOW-THRESHOLD",
    hooks=ORDER_HOOKS,
    indicator="warning",
    guideline=(21,),
    titled=lambda s: f"Stent for an IVUS stenosis at or below {num(s.ivus_stenosis_threshold_pct)} %",
    fires_when=lambda s: (
        f"A stent order while the IVUS diameter stenosis is at or below the threshold "
        f"({num(s.ivus_stenosis_threshold_pct)} %)."
    ),
    reads=LESION_TYPES,
    uses=("ivus_stenosis_threshold_pct",),
    evaluate=evaluate,
    render=render,
    order_kinds=STENT,
    could_concern=stent_could_concern,
)
