"""The card link that opens the pathway app, and the CDS Hooks invariants of smart links."""
import pytest

from cds_service.protocol.cards import Card, CardInvariantError, Link, Source
from cds_service.smart.links import parse_app_context, smart_app_link


def test_the_link_has_the_issue_shape():
    link = smart_app_link("https://cds.example.org/", "NIVL-STENT-CANDIDATE")
    assert link.to_json() == {"label": "Open the iliac vein pathway", "url": "https://cds.example.org/app/launch",
                              "type": "smart", "appContext": "NIVL-STENT-CANDIDATE"}


def test_a_draft_order_id_follows_the_rule_id_after_a_semicolon():
    link = smart_app_link("https://cds.example.org", "STENT-LENGTH", "DeviceRequest/d-1")
    assert link.to_json()["appContext"] == "STENT-LENGTH;DeviceRequest/d-1"
    assert parse_app_context(link.app_context) == ("STENT-LENGTH", "DeviceRequest/d-1")
    assert parse_app_context("NIVL-WORKUP") == ("NIVL-WORKUP", "")


@pytest.mark.parametrize("base,rule,draft", [("cds.example.org", "R", None), ("https://x", "", None),
                                             ("https://x", "A;B", None), ("https://x", "R", "a;b")])
def test_bad_inputs_are_refused(base, rule, draft):
    with pytest.raises(ValueError):
        smart_app_link(base, rule, draft)


def _card(*links: Link) -> Card:
    return Card(summary="s", indicator="info", source=Source(label="x"), links=list(links))


def test_a_card_with_the_smart_link_serializes_next_to_a_rule_page_link():
    card = _card(Link("Rule NIVL-WORKUP", "https://cds.example.org/rules/NIVL-WORKUP"),
                 smart_app_link("https://cds.example.org", "NIVL-WORKUP"))
    links = card.to_json()["links"]
    assert links[0] == {"label": "Rule NIVL-WORKUP", "url": "https://cds.example.org/rules/NIVL-WORKUP", "type": "absolute"}
    assert links[1]["type"] == "smart" and links[1]["appContext"] == "NIVL-WORKUP"


def test_smart_link_invariants():
    with pytest.raises(CardInvariantError):
        _card(Link("App", "/app/launch", type="smart")).to_json()  # the launch URL must be absolute
    with pytest.raises(CardInvariantError):
        _card(Link("App", "https://x/app/launch", type="absolute", app_context="R")).to_json()
    with pytest.raises(CardInvariantError):
        _card(Link("", "https://x/app/launch", type="smart")).to_json()
