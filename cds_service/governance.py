"""Site governance of the cards of one hook call: returned, silent or suppressed (issue 13).

`decide` is pure: it is handed the lockouts already read. `Governance` is what the pipeline holds:
the site file plus a lockout reader (`store.lockouts.LockoutStore`, passed in by `app.py`).

- `off` rules are not evaluated (the evaluate step asks the registry for the hook's rules without them);
  a card of one that still arrives is dropped.
- `silent` cards are logged as silent and not returned.
- A patient-view card is suppressed when a clinician answered a card of the same rule for the same
  patient with the same evidence (same fingerprint) less than its lockout days ago. Order hooks never
  lock out. `SiteConfig.lockout_days_for` keeps critical cards unlocked unless the site names the rule.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from cds_service.protocol.cards import Card
from cds_service.rules.registry import rule_by_id
from cds_service.site_config import OFF, SILENT, SiteConfig

log = logging.getLogger(__name__)
ISSUED, SILENCED, SUPPRESSED = "issued", "silent", "suppressed"
PATIENT_VIEW = "patient-view"


# -- the decision -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Lock:
    """A clinician's answer to a patient-view card: the card, and when it was answered."""

    card_uuid: str
    locked_at: datetime


LockKey = tuple[str, str]  # (rule ID, evidence fingerprint) for one patient


@dataclass(frozen=True)
class Decision:
    card: Card
    status: str  # ISSUED | SILENCED | SUPPRESSED
    repeats: str = ""  # suppressed: the uuid of the answered card it repeats

    def log_fields(self) -> dict:
        """The card log columns governance adds (store.models.CardIssued)."""
        return {
            "status": self.status,
            "repeats_card": self.repeats,
            "fact_refs": json.dumps(list(self.card.fact_refs)),
            "evidence_fingerprint": self.card.evidence_fingerprint,
        }


def lockable(card: Card, hook: str, site: SiteConfig) -> bool:
    return (
        hook == PATIENT_VIEW
        and bool(card.evidence_fingerprint)
        and site.mode(card.rule_id) not in (OFF, SILENT)
        and site.lockout_days_for(card.rule_id, card.indicator) > 0
    )


def lock_keys(cards: Iterable[Card], hook: str, site: SiteConfig) -> list[LockKey]:
    """The (rule, fingerprint) pairs worth looking up: none for order hooks or without lockout days."""
    return [(c.rule_id, c.evidence_fingerprint) for c in cards if lockable(c, hook, site)]


def decide(
    cards: Sequence[Card], hook: str, site: SiteConfig, locks: Mapping[LockKey, Lock], now: datetime
) -> list[Decision]:
    decisions = []
    for card in cards:
        mode = site.mode(card.rule_id)
        if mode == OFF:
            continue
        if mode == SILENT:
            decisions.append(Decision(card, SILENCED))
            continue
        lock = locks.get((card.rule_id, card.evidence_fingerprint)) if lockable(card, hook, site) else None
        days = site.lockout_days_for(card.rule_id, card.indicator)
        if lock is not None and now < lock.locked_at + timedelta(days=days):
            decisions.append(Decision(card, SUPPRESSED, lock.card_uuid))
        else:
            decisions.append(Decision(card, ISSUED))
    return _unsuppress_leaned_on(decisions)


def _leaned_on(rule_id: str) -> set[str]:
    rule = rule_by_id(rule_id)
    return {other.rule_id for other in rule.leans_on} if rule else set()


def _unsuppress_leaned_on(decisions: list[Decision]) -> list[Decision]:
    """A card that a returned card relies on is returned too, locked out or not (`Rule.leans_on`)."""
    shown = {d.card.rule_id for d in decisions if d.status == ISSUED}
    needed = {rule_id for rule in shown for rule_id in _leaned_on(rule)}
    return [Decision(d.card, ISSUED) if d.status == SUPPRESSED and d.card.rule_id in needed else d for d in decisions]


def returned(decisions: Iterable[Decision]) -> list[Card]:
    return [d.card for d in decisions if d.status == ISSUED]


# -- the runtime: the site file plus the shared lockout state ---------------------------------------
class LockReader(Protocol):
    def locks(self, patient_hash: str, keys: Iterable[LockKey]) -> dict[LockKey, Lock]: ...

    def record_answers(self, service_id: str, entries: Iterable, now: datetime,
                       flush: Callable[[], None] | None = None) -> int: ...


class Governance:
    """What the pipeline asks per hook call (`apply`) and per feedback (`record_feedback`).

    Without a site file nothing is read or written: every card is returned, as before issue 13."""

    def __init__(self, site: SiteConfig | None = None, lockouts: LockReader | None = None,
                 on_fail_open: Callable[[str], None] | None = None, flush_cards: Callable[[], None] | None = None):
        self.site = site or SiteConfig()
        self.lockouts = lockouts if self.site.locks_anything else None
        self.on_fail_open = on_fail_open or (lambda reason: None)
        self.flush_cards = flush_cards

    @property
    def rules_off(self) -> frozenset[str]:
        return self.site.rules_off

    def apply(self, hook: str, patient_hash: str, cards: Sequence[Card], now: datetime) -> list[Decision]:
        keys = lock_keys(cards, hook, self.site)
        locks: Mapping[LockKey, Lock] = {}
        if keys and self.lockouts is not None:
            try:
                locks = self.lockouts.locks(patient_hash, keys)
            except Exception as error:  # unknown is not "answered": show the card (fail open)
                reason = getattr(error, "reason", type(error).__name__)
                log.warning("lockouts unreadable: cards shown", extra={"reason": reason, "count": len(keys)})
                self.on_fail_open(reason)
        return decide(cards, hook, self.site, locks, now)

    def record_feedback(self, service_id: str, hook: str, entries: Sequence, now: datetime) -> int:
        if hook != PATIENT_VIEW or self.lockouts is None:
            return 0  # order hooks never lock out
        try:
            return self.lockouts.record_answers(service_id, entries, now, self.flush_cards)
        except Exception as error:  # the feedback itself is stored; the card will simply show again
            log.error("lockout not recorded", extra={"error_type": type(error).__name__, "count": len(entries)})
            return 0
