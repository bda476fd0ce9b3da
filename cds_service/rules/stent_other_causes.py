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
from cds_service.rules.plain_text import fact_words


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


def _cause(cause: KindedEvidence) -> str:
    """One cause in plain words with its date: "Heart failure (2026-10-02)"."""
    when = f" ({cause.when.date().isoformat()})" if cause.when else ""
    return f"{fact_words(cause.display)}{when}"


def render(f: StentOtherCauses, s: PathwaySettings) -> tuple[str, str]:
    summary = f"Stent ordered with another edema cause: {', '.join(fact_words(c.display) for c in f.causes)}"
    # RULES "Card text (R2)": several causes are named in one sentence, not as a list of bullets.
    recorded = "; ".join(_cause(c) for c in f.causes)
    reasoning = (
        f"Exclude the other causes of edema before stenting. Recorded: {recorded}.\n\n{order_line(f)}\n\n"
        "Stenting is appropriate only after other causes (heart failure, renal or liver disease, hypoproteinemia, "
        "medications, lymphedema) are excluded."
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
