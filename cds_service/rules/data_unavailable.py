"""DATA-UNAVAILABLE: a card about the service itself, not a clinical rule of RULES.md.

Part of the patient's record could not be read: it names the order checks that could not run, so
their silence is not read as "the order is safe" (unknown is not absent). It has an ID in
source.topic like every card, and a page, but no guideline line.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cds_service.pathway.findings import Finding, Indicator
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import ORDER_HOOKS, Rule


@dataclass(frozen=True, kw_only=True)
class DataUnavailable(Finding):
    unreadable: tuple[str, ...]  # resource types, sorted
    notes: tuple[str, ...]  # plain-language, PHI-free: what could not be read
    checks: tuple[Rule, ...]  # the order rules that could concern the orders but could not run


def evaluate(unreadable: Sequence[str], notes: Sequence[str], checks: Sequence[Rule]) -> DataUnavailable | None:
    if not unreadable:
        return None
    return DataUnavailable(
        indicator=Indicator.INFO, unreadable=tuple(sorted(unreadable)), notes=tuple(notes), checks=tuple(checks)
    )


def render(f: DataUnavailable, s: PathwaySettings) -> tuple[str, str]:
    if f.checks:
        summary = f"Part of the patient record could not be read: {len(f.checks)} order checks could not run"
    else:
        summary = f"Part of the patient record could not be read ({', '.join(f.unreadable)}): no order check needed it"
    notes = "\n".join(f"- {note}" for note in f.notes) or "- " + ", ".join(f.unreadable)
    reasoning = (
        f"Part of the patient's record could not be read:\n\n{notes}\n\n"
        "Unknown is not absent: the checks below need that data and could not be run, so their silence does not "
        "mean the order is safe. Checks that need only the order (stent length) were run."
    )
    if f.checks:
        listed = "\n".join(f"- {rule.rule_id}: {rule.title_for(s)}" for rule in f.checks)
        reasoning += f"\n\n**Checks not run**\n\n{listed}"
    return summary, reasoning


RULE = Rule(
    "DATA-UNAVAILABLE",
    hooks=ORDER_HOOKS,
    indicator="info",
    guideline=(),
    titled="Patient data unavailable",
    fires_when=(
        "Part of the patient's record could not be read (a failed prefetch key, an unreachable FHIR server): the order "
        "checks that need that data could not run. Checks that need only the order (stent length) still ran."
    ),
    evaluate=evaluate,
    render=render,
)
