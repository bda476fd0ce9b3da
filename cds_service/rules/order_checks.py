"""The order hooks' evaluation: every order rule of the registry on each draft order checked, and which
rules could concern the orders but could not run on the record as read (the DATA-UNAVAILABLE card)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from cds_service.pathway.assessment import Assessment
from cds_service.pathway.facts import ClinicalFacts, DraftOrder, OrderKind
from cds_service.pathway.findings import Finding, Proposal, UpdateOrder
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import Rule
from cds_service.rules.order_context import OrderContext
from cds_service.rules.registry import ORDER_RULES


def _names(reference: str, target_ref: str) -> bool:
    return reference == target_ref or reference.endswith("/" + target_ref)


def is_device_of_checked_procedure(order: DraftOrder, checked: Iterable[DraftOrder]) -> bool:
    """A stent DeviceRequest based on a stent ServiceRequest that is checked too: one stent, whose
    cards go on the procedure (its size was read from this device, and fixes update the device)."""
    if order.kind is not OrderKind.STENT or order.resource_type != "DeviceRequest":
        return False
    return any(
        o.kind is OrderKind.STENT and o.resource_type == "ServiceRequest" and any(_names(b, o.ref) for b in order.based_on)
        for o in checked
    )


def evaluate_orders(
    orders: list[DraftOrder],
    facts: ClinicalFacts,
    assessment: Assessment,
    settings: PathwaySettings,
    *,
    draft_set: Iterable[DraftOrder] | None = None,
    rules: Sequence[Rule] = ORDER_RULES,
) -> list[Finding]:
    """Every finding on `orders` (order-select: the selected ones; order-sign: all), order by order
    and within an order in RULES.md order. `draft_set` is every order of draftOrders (default:
    `orders`): "IVUS in the same order set" reads all of it."""
    ctx = OrderContext(facts, assessment, settings, tuple(draft_set if draft_set is not None else orders))
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for order in orders:
        if is_device_of_checked_procedure(order, orders):
            continue
        for rule in rules:
            finding = rule.run(order, ctx)
            # One resource can be two orders (stent and venoplasty): one card per rule and resource.
            if finding is not None and (rule.rule_id, order.ref) not in seen:
                seen.add((rule.rule_id, order.ref))
                findings.append(finding)
    return corrections_together(findings)


def corrections_together(findings: Sequence[Finding]) -> list[Finding]:
    """RULES "Card text (R2)": when several cards correct one draft order (STENT-LENGTH and STENT-DIAMETER),
    each card's update also carries the others' corrections, so that accepting one never undoes another."""
    updates: dict[str, list[UpdateOrder]] = {}
    for finding in findings:
        for proposal in finding.proposals:
            if isinstance(proposal, UpdateOrder):
                updates.setdefault(proposal.order_ref, []).append(proposal)

    def together(proposal: Proposal) -> Proposal:
        if not isinstance(proposal, UpdateOrder):
            return proposal
        others = tuple(other for other in updates[proposal.order_ref] if other is not proposal)
        return replace(proposal, together=others) if others else proposal

    return [
        replace(finding, proposals=tuple(together(p) for p in finding.proposals))
        if any(isinstance(p, UpdateOrder) for p in finding.proposals) else finding
        for finding in findings
    ]


def _could_not_run(rule: Rule, order: DraftOrder, ctx: OrderContext) -> bool:
    if set(rule.reads) & set(ctx.facts.unreadable):
        return True
    # A venous order that is not clearly iliac is checked only for a patient in scope (RULES Scope).
    in_stent_family = OrderKind.STENT in rule.order_kinds and not rule.order_only
    return in_stent_family and ctx.scope_unknown and not order.iliac


def checks_not_run(
    orders: list[DraftOrder], facts: ClinicalFacts, assessment: Assessment, settings: PathwaySettings,
    findings: Iterable[Finding], rules: Sequence[Rule] = ORDER_RULES,
) -> list[Rule]:
    """The rules (RULES.md order) that could concern these orders but could not run on the record as
    read: a resource type they read was unreadable, or the patient's scope was unknown. A rule that
    gave a finding ran. For the DATA-UNAVAILABLE card: their silence does not mean the order is safe."""
    ctx = OrderContext(facts, assessment, settings, tuple(orders))
    fired = {finding.rule_id for finding in findings}
    return [
        rule
        for rule in rules
        if rule.rule_id not in fired
        and any(
            o.kind in rule.order_kinds and _could_concern(rule, o, ctx) and _could_not_run(rule, o, ctx)
            for o in orders
        )
    ]


def _could_concern(rule: Rule, order: DraftOrder, ctx: OrderContext) -> bool:
    """Whether the rule could concern the order, as far as the record tells (its scope gate; none: any order)."""
    return rule.could_concern is None or rule.could_concern(order, ctx)
