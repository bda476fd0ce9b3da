"""Rule pages: what the rule checks, its indicator, thresholds with values and sources, guideline text, evidence."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.registry import all_rules
from cds_service.web.pages import rule_index_html, rule_page_html

RULES = tuple(all_rules())
RULE = {r.rule_id: r for r in all_rules()}


class _Checker(HTMLParser):
    """Collects text and fails on unbalanced tags (a broken template would show)."""

    VOID = {"meta", "br", "hr", "img", "link", "input"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> after {self.stack[-3:]}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def text_of(html: str) -> str:
    checker = _Checker()
    checker.feed(html)
    assert checker.stack == [], checker.stack
    return " ".join(" ".join(checker.text).split())


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.rule_id)
def test_every_rule_page_is_well_formed(rule):
    html = rule_page_html(rule, PathwaySettings())
    assert html.startswith("<!doctype html>")
    text = text_of(html)
    assert rule.rule_id in text and rule.title in text and rule.indicator in text
    for line in rule.guideline_lines:
        assert f"(G:{line})" in text


def test_page_shows_thresholds_with_values_and_sources():
    text = text_of(rule_page_html(RULE["NIVL-STENT-CANDIDATE"], PathwaySettings()))
    assert "ivus_stenosis_threshold_pct 61 " in text
    assert "G:21, G:31" in text
    assert "min_stent_length_mm 60 " in text
    assert "82.6 % of migrations, 16.2 % mortality" in text
    assert "Stent length must be ≥60 mm to minimize migration risk" in text


def test_page_shows_a_site_setting():
    text = text_of(rule_page_html(RULE["NIVL-BELOW-THRESHOLD"], PathwaySettings(ivus_stenosis_threshold_pct=65)))
    assert "ivus_stenosis_threshold_pct 65 " in text


def test_page_without_thresholds_says_so():
    text = text_of(rule_page_html(RULE["NIVL-DYNAMIC-LESION"], PathwaySettings()))
    assert "No configurable threshold" in text
    assert "Do not intervene on dynamic lesions that vary with breathing or position" in text


def test_page_escapes_html():
    from dataclasses import replace

    rule = replace(RULE["NIVL-DYNAMIC-LESION"], titled="<script>alert(1)</script>")
    html = rule_page_html(rule, PathwaySettings())
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_index_lists_every_rule_with_a_link():
    html = rule_index_html(list(RULES))
    text = text_of(html)
    for rule in RULES:
        assert f'href="rules/{rule.rule_id}"' in html
        assert rule.title in text
    assert "Patient view" in text


def test_index_groups_order_rules_apart():
    text = text_of(rule_index_html(all_rules()))
    assert text.index("NIVL-STENT-CANDIDATE") < text.index("Orders (hooks order-select and order-sign)")
    assert text.index("Orders (hooks order-select and order-sign)") < text.index("STENT-LENGTH")
