"""DATA-UNAVAILABLE: a card about the service itself, not a clinical rule of RULES.md.

Part of the patient's record could not be read: it names the order checks that could not run, so
their silence is not read as "the order is safe" (unknown is not absent). It has an ID in
source.topic like every card, and a page, but no guideline line.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cds_service.pathway.findings import Finding, Indicator
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import ORDER_HOOKS, Rule
from cds_service.rules.plain_text import type_words


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


UNREAD_NOTE = re.compile(r"could not be read \(([^)]*)\)$")


def _unread(f: DataUnavailable) -> str:
    """What could not be read, in one sentence: the resource types in words, why (for the IT team), other notes."""
    types = ", ".join(type_words(t) for t in f.unreadable)
    reasons = list(dict.fromkeys(m.group(1) for note in f.notes if (m := UNREAD_NOTE.search(note))))
    why = f" ({', '.join(reasons)})" if reasons else ""
    others = [note for note in f.notes if "could not be read" not in note]
    return " ".join([f"Could not be read: {types}{why}.", *others])


def render(f: DataUnavailable, s: PathwaySettings) -> tuple[str, str]:
    if f.checks:
        summary = f"Part of the patient record could not be read: {len(f.checks)} order checks could not run"
        reasoning = (
            f"{len(f.checks)} order checks could not run for want of the patient's data: their silence does not "
            "mean the order is safe (unknown is not absent); check these points yourself. Checks that need only "
            "the order (stent length) were run.\n\n"
            f"Not run: {', '.join(rule.rule_id for rule in f.checks)} (each explained on its rule page)."
        )
    else:
        summary = f"Part of the patient record could not be read ({', '.join(f.unreadable)}): no order check needed it"
        reasoning = "Part of the patient's record could not be read; no order check of these orders needed it."
    return summary, f"{reasoning}\n\n{_unread(f)}"


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
