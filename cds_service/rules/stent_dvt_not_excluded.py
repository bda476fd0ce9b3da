"""STENT-DVT-NOT-EXCLUDED (G:3, G:7, G:11): rule out DVT first; with an acute DVT, anticoagulate first
(stenting only with thrombus removal by the vascular team); NIVL is considered once DVT is ruled out."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway import axes
from cds_service.pathway.facts import DraftOrder, DuplexExtent
from cds_service.pathway.findings import Indicator, evidence_of
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import ORDER_HOOKS, Rule
from cds_service.rules.order_context import (
    DVT_EXCLUSION_TYPES,
    DVT_TYPES,
    IMAGING_TYPES,
    STENT,
    OrderContext,
    OrderFinding,
    is_stent,
    order_line,
    stent_could_concern,
)


@dataclass(frozen=True, kw_only=True)
class StentDvtNotExcluded(OrderFinding):
    dvt_axis: str  # axes.CONFIRMED, axes.UNASSESSED or axes.PELVIC_IMAGING_NEEDED
    preliminary: bool = False  # confirmed: on a preliminary result
    triggers: tuple[str, ...] = ()  # pelvic imaging needed: the triggers, sorted
    limited_study: bool = False  # the only duplex covered part of the leg
    extent_unknown: bool = False  # R2 item 8: the negative duplex may not have covered the calf veins (CPT 93971 alone)
    # A pelvic study done but unread (no result either way) is possible: the card says so.
    imaging_unreadable: bool = False


def evaluate(order: DraftOrder, ctx: OrderContext) -> StentDvtNotExcluded | None:
    if not is_stent(order, ctx):
        return None
    a = ctx.a
    if a.dvt_axis == axes.CONFIRMED:
        return StentDvtNotExcluded(
            indicator=Indicator.WARNING, order_ref=order.ref, order_display=order.display,
            evidence=tuple(a.dvt_evidence), dvt_axis=a.dvt_axis, preliminary=a.dvt_preliminary,
        )
    if a.dvt_axis not in (axes.UNASSESSED, axes.PELVIC_IMAGING_NEEDED) or not ctx.known(*DVT_EXCLUSION_TYPES):
        return None  # "not excluded" from unread results would be a guess: a newer negative one may exist
    return StentDvtNotExcluded(
        indicator=Indicator.WARNING,
        order_ref=order.ref,
        order_display=order.display,
        evidence=evidence_of(a.dvt_evidence, a.limited_study.evidence if a.limited_study else None),
        dvt_axis=a.dvt_axis,
        triggers=tuple(sorted({t.kind for t in a.pelvic_triggers})),
        limited_study=a.limited_study is not None and a.limited_study.extent != DuplexExtent.UNKNOWN,
        extent_unknown=a.limited_study is not None and a.limited_study.extent == DuplexExtent.UNKNOWN,
        imaging_unreadable=not ctx.known(*IMAGING_TYPES),
    )


def render(f: StentDvtNotExcluded, s: PathwaySettings) -> tuple[str, str]:
    if f.dvt_axis == axes.CONFIRMED:
        preliminary = " (preliminary result)" if f.preliminary else ""
        summary = "Stent ordered with an acute DVT: anticoagulate first; stent only with thrombus removal"
        reasoning = (
            f"Anticoagulate first: an acute DVT is confirmed{preliminary}. Stenting only together with thrombus "
            f"removal, by the vascular team.\n\n{order_line(f)}"
        )
    elif f.dvt_axis == axes.PELVIC_IMAGING_NEEDED:
        summary = "Stent ordered before iliac DVT is excluded: image the pelvic veins (CT/MR venography) first"
        reasoning = (
            "Image the pelvic veins (CT or MR venography) before stenting: DVT has not been excluded. The leg duplex "
            f"was negative, but a pelvic trigger ({', '.join(f.triggers)}) needs pelvic venography, not done since."
        )
        if f.imaging_unreadable:
            reasoning += (
                " The imaging studies could not be read: if a pelvic CT or MR venography was done, review its report;"
                " with no coded result it does not exclude DVT either."
            )
        reasoning += f"\n\n{order_line(f)}"
    else:
        limited = (
            " The only duplex covered part of the leg." if f.limited_study
            else " The negative duplex does not say whether it covered the calf veins: confirm it did, or complete it."
            if f.extent_unknown else ""
        )
        summary = "Stent ordered before DVT is excluded: complete whole-leg duplex first"
        reasoning = (
            "Rule out DVT first with a complete duplex from the common femoral vein through the calf veins: DVT has "
            f"not been excluded.{limited} NIVL is considered once DVT is excluded.\n\n{order_line(f)}"
        )
    return summary, reasoning


RULE = Rule(
    "STENT-DVT-NOT-EXCLUDED",
    hooks=ORDER_HOOKS,
    indicator="warning",
    guideline=(3, 7, 11),
    titled="Stent before DVT is excluded",
    fires_when="A stent order while the DVT axis is unassessed, pelvic imaging is needed, or DVT is confirmed.",
    reads=DVT_TYPES,
    evaluate=evaluate,
    render=render,
    order_kinds=STENT,
    could_concern=stent_could_concern,
)
