"""POST-STENT-THROMBOSIS (R2; G:45): a proximal or unspecified-site DVT confirmed after an iliac venous stent, in
the stented leg (or with either side unknown), is suspected stent thrombosis: an emergency for the vascular team,
not a missed follow-up. An isolated calf DVT is not stent thrombosis. DVT-ANTICOAGULATE still fires."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway import axes
from cds_service.pathway.assessment import POST_STENT, Assessment
from cds_service.pathway.axes import DvtEvent
from cds_service.pathway.facts import ClinicalFacts, Side, StentRecord, newest
from cds_service.pathway.findings import Finding, Indicator, evidence_of
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.common import date_of
from cds_service.rules.framework import PATIENT_VIEW, Rule


@dataclass(frozen=True, kw_only=True)
class PostStentThrombosis(Finding):
    stent_date: str
    stent_side: str  # "left", "right", "both", "unknown"
    dvt_date: str
    dvt_side: str
    dvt_site: str  # axes.SITE_PROXIMAL | axes.SITE_UNSPECIFIED
    preliminary: bool


def after_stent(event: DvtEvent, stent: StentRecord) -> bool:
    """Confirmed on a later day than the stent; an undated DVT or stent cannot be shown to predate it."""
    when, placed = event.evidence.when, stent.placed
    return when is None or placed is None or when.date() > placed.date()


def same_leg(dvt_side: Side, stent_side: Side) -> bool:
    """The stented leg, or either side unknown (DATA-CONTRACT "Side", R2); both legs include each leg."""
    sides = {dvt_side, stent_side}
    return Side.UNKNOWN in sides or Side.BOTH in sides or dvt_side == stent_side


def thrombosis(facts: ClinicalFacts, a: Assessment) -> tuple[DvtEvent, StentRecord] | None:
    """The newest proximal / unspecified DVT after a stent, in its leg, with that stent; None if there is none."""
    if a.stent_axis != POST_STENT or not a.dvt_confirmed:
        return None
    found = [
        (event, stent)
        for event in a.dvt.events
        if event.site != axes.SITE_DISTAL
        for stent in facts.stents
        if after_stent(event, stent) and same_leg(event.side, stent.side)
    ]
    return newest(found, when=lambda pair: pair[0].evidence.when)


def applies(facts: ClinicalFacts, a: Assessment) -> bool:
    return thrombosis(facts, a) is not None


def evaluate(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> PostStentThrombosis | None:
    found = thrombosis(facts, a)
    if found is None:
        return None
    event, stent = found
    return PostStentThrombosis(
        indicator=Indicator.CRITICAL,
        evidence=evidence_of(event.evidence, stent.evidence),
        stent_date=date_of(stent.placed),
        stent_side=stent.side.value,
        dvt_date=date_of(event.evidence.when),
        dvt_side=event.side.value,
        dvt_site=event.site,
        preliminary=a.dvt_preliminary,
    )


def _where(f: PostStentThrombosis) -> str:
    if f.stent_side == "unknown":
        return "The stent's side is not recorded, so a DVT of either leg may involve it."
    if f.dvt_side == "unknown":
        return "The DVT's side is not recorded, so it may be in the stented leg."
    leg = "both legs" if f.stent_side == "both" else f"the {f.stent_side} leg"
    return f"The DVT is in the stented leg ({leg})."


def render(f: PostStentThrombosis, s: PathwaySettings) -> tuple[str, str]:
    kind = "iliac / pelvic" if f.dvt_site == axes.SITE_PROXIMAL else "leg"
    summary = f"Suspected stent thrombosis: {kind} DVT of {f.dvt_date} after the iliac stent of {f.stent_date}"
    preliminary = " (preliminary result)" if f.preliminary else ""
    reasoning = (
        "Ask the vascular team to review urgently: thrombus removal or re-intervention may be needed. "
        "Anticoagulate alongside (the anticoagulation card). "
        f"A DVT{preliminary} confirmed on {f.dvt_date}, after the iliac vein stent of {f.stent_date}, is suspected "
        f"stent thrombosis: an emergency, not a missed follow-up. {_where(f)}"
    )
    return summary, reasoning


RULE = Rule(
    "POST-STENT-THROMBOSIS",
    hooks=PATIENT_VIEW,
    indicator="critical",
    guideline=(45,),
    titled="Suspected stent thrombosis: urgent vascular team review",
    fires_when=(
        "An iliac venous stent on record and a proximal (iliac, femoral, popliteal) or unspecified-site DVT "
        "confirmed on a later day (positive duplex or pelvic venography, or an acute DVT diagnosis) in the stented "
        "leg, or with either side unknown. An isolated calf DVT is not stent thrombosis."
    ),
    reads=("Procedure", "Condition", "Observation", "DiagnosticReport"),
    uses=("acute_dvt_current_days",),
    evaluate=evaluate,
    render=render,
    opens_app=True,
)
