"""What every card has in common: source, rule topic, override reasons, evidence list."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from cds_service.pathway.facts import Evidence
from cds_service.pathway.findings import Finding, Indicator
from cds_service.protocol.card_text import DETAIL_MAX, FACT_BULLETS_MAX, QUOTES_MAX, RULE_LINK_LABEL
from cds_service.protocol.cards import OVERRIDE_SYSTEM, RULES_SYSTEM, Card, Coding, Link, Source, Suggestion
from cds_service.rules.plain_text import fact_words, human_units

SOURCE_LABEL = "Iliac vein pathway CDS"
FACTS_SHOWN = FACT_BULLETS_MAX  # RULES.md "Card text (R2)": at most 5 fact bullets

# Why a clinician may override a card about an order, and a card about the patient's work-up.
ORDER_OVERRIDE_REASONS: tuple[tuple[str, str], ...] = (
    ("anatomy-confirmed", "Patient-specific anatomy confirmed by the vascular team"),
    ("documented-elsewhere", "Reason documented in a note elsewhere"),
    ("will-revise", "Will revise the order"),
    ("not-applicable", "Does not apply to this patient"),
)
PATIENT_OVERRIDE_REASONS: tuple[tuple[str, str], ...] = (
    ("already-addressed", "Already ordered or done (not yet in the record)"),
    ("documented-elsewhere", "Reason documented in a note elsewhere"),
    ("vascular-team-plan", "Managed per the vascular team's plan"),
    ("not-applicable", "Does not apply to this patient"),
)
OVERRIDE_REASON_LABELS: dict[str, str] = dict(ORDER_OVERRIDE_REASONS + PATIENT_OVERRIDE_REASONS)


def override_reasons(about_an_order: bool = True) -> list[Coding]:
    reasons = ORDER_OVERRIDE_REASONS if about_an_order else PATIENT_OVERRIDE_REASONS
    return [Coding(OVERRIDE_SYSTEM, code, display) for code, display in reasons]


def evidence_markdown(evidence: Sequence[Evidence]) -> str:
    """The facts a card used in plain words with their dates, at most FACTS_SHOWN of them.

    The resource references are not shown: they stay on the finding for the card log."""
    lines = []
    for item in evidence[:FACTS_SHOWN]:
        when = f" ({item.when.date().isoformat()})" if item.when else ""
        lines.append(f"- {fact_words(item.display)}{when}")
    more = len(evidence) - FACTS_SHOWN
    if more > 0:
        lines.append(f"\n{more} more {'fact is' if more == 1 else 'facts are'} on record, not listed here.")
    return "\n".join(lines)


def quotes_markdown(quotes: Sequence[str]) -> str:
    """Each guideline quote its own paragraph, so that no client runs two quotes together."""
    return "\n\n".join(f"> {quote}" for quote in quotes)


def detail_markdown(reasoning: str, evidence: Sequence[Evidence], quotes: Sequence[str]) -> str:
    """Card detail: the reasoning and action first, then the facts used, then at most 2 guideline quotes.

    A detail that would pass DETAIL_MAX characters quotes less (the rule page quotes every line)."""
    head = [human_units(reasoning.strip())]
    if evidence:
        head.append("**Facts used**\n\n" + evidence_markdown(evidence))
    shown = list(quotes[:QUOTES_MAX])
    while True:
        parts = head + (["**Guideline**\n\n" + quotes_markdown(shown)] if shown else [])
        detail = "\n\n".join(parts)
        if len(detail) <= DETAIL_MAX or not shown:
            return detail
        shown.pop()


def rule_link(url: str) -> Link:
    """The link every card carries: clients such as the CDS Hooks sandbox do not open source.url."""
    return Link(label=RULE_LINK_LABEL, url=url, type="absolute")


def make_card(
    finding: Finding,
    summary: str,
    detail: str,
    rule_url: Callable[[str], str],
    rule_title: str = "",
    suggestions: Sequence[Suggestion] = (),
) -> Card:
    indicator = finding.indicator
    url = rule_url(finding.rule_id)
    return Card(
        summary=summary,
        indicator=indicator.value,
        detail=detail,
        source=Source(
            label=SOURCE_LABEL,
            url=url,
            topic=Coding(RULES_SYSTEM, finding.rule_id, rule_title),
        ),
        suggestions=list(suggestions),
        selection_behavior="at-most-one" if suggestions else "",
        override_reasons=(
            override_reasons(about_an_order=finding.order_ref is not None)
            if indicator in (Indicator.WARNING, Indicator.CRITICAL)
            else []
        ),
        links=[rule_link(url)],
    )


def shorten(text: str, limit: int = 139) -> str:
    """Keep a summary under the spec's 140 characters without cutting a word in half."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def by_urgency(cards_with_order: Iterable[tuple[Card, int]]) -> list[Card]:
    """Critical, then warning, then info; within an indicator, in pathway order."""
    ranked = sorted(cards_with_order, key=lambda pair: (Indicator(pair[0].indicator).urgency, pair[1]))
    return [card for card, _ in ranked]
