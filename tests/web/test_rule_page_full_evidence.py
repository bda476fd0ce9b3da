"""The rule page has the full evidence a card no longer carries (RULES.md "Card text (R2)")."""
from __future__ import annotations

from html import escape

import pytest

from cds_service.pathway.guideline import guideline_line
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.registry import SERVICE_CARDS, all_rules
from cds_service.web.pages import rule_page_html

QUOTING = [r for r in all_rules() if len(r.guideline_lines) > 2]


@pytest.mark.parametrize("rule", QUOTING, ids=lambda r: r.rule_id)
def test_the_page_quotes_every_line_the_card_leaves_out(rule):
    html = rule_page_html(rule, PathwaySettings())
    for n in rule.guideline_lines:
        assert f"(G:{n})" in html and escape(guideline_line(n)) in html
    assert "A card quotes at most two of these lines" in html


def test_a_service_card_page_says_it_has_no_guideline_line():
    [data] = [r for r in SERVICE_CARDS if r.rule_id == "DATA-UNAVAILABLE"]
    assert "No guideline line" in rule_page_html(data, PathwaySettings())
