"""POST-STENT-FOLLOWUP (G:45): regular imaging follow-up (ultrasound or CT) for migration, stenosis and thrombosis.

The card names every study that came due with none on record since (R2). A DVT in the stented leg is not a
missed follow-up: when POST-STENT-THROMBOSIS fires, this card does not."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cds_service.pathway.assessment import POST_STENT, STENT_IMAGING_KINDS, Assessment
from cds_service.pathway.facts import ClinicalFacts, Evidence
from cds_service.pathway.findings import FROM_CLOCK, CreateOrder, Finding, Indicator, evidence_of
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules import post_stent_thrombosis
from cds_service.rules.common import date_of
from cds_service.rules.framework import PATIENT_VIEW, Rule

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True, kw_only=True)
class PostStentFollowup(Finding):
    stent_date: str
    due_day: int  # the day after the stent by which the (first) missing study was due
    missed_days: tuple[int, ...]  # every scheduled day that has passed with no study since (due_day first)
    last_imaging_date: str  # "" when there was none since the stent
    days_since_stent: int = field(metadata=FROM_CLOCK)  # grows daily: not part of the evidence


def surveillance_days(settings: PathwaySettings, beyond_day: float) -> list[int]:
    """The scheduled study days after the stent (30, 182, 365, then yearly), until two lie past `beyond_day`."""
    days = list(settings.stent_followup_schedule_days)
    while len(days) < 2 or days[-2] < beyond_day:
        days.append(days[-1] + settings.stent_followup_yearly_days)
    return days


def missed_surveillance_days(settings: PathwaySettings, due_day: int, elapsed_days: float) -> tuple[int, ...]:
    """Every scheduled day from `due_day` on that has passed (due *by* that day: missed once it has passed)."""
    return tuple(day for day in surveillance_days(settings, elapsed_days) if due_day <= day < elapsed_days)


def study_name(settings: PathwaySettings, day: int) -> str:
    """"day 30" for the first study, then months after the stent: "month 6", "month 12", "month 24"."""
    if day == settings.stent_followup_schedule_days[0]:
        return f"day {day}"
    return f"month {round(day / DAYS_PER_MONTH)}"


def next_surveillance_day(settings: PathwaySettings, last_study_day: float | None) -> int:
    """The day after the stent by which the next surveillance study is due (G:45).

    No study since the stent: the first scheduled day. Otherwise the newest study stands for the
    scheduled day nearest to it (a 6-month study done a week late is still the 6-month study; a tie
    goes to the earlier day), and the next study is due on the scheduled day after that one. So one
    late study never stands for two scheduled studies.
    """
    if last_study_day is None:
        return settings.stent_followup_schedule_days[0]
    days = surveillance_days(settings, last_study_day)
    nearest = min(range(len(days)), key=lambda i: (abs(days[i] - last_study_day), i))
    return days[nearest + 1]


def _stent_imaging(facts: ClinicalFacts, placed: datetime) -> Evidence | None:
    """The newest iliac venous imaging after the day of the stent.

    Imaging on the stent's own day (completion venography, intra-procedural IVUS) is part of the
    procedure, not follow-up.
    """
    dated = [i.evidence for i in facts.imaging if i.kind in STENT_IMAGING_KINDS and i.evidence.when]
    dated += [st.evidence for st in facts.pelvic_venography if st.evidence.when]
    after = [e for e in dated if e.when and e.when.date() > placed.date()]
    return max(after, key=lambda e: e.when or placed) if after else None


def evaluate(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> PostStentFollowup | None:
    if a.stent_axis != POST_STENT or a.stent is None or a.stent.placed is None:
        return None
    if "stent-imaging" in a.unknown:  # "no imaging since" needs the imaging data
        return None
    if post_stent_thrombosis.applies(facts, a):  # suspected stent thrombosis: that card, not a missed study
        return None
    placed = a.stent.placed
    newest = _stent_imaging(facts, placed)
    last_study_day = (newest.when - placed) / timedelta(days=1) if newest and newest.when else None
    due_day = next_surveillance_day(s, last_study_day)
    elapsed = (facts.now - placed) / timedelta(days=1)
    if elapsed <= due_day:  # due *by* that day: overdue once it has passed
        return None
    return PostStentFollowup(
        indicator=Indicator.INFO,
        evidence=evidence_of(a.stent.evidence, newest),
        proposals=(CreateOrder("iliocaval-duplex"),),
        stent_date=date_of(placed),
        due_day=due_day,
        missed_days=missed_surveillance_days(s, due_day, elapsed),
        last_imaging_date=date_of(newest.when) if newest else "",
        days_since_stent=(facts.now - placed).days,
    )


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def render(f: PostStentFollowup, s: PathwaySettings) -> tuple[str, str]:
    missed = _and([study_name(s, day) for day in f.missed_days])
    since = f"the last imaging of {f.last_imaging_date}" if f.last_imaging_date else f"the stent of {f.stent_date}"
    last = f"last imaging {f.last_imaging_date}" if f.last_imaging_date else "no imaging since"
    summary = f"Iliac vein stent of {f.stent_date}: surveillance imaging overdue (due by {missed}; {last})"
    reasoning = (
        "Order surveillance imaging: an iliocaval duplex (or CT venography) for stent migration, stenosis and "
        f"thrombosis. Due by {missed}: no imaging since {since} ({f.days_since_stent} days since the stent). "
        f"Schedule: {_and([study_name(s, d) for d in s.stent_followup_schedule_days])} after the stent, then yearly."
    )
    return summary, reasoning


def _fires_when(s: PathwaySettings) -> str:
    first = s.stent_followup_schedule_days[0]
    return (
        "An iliac venous stent whose newest imaging after placement (or the stent date) is older than the "
        f"surveillance schedule allows: first study within {first} days, then 6 months, 12 months and yearly. A study "
        "stands for the scheduled day nearest to it; imaging on the stent's own day is part of the procedure. "
        "Names every study missed; not when POST-STENT-THROMBOSIS fires."
    )


RULE = Rule(
    "POST-STENT-FOLLOWUP",
    hooks=PATIENT_VIEW,
    indicator="info",
    guideline=(45,),
    titled="Stent surveillance imaging is due",
    fires_when=_fires_when,
    reads=("Procedure", "ImagingStudy", "DiagnosticReport", "Observation"),
    uses=("stent_followup_schedule_days", "stent_followup_yearly_days"),
    evaluate=evaluate,
    render=render,
    opens_app=True,
)
