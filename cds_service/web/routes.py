"""Routes for pages a person reads: the rule catalogue (linked from every card's source.url)."""
from __future__ import annotations

from flask import Flask, Response

from cds_service.config import Settings
from cds_service.errors import NotFound
from cds_service.pathway.catalogue import all_rules, rule_by_id
from cds_service.site_config import SiteConfig


def register_pages(app: Flask, settings: Settings, site: SiteConfig | None = None) -> None:
    site = site or SiteConfig()  # the site file's values and modes (issue 13); none: the guideline's

    @app.get("/rules")
    def rule_index():
        from cds_service.web.pages import rule_index_html

        return Response(rule_index_html(all_rules(), site), content_type="text/html; charset=utf-8")

    @app.get("/rules/<rule_id>")
    def rule_page(rule_id: str):
        rule = rule_by_id(rule_id)
        if rule is None:
            raise NotFound("No rule with this id.")
        from cds_service.web.pages import rule_page_html

        return Response(rule_page_html(rule, site.pathway, site=site), content_type="text/html; charset=utf-8")

    if settings.dev_mode:
        from cds_service.web.fixtures_fhir import register_fixtures_fhir

        register_fixtures_fhir(app)
