"""STENT-MASS-NOT-CHARACTERIZED (G:24-26): the mass may be the cause of the compression; CT or MRI with
contrast is essential to characterize it before stenting."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cds_service.pathway.facts import DraftOrder
from cds_service.pathway.findings import Indicator
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import ORDER_HOOKS, Rule
from cds_service.rules.order_context import (
    MASS_TYPES,
    STENT,
    OrderContext,
    OrderFinding,
    is_stent,
    order_line,
    stent_could_concern,
)
from cds_service.rules.plain_text import fact_words


@dataclass(frozen=True, kw_only=True)
class StentMassNotCharacterized(OrderFinding):
    mass_display: str
    mass_ref: str
    mass_recorded: datetime | None


def evaluate(order: DraftOrder, ctx: OrderContext) -> StentMassNotCharacterized | None:
    mass = ctx.a.mass_uncharacterized
    if not is_stent(order, ctx) or mass is None or not ctx.known(*MASS_TYPES):
        return None  # an unread mass-nature Observation or CT venography may characterize it
    return StentMassNotCharacterized(
        indicator=Indicator.WARNING, order_ref=order.ref, order_display=order.display, evidence=(mass.evidence,),
        mass_display=mass.evidence.display, mass_ref=mass.evidence.ref, mass_recorded=mass.evidence.when,
    )


def could_concern(order: DraftOrder, ctx: OrderContext) -> bool:
    """With the conditions read and no mass on record there is nothing to characterize, whatever else was unread."""
    if ctx.known("Condition") and not ctx.facts.masses:
        return False
    return stent_could_concern(order, ctx)


def render(f: StentMassNotCharacterized, s: PathwaySettings) -> tuple[str, str]:
    summary = "Stent ordered with an uncharacterized pelvic mass: contrast CT or MRI first"
    recorded = f", recorded {f.mass_recorded.date().isoformat()}," if f.mass_recorded else ""
    reasoning = (
        "Characterize the mass with contrast CT or MRI before stenting: it may itself compress the vein (tumour, "
        f"lymphadenopathy, abscess, hematoma). The mass ({fact_words(f.mass_display)}{recorded}) has no recorded "
        f"nature and no contrast CT or MRI since.\n\n{order_line(f)}"
    )
    return summary, reasoning


RULE = Rule(
    "STENT-MASS-NOT-CHARACTERIZED",
    hooks=ORDER_HOOKS,
    indicator="warning",
    guideline=(24, 25, 26),
    titled="Stent with an uncharacterized mass",
    fires_when=lambda s: (
        "A stent order while an iliac / pelvic mass is on record, its nature not recorded and no contrast CT or "
        f"MRI from {s.mass_imaging_lookback_days} days before the mass onwards."
    ),
    reads=MASS_TYPES,
    uses=("mass_imaging_lookback_days",),
    evaluate=evaluate,
    render=render,
    order_kinds=STENT,
    could_concern=could_concern,
)
