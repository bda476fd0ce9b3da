"""governance: the evidence fingerprint and the returned / silent / suppressed decision (issue 13)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import MappingProxyType

import pytest

from cds_service.fixtures import all_fixtures
from cds_service.governance import (
    ISSUED,
    SILENCED,
    SUPPRESSED,
    Lock,
    decide,
    returned,
)
from cds_service.pathway.facts import Evidence
from cds_service.pathway.findings import Finding, Indicator
from cds_service.rules.cards import make_card
from cds_service.rules.fingerprint import evidence_fingerprint, fact_refs, stamp_evidence
from cds_service.rules.post_stent_followup import PostStentFollowup
from cds_service.site_config import RulePolicy, SiteConfig
from tests.helpers.governance import Service, fixture_request

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
WEIGHT = Evidence("Observation/w1", "Body weight 80 kg", NOW - timedelta(days=2))
DUPLEX = Evidence("DiagnosticReport/d1", "Leg duplex: no thrombus", NOW - timedelta(days=5))


@dataclass(frozen=True, kw_only=True)
class Sided(Finding):
    side: str = "left"


@dataclass(frozen=True, kw_only=True)
class Dosed(Finding):
    dose_mg: int


def card(rule_id="DVT-DUPLEX", indicator=Indicator.WARNING, evidence=(WEIGHT,), order_ref=None):
    finding = Sided(rule_id=rule_id, indicator=indicator, evidence=tuple(evidence), order_ref=order_ref)
    made = make_card(finding, "summary", "detail", lambda rule: f"https://cds.example.test/rules/{rule}")
    return stamp_evidence(made, finding)


def dosed(rule_id, dose_mg, *evidence):
    return Dosed(rule_id=rule_id, indicator=Indicator.INFO, dose_mg=dose_mg, evidence=tuple(evidence))


def followup(days_since_stent):
    return PostStentFollowup(rule_id="POST-STENT-FOLLOWUP", indicator=Indicator.INFO, evidence=(WEIGHT,),
                             stent_date="2026-09-01", due_day=30, missed_days=(30,), last_imaging_date="",
                             days_since_stent=days_since_stent)


def site(lockout_days=7, **rules) -> SiteConfig:
    return SiteConfig(lockout_days=lockout_days, rules=MappingProxyType({k: RulePolicy(**v) for k, v in rules.items()}))


def test_fingerprint_changes_with_a_new_reference_a_new_value_or_a_new_date():
    base = evidence_fingerprint(dosed("R", 80, WEIGHT, DUPLEX))
    assert base == evidence_fingerprint(dosed("R", 80, DUPLEX, WEIGHT))
    changed = [
        dosed("R", 80, Evidence("Observation/w2", WEIGHT.display, WEIGHT.when), DUPLEX),
        dosed("R", 80, Evidence(WEIGHT.ref, "Body weight 95 kg", WEIGHT.when), DUPLEX),
        dosed("R", 80, Evidence(WEIGHT.ref, WEIGHT.display, NOW), DUPLEX),
        dosed("R", 90, WEIGHT, DUPLEX),
        dosed("OTHER", 80, WEIGHT, DUPLEX),
    ]
    assert len({base, *(evidence_fingerprint(f) for f in changed)}) == 1 + len(changed)


def test_fingerprint_ignores_the_days_counted_by_the_clock():
    assert evidence_fingerprint(followup(41)) == evidence_fingerprint(followup(42))


def test_fact_refs_name_the_order_first_and_each_reference_once():
    finding = Finding(rule_id="STENT-LENGTH", indicator=Indicator.CRITICAL, evidence=(WEIGHT, DUPLEX, WEIGHT),
                      order_ref="ServiceRequest/s1")
    assert fact_refs(finding) == ("ServiceRequest/s1", "Observation/w1", "DiagnosticReport/d1")


def test_modes_decide_what_is_returned():
    cards = [card("DVT-DUPLEX"), card("NIVL-WORKUP", Indicator.INFO), card("POST-STENT-ANTITHROMBOTIC", Indicator.INFO)]
    config = site(0, **{"NIVL-WORKUP": {"mode": "silent"}, "POST-STENT-ANTITHROMBOTIC": {"mode": "off"}})
    decisions = decide(cards, "patient-view", config, {}, NOW)
    assert [(d.card.rule_id, d.status) for d in decisions] == [("DVT-DUPLEX", ISSUED), ("NIVL-WORKUP", SILENCED)]
    assert returned(decisions) == [cards[0]]


def test_a_lock_holds_for_its_days_and_names_the_card_it_repeats():
    shown = card()
    locks = {(shown.rule_id, shown.evidence_fingerprint): Lock("answered-uuid", NOW)}
    config = site(3)
    (held,) = decide([shown], "patient-view", config, locks, NOW + timedelta(days=3) - timedelta(seconds=1))
    assert (held.status, held.repeats) == (SUPPRESSED, "answered-uuid")
    assert held.log_fields()["repeats_card"] == "answered-uuid"
    (expired,) = decide([shown], "patient-view", config, locks, NOW + timedelta(days=3))
    assert expired.status == ISSUED


def test_locks_never_apply_to_order_hooks_critical_cards_by_default_or_silent_rules():
    order_card = card("STENT-LENGTH", Indicator.CRITICAL, order_ref="ServiceRequest/s1")
    critical = card("DVT-ANTICOAGULATE", Indicator.CRITICAL)
    quiet = card("NIVL-WORKUP", Indicator.INFO)
    locks = {(c.rule_id, c.evidence_fingerprint): Lock("x", NOW) for c in (order_card, critical, quiet)}
    assert decide([order_card], "order-sign", site(30), locks, NOW)[0].status == ISSUED
    assert decide([critical], "patient-view", site(30), locks, NOW)[0].status == ISSUED
    named = site(0, **{"DVT-ANTICOAGULATE": {"lockout_days": 1}})
    assert decide([critical], "patient-view", named, locks, NOW)[0].status == SUPPRESSED
    silent = site(30, **{"NIVL-WORKUP": {"mode": "silent"}})
    assert decide([quiet], "patient-view", silent, locks, NOW)[0].status == SILENCED


@pytest.mark.slow
def test_every_patient_view_fixture_keeps_its_fingerprints_from_one_day_to_the_next(tmp_path):
    """A fingerprint that moved with the clock would make every lockout end the next day. It may move only
    when the card itself says something new the next day (a surveillance study that came due overnight is
    new evidence: the card names it, and shows again), and then it must move."""
    fixtures = [f for f in all_fixtures() if f.hook == "patient-view" and f.expected]
    service = Service(f"sqlite:///{tmp_path}/days.db", None, None)
    moved, stuck, new_news = [], [], 0
    for fixture in fixtures:
        body, now = fixture_request(fixture.id)
        said: list[dict[str, tuple[str, str]]] = []
        for day in (0, 1):
            service.clock["now"] = now + timedelta(days=day)
            before = {row.card_uuid for row in service.log()}
            summaries = {card["uuid"]: card["summary"] for card in service.call(body)}
            said.append({r.rule_id: (r.evidence_fingerprint, summaries.get(r.card_uuid, ""))
                         for r in service.log() if r.card_uuid not in before})
        for rule in said[0].keys() & said[1].keys():
            (print0, summary0), (print1, summary1) = said[0][rule], said[1][rule]
            if summary0 == summary1 and print0 != print1:
                moved.append((fixture.id, rule))
            if summary0 != summary1:
                new_news += 1
                if print0 == print1:
                    stuck.append((fixture.id, rule))
    assert len(fixtures) > 50
    assert moved == []
    assert stuck == []
    assert new_news >= 1  # stent-3-years-last-imaging-2-years-ago: month 36 comes due overnight


def test_a_card_that_a_returned_card_relies_on_is_never_locked_out():
    pelvic = card("DVT-PELVIC-IMAGING")
    mass = card("MASS-CHARACTERIZE", evidence=(DUPLEX,))
    locks = {(pelvic.rule_id, pelvic.evidence_fingerprint): Lock("answered", NOW)}
    both = decide([pelvic, mass], "patient-view", site(7), locks, NOW)
    assert [d.status for d in both] == [ISSUED, ISSUED]
    alone = decide([pelvic], "patient-view", site(7), locks, NOW)
    assert [d.status for d in alone] == [SUPPRESSED]
