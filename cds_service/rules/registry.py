"""The one registry of rules: services, rule pages, discovery text and docs all read it.

The order of each tuple is the pathway order of RULES.md (DVT, mass, lesion, stent): cards of
the same indicator come in this order.
"""
from __future__ import annotations

from cds_service.rules import dvt_duplex
from cds_service.rules.framework import Rule

PATIENT_VIEW_RULES: tuple[Rule, ...] = (
    dvt_duplex.RULE,
)
ORDER_RULES: tuple[Rule, ...] = ()


def rules_for(hook: str) -> tuple[Rule, ...]:
    """The rules that declare this hook, in pathway order."""
    return tuple(rule for rule in (*PATIENT_VIEW_RULES, *ORDER_RULES) if hook in rule.hooks)


def all_rules() -> list[Rule]:
    return [*PATIENT_VIEW_RULES, *ORDER_RULES]


def rule_by_id(rule_id: str) -> Rule | None:
    return next((rule for rule in all_rules() if rule.rule_id == rule_id), None)
