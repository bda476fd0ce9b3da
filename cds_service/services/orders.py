"""What order-select and order-sign share: a runner that reads the draft orders, runs the order rules
of the registry on those the hook comments on, and renders their cards.

`OrderRunner(commented)`: `commented` picks the orders the hook comments on (order-select: the
selections; order-sign: all). Each card names the order (its id and what was ordered, in the
clinician's units and in mm); one DATA-UNAVAILABLE card follows when part of the patient's record
could not be read, naming the checks that could not run.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from cds_service.fhir.orders import read_draft_orders
from cds_service.pathway.assessment import Assessment
from cds_service.pathway.facts import ClinicalFacts, DraftOrder, OrderKind
from cds_service.protocol.cards import Card
from cds_service.rules import data_unavailable
from cds_service.rules.cards import by_urgency
from cds_service.rules.framework import Fired, SuggestContext
from cds_service.rules.order_checks import checks_not_run, evaluate_orders
from cds_service.rules.order_context import card_evidence
from cds_service.rules.order_fixes import DraftSet
from cds_service.rules.registry import ORDER_RULES, rules_for
from cds_service.services.base import HookCall

Selector = Callable[[HookCall, list[DraftOrder]], list[DraftOrder]]


@dataclass(frozen=True)
class OrderSubjects:
    """What an order hook looks at: every recognized draft order, and those it comments on."""

    draft_set: list[DraftOrder]
    commented: list[DraftOrder]


def record_resources(call: HookCall) -> list[dict]:
    """The patient's resources: an order's reasonReference or medicationReference may point at them."""
    resources = [r for items in call.record.resources.values() for r in items if isinstance(r, dict)]
    return resources + ([call.record.patient] if isinstance(call.record.patient, dict) else [])


def _orders_by_ref(orders: list[DraftOrder]) -> dict[str, DraftOrder]:
    """One order per resource for the card: a resource that is both a stent and IVUS is shown as the stent."""
    by_ref: dict[str, DraftOrder] = {}
    for order in orders:
        if order.ref not in by_ref or order.kind is OrderKind.STENT:
            by_ref[order.ref] = order
    return by_ref


@dataclass(frozen=True)
class OrderRunner:
    commented: Selector

    def select(self, call: HookCall) -> HookCall | None:
        """The draft orders, read; None when the hook comments on none of them (no facts are read)."""
        draft_set = read_draft_orders(call.draft_orders, call.value_sets, record_resources(call))
        commented = self.commented(call, draft_set)
        return replace(call, subjects=OrderSubjects(draft_set, commented)) if commented else None

    def evaluate(self, call: HookCall, facts: ClinicalFacts, assessment: Assessment) -> list[Fired]:
        subjects: OrderSubjects = call.subjects
        orders = subjects.commented
        rules = rules_for(call.hook, call.rules_off)  # a rule the site switched off is no check "not run"
        findings = evaluate_orders(orders, facts, assessment, call.pathway, draft_set=subjects.draft_set, rules=rules)
        by_id = {rule.rule_id: rule for rule in rules}
        fired = [Fired(by_id[finding.rule_id], finding) for finding in findings]
        checks = checks_not_run(orders, facts, assessment, call.pathway, findings, rules=rules)
        unavailable = data_unavailable.RULE.run(sorted(call.record.unreadable), call.record.notes, checks)
        if unavailable is not None:
            fired.append(Fired(data_unavailable.RULE, unavailable))
        return fired

    def render(self, call: HookCall, fired: Sequence[Fired]) -> list[Card]:
        """Critical first; within an indicator by rule (RULES.md order), then by order; DATA-UNAVAILABLE last."""
        subjects: OrderSubjects = call.subjects
        by_ref = _orders_by_ref(subjects.commented)
        position = {o.ref: index for index, o in enumerate(subjects.commented)}
        rank = {rule: index for index, rule in enumerate(ORDER_RULES)}
        ctx = SuggestContext(call.patient_id, DraftSet(tuple(r for r in call.draft_orders if isinstance(r, dict)),
                                                      call.value_sets))
        ranked = []
        for f in fired:
            order_ref = f.finding.order_ref
            if order_ref is None:  # a card about the service, not an order
                card = f.rule.card(f.finding, call.pathway, call.rule_url, ctx, public_base_url=call.public_base_url)
                ranked.append((card, len(ORDER_RULES) * 1000))
                continue
            evidence = card_evidence(f.finding, by_ref[order_ref])
            card = f.rule.card(f.finding, call.pathway, call.rule_url, ctx, evidence=evidence,
                               public_base_url=call.public_base_url)
            ranked.append((card, rank[f.rule] * 1000 + position[order_ref]))
        return by_urgency(ranked)
