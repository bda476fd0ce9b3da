"""Transitional: the rule catalogue is `cds_service.rules.registry`. web/ still imports this module; the
order rules not yet moved to cds_service.rules are listed from `pathway.order_rules`. Deleted once both move."""
from __future__ import annotations

from cds_service.pathway import order_rules
from cds_service.pathway.order_rules import RuleInfo
from cds_service.rules import registry
from cds_service.rules.data_unavailable import RULE as DATA_UNAVAILABLE

__all__ = ["DATA_UNAVAILABLE", "RuleInfo", "all_rules", "rule_by_id"]


def all_rules() -> list:
    moved = {rule.rule_id for rule in registry.all_rules()}
    return [*registry.all_rules(), *(r for r in order_rules.RULES if r.rule_id not in moved)]


def rule_by_id(rule_id: str):
    return next((r for r in [*all_rules(), *registry.SERVICE_CARDS] if r.rule_id == rule_id), None)
