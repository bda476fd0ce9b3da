"""The smart link to the pathway app is a declaration on the rule unit (`Rule(opens_app=True)`)."""
from __future__ import annotations

import dataclasses

from cds_service.pathway.findings import Finding, Indicator
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import ORDER_HOOKS, PATIENT_VIEW, Rule, SuggestContext
from cds_service.rules.registry import all_rules

# RULES.md revision 2 adds POST-STENT-THROMBOSIS to this list (issue 16) when its unit lands.
OPENS_THE_APP = {
    "NIVL-STENT-CANDIDATE", "STENT-LENGTH", "STENT-DIAMETER", "POST-STENT-FOLLOWUP", "POST-STENT-THROMBOSIS", "NIVL-WORKUP",
}
BASE = "https://cds.example.test"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Said(Finding):
    said: str = "hi"


def rule(opens_app: bool, hooks: tuple[str, ...] = PATIENT_VIEW) -> Rule:
    return Rule("TEST-APP", hooks=hooks, indicator="info", guideline=(3,), titled="Test", fires_when="always",
                evaluate=lambda *args: Said(indicator=Indicator.INFO), render=lambda f, s: ("summary", "reasoning"),
                opens_app=opens_app)


def card_json(r: Rule, finding: Finding, public_base_url: str = BASE) -> dict:
    card = r.card(finding, PathwaySettings(), lambda rule_id: f"{BASE}/rules/{rule_id}", SuggestContext("p1"),
                  public_base_url=public_base_url)
    return card.to_json()


def test_exactly_the_issue_16_rules_declare_the_app_link():
    assert {r.rule_id for r in all_rules() if r.opens_app} == OPENS_THE_APP


def smart_links(card: dict) -> list[dict]:
    """The card's smart links; every card also links its rule page ("Rule and evidence")."""
    assert card["links"][0]["label"] == "Rule and evidence"
    return [link for link in card["links"] if link["type"] == "smart"]


def test_a_patient_card_links_the_app_with_its_rule_id():
    links = smart_links(card_json(rule(True), Said(indicator=Indicator.INFO, rule_id="TEST-APP")))
    assert links == [{"label": "Open the iliac vein pathway", "url": f"{BASE}/app/launch", "type": "smart",
                      "appContext": "TEST-APP"}]


def test_an_order_card_names_its_draft_order_in_the_app_context():
    finding = Said(indicator=Indicator.INFO, rule_id="TEST-APP", order_ref="DeviceRequest/d-7")
    assert smart_links(card_json(rule(True, ORDER_HOOKS), finding))[0]["appContext"] == "TEST-APP;DeviceRequest/d-7"
    unnamed = Said(indicator=Indicator.INFO, rule_id="TEST-APP", order_ref="DeviceRequest")  # sent without an id
    assert smart_links(card_json(rule(True, ORDER_HOOKS), unnamed))[0]["appContext"] == "TEST-APP"


def test_no_link_without_the_declaration_or_without_a_public_url():
    finding = Said(indicator=Indicator.INFO, rule_id="TEST-APP")
    assert smart_links(card_json(rule(False), finding)) == []
    assert smart_links(card_json(rule(True), finding, public_base_url="")) == []
