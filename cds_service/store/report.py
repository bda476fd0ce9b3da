"""The override report: per rule, cards issued, accepted, overridden, and why (for the CDS committee)."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cds_service.store.models import CardIssued, FeedbackItem
from cds_service.store.repository import Store


@dataclass
class RuleReport:
    rule_id: str
    issued: int = 0  # returned to a clinician
    accepted: int = 0
    overridden: int = 0
    silent: int = 0  # the rule's mode was silent: logged, not returned (would have fired)
    suppressed: int = 0  # locked out after a clinician's answer to the same evidence
    reasons: Counter = field(default_factory=Counter)  # override reason display (or code) -> count
    comments: list[str] = field(default_factory=list)

    @property
    def override_rate(self) -> float | None:
        """Overridden cards over cards that got any feedback; None when none did."""
        answered = self.accepted + self.overridden
        return self.overridden / answered if answered else None

    def top_reasons(self, limit: int = 3) -> list[tuple[str, int]]:
        return self.reasons.most_common(limit)


def build_report(
    store: Store, since: datetime | None = None, reason_labels: dict[str, str] | None = None
) -> list[RuleReport]:
    """One row per rule that issued a card (since `since`), feedback tied to cards by uuid.

    A card with several feedback items counts once: its latest item decides. An override reason is
    shown by its display, else by `reason_labels[code]` (the CDS Hooks sandbox sends codes only).
    """
    labels = reason_labels or {}
    reports: dict[str, RuleReport] = {}
    with Session(store.engine) as session:
        query = select(CardIssued)
        if since is not None:
            query = query.where(CardIssued.issued_at >= since)
        cards = {card.card_uuid: card for card in session.scalars(query)}
        feedback = session.scalars(select(FeedbackItem).order_by(FeedbackItem.outcome_timestamp, FeedbackItem.id))
        latest: dict[str, FeedbackItem] = {}
        for item in feedback:
            if item.card_uuid in cards:
                latest[item.card_uuid] = item
    for card in cards.values():
        report = reports.setdefault(card.rule_id, RuleReport(card.rule_id))
        if card.status == "silent":
            report.silent += 1
        elif card.status == "suppressed":
            report.suppressed += 1
        else:  # "issued", or a row older than the status column: every such card was returned
            report.issued += 1
    for card_uuid, item in latest.items():
        report = reports[cards[card_uuid].rule_id]
        if item.outcome == "accepted":
            report.accepted += 1
        else:
            report.overridden += 1
            reason = item.override_display or labels.get(item.override_code, item.override_code)
            if reason:
                report.reasons[reason] += 1
            if item.user_comment:
                report.comments.append(item.user_comment)
    return sorted(reports.values(), key=lambda r: (-(r.override_rate or 0), r.rule_id))


@dataclass
class CardAudit:
    """One card as the log holds it, with the facts it used and the feedback on it (`report --card`)."""

    card_uuid: str
    rule_id: str
    indicator: str
    service_id: str
    status: str
    issued_at: datetime
    repeats_card: str
    evidence_fingerprint: str
    fact_refs: list[str]
    feedback: list[dict]

    def as_json(self) -> dict:
        data = dict(self.__dict__)
        data["issued_at"] = self.issued_at.isoformat()
        return data


def card_audit(store: Store, card_uuid: str) -> CardAudit | None:
    with Session(store.engine) as session:
        card = session.scalars(select(CardIssued).where(CardIssued.card_uuid == card_uuid)).first()
        if card is None:
            return None
        items = session.scalars(
            select(FeedbackItem).where(FeedbackItem.card_uuid == card_uuid).order_by(FeedbackItem.outcome_timestamp)
        )
        feedback = [
            {"outcome": i.outcome, "at": i.outcome_timestamp.isoformat(),
             "reason": i.override_display or i.override_code, "comment": i.user_comment}
            for i in items
        ]
    try:
        refs = json.loads(card.fact_refs) if card.fact_refs else []
    except ValueError:
        refs = []
    return CardAudit(card.card_uuid, card.rule_id, card.indicator, card.service_id, card.status or "issued",
                     card.issued_at, card.repeats_card or "", card.evidence_fingerprint or "", refs, feedback)
