"""The rule catalogue: one entry per rule ID of RULES.md, for rule pages, docs and traceability."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleInfo:
    rule_id: str
    hook: str  # "patient-view" or "order" (order-select and order-sign)
    title: str  # short human title
    checks: str  # what the rule checks, one or two sentences (the "fires when" column)
    guideline_lines: tuple[int, ...]  # line numbers of ../shared/guideline/000_2661f75dfd024a47.txt
    indicator: str  # as in RULES.md, e.g. "warning" or "warning / info"
    thresholds: tuple[str, ...] = ()  # names of PathwaySettings fields the rule uses
    evidence: str = ""  # figures quoted by the guideline (e.g. "82.6 % of migrations, 16.2 % mortality")


# Cards about the service itself rather than a clinical rule of RULES.md: they carry an ID in
# source.topic like every card, and have a page, but no guideline line.
DATA_UNAVAILABLE = RuleInfo(
    "DATA-UNAVAILABLE", "order", "Patient data unavailable",
    "Part of the patient's record could not be read (a failed prefetch key, an unreachable FHIR server): the order "
    "checks that need that data could not run. Checks that need only the order (stent length) still ran.",
    (), "info",
)
SERVICE_CARDS: tuple[RuleInfo, ...] = (DATA_UNAVAILABLE,)


def all_rules() -> list[RuleInfo]:
    from cds_service.pathway import order_rules, patient_view

    return list(patient_view.RULES) + list(order_rules.RULES)


def rule_by_id(rule_id: str) -> RuleInfo | None:
    return next((r for r in [*all_rules(), *SERVICE_CARDS] if r.rule_id == rule_id), None)
