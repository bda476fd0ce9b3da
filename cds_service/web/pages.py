"""The rule pages (every card's `source.url`): plain, printable HTML, no JavaScript.

Templates are `string.Template` files in `templates/`; every value is HTML-escaped
here before it is put in.
"""
from __future__ import annotations

from functools import cache
from html import escape
from importlib import resources
from string import Template

from cds_service.pathway.guideline import guideline_line
from cds_service.pathway.settings import PathwaySettings, threshold_of
from cds_service.rules.framework import Rule
from cds_service.site_config import ACTIVE, GUIDELINE, OFF, SILENT, SiteConfig

HOOK_HEADINGS = (
    ("patient-view", "Patient view (hook patient-view)"),
    ("order", "Orders (hooks order-select and order-sign)"),
)


@cache
def _template(name: str) -> Template:
    return Template((resources.files("cds_service.web") / "templates" / name).read_text(encoding="utf-8"))


def _page(title: str, body: str) -> str:
    return _template("base.html").substitute(title=escape(title), body=body)


def _indicator_class(indicator: str) -> str:
    """CSS class of the most urgent indicator named ("warning / info" -> warning)."""
    for level in ("critical", "warning", "info"):
        if level in indicator:
            return level
    return "info"


def _setting_value(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _thresholds_html(rule: Rule, settings: PathwaySettings) -> str:
    if not rule.thresholds:
        return '<p class="muted">No configurable threshold: the rule follows the guideline statement as written.</p>'
    rows = []
    for name in rule.thresholds:
        source = threshold_of(name)
        rows.append(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
                escape(name),
                _value_html(settings, name),
                escape(source.meaning if source else ""),
                escape(source.source if source else ""),
            )
        )
    return (
        "<table><thead><tr><th>setting</th><th>value</th><th>meaning</th><th>source</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _value_html(settings: PathwaySettings, name: str) -> str:
    """The value in force; a site's own value also names the guideline's (issue 13)."""
    value, guideline = getattr(settings, name), getattr(GUIDELINE, name)
    shown = escape(_setting_value(value))
    if value == guideline:
        return shown
    return (f'{shown}<div class="site-setting">site setting: {shown} '
            f"(guideline: {escape(_setting_value(guideline))})</div>")


def _site_html(rule: Rule, site: SiteConfig) -> str:
    """The rule's mode at this site and, for patient-view rules, its lockout after feedback."""
    mode = site.mode(rule.rule_id)
    explained = {ACTIVE: "cards are shown", SILENT: "evaluated and logged, cards not shown",
                 OFF: "not evaluated"}[mode]
    parts = [f'<p class="site">Mode at this site: <strong class="mode">{escape(mode)}</strong> ({explained}).']
    if rule.hook == "patient-view" and mode == ACTIVE:
        days = {level: site.lockout_days_for(rule.rule_id, level)
                for level in ("critical", "warning", "info") if level in rule.indicator}
        locked = ", ".join(f"{level} cards {n} days" for level, n in days.items() if n)
        parts.append(f" Lockout after a clinician's answer (same patient, same evidence): {escape(locked or 'none')}.")
    return "".join(parts) + "</p>"


# A card carries at most 2 quotes and 5 facts (RULES.md "Card text (R2)"): the page has the full evidence.
CARD_NOTE = (
    '<p class="muted">A card quotes at most two of these lines and lists at most five facts; every line the '
    "rule rests on is here. The record references of the facts a card used are kept in the card log.</p>"
)


def _guideline_html(rule: Rule) -> str:
    if not rule.guideline_lines:
        return '<p class="muted">No guideline line: this card is about the service, not a clinical rule.</p>'
    quotes = [
        f"<blockquote>{escape(guideline_line(n))} <span class=\"muted\">(G:{n})</span></blockquote>"
        for n in rule.guideline_lines
    ]
    return "\n".join([CARD_NOTE, *quotes])


def _evidence_html(rule: Rule) -> str:
    if not rule.evidence:
        return ""
    return f"<h2>Evidence quoted by the guideline</h2>\n<p>{escape(rule.evidence)}</p>"


def rule_page_html(
    rule: Rule, settings: PathwaySettings, index_url: str = "../rules", site: SiteConfig | None = None
) -> str:
    """`settings`: the values in force (shown, and in the title and text); `site`: the modes and lockouts."""
    body = _template("rule_page.html").substitute(
        site_section=_site_html(rule, site or SiteConfig()),
        index_url=escape(index_url),
        title=escape(rule.title_for(settings)),
        rule_id=escape(rule.rule_id),
        hook=escape(rule.hook),
        indicator=escape(rule.indicator),
        indicator_class=_indicator_class(rule.indicator),
        checks=escape(rule.checks_for(settings)),
        evidence_section=_evidence_html(rule),
        thresholds=_thresholds_html(rule, settings),
        guideline=_guideline_html(rule),
    )
    return _page(f"{rule.rule_id}: {rule.title_for(settings)}", body)


def _index_row(rule: Rule, site: SiteConfig) -> str:
    lines = ", ".join(f"G:{n}" for n in rule.guideline_lines)
    return (
        f'<tr><td><a class="rule-id" href="rules/{escape(rule.rule_id)}">{escape(rule.rule_id)}</a></td>'
        f"<td>{escape(rule.title_for(site.pathway))}</td>"
        f'<td><span class="indicator {_indicator_class(rule.indicator)}">{escape(rule.indicator)}</span></td>'
        f"<td>{escape(lines)}</td><td>{escape(site.mode(rule.rule_id))}</td></tr>"
    )


def rule_index_html(rules: list[Rule], site: SiteConfig | None = None) -> str:
    """`site`: the values (titles) and modes in force; none: the guideline's, every rule active."""
    site = site or SiteConfig()
    sections = []
    for hook, heading in HOOK_HEADINGS:
        chosen = [r for r in rules if r.hook == hook or (hook == "order" and r.hook != "patient-view")]
        if not chosen:
            continue
        rows = "".join(_index_row(r, site) for r in chosen)
        sections.append(
            f"<h2>{escape(heading)}</h2>\n<table><thead><tr><th>rule</th><th>what it says</th><th>indicator</th>"
            f"<th>guideline</th><th>mode at this site</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    body = _template("rule_index.html").substitute(sections="\n".join(sections))
    return _page("Iliac vein pathway: rules", body)
