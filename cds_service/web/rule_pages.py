"""Pages a person reads: the rule catalogue (linked from every card's source.url)."""
from __future__ import annotations

from flask import Blueprint, Response

from cds_service.errors import NotFound
from cds_service.rules.registry import all_rules, rule_by_id
from cds_service.web.pages import rule_index_html, rule_page_html
from cds_service.web.state import state

HTML = "text/html; charset=utf-8"

rule_pages = Blueprint("rule_pages", __name__)


@rule_pages.get("/rules")
def rule_index() -> Response:
    return Response(rule_index_html(all_rules(), state()["pipeline"].site), content_type=HTML)


@rule_pages.get("/rules/<rule_id>")
def rule_page(rule_id: str) -> Response:
    rule = rule_by_id(rule_id)
    if rule is None:
        raise NotFound("No rule with this id.")
    site = state()["pipeline"].site  # the values and modes in force at this site
    return Response(rule_page_html(rule, site.pathway, site=site), content_type=HTML)
