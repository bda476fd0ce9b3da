"""What every card has in common: source, rule topic, override reasons, evidence list."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from cds_service.pathway.facts import Evidence
from cds_service.pathway.findings import Finding, Indicator
from cds_service.protocol.cards import OVERRIDE_SYSTEM, RULES_SYSTEM, Card, Coding, Link, Source, Suggestion
from cds_service.smart.links import smart_app_link

SOURCE_LABEL = "Iliac vein pathway CDS"

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


def evidence_markdown(evidence: Iterable[Evidence]) -> str:
    """The facts a card used, each with the FHIR resource it came from."""
    lines = []
    for item in evidence:
        when = f", {item.when.date().isoformat()}" if item.when else ""
        lines.append(f"- {item.display} (`{item.ref}`{when})")
    return "\n".join(lines)


def detail_markdown(reasoning: str, evidence: Sequence[Evidence], guideline: str) -> str:
    """Card detail: the reasoning, the facts used, and the guideline statement."""
    parts = [reasoning.strip()]
    if evidence:
        parts.append("**Facts used**\n\n" + evidence_markdown(evidence))
    if guideline:
        parts.append("**Guideline**\n\n" + "\n".join(f"> {line}" for line in guideline.strip().splitlines()))
    return "\n\n".join(parts)


def make_card(
    finding: Finding,
    summary: str,
    detail: str,
    rule_url: Callable[[str], str],
    rule_title: str = "",
    suggestions: Sequence[Suggestion] = (),
    links: Sequence[Link] = (),
) -> Card:
    indicator = finding.indicator
    return Card(
        summary=summary,
        indicator=indicator.value,
        detail=detail,
        source=Source(
            label=SOURCE_LABEL,
            url=rule_url(finding.rule_id),
            topic=Coding(RULES_SYSTEM, finding.rule_id, rule_title),
        ),
        suggestions=list(suggestions),
        selection_behavior="at-most-one" if suggestions else "",
        links=list(links),
        override_reasons=(
            override_reasons(about_an_order=finding.order_ref is not None)
            if indicator in (Indicator.WARNING, Indicator.CRITICAL)
            else []
        ),
    )


def app_link(finding: Finding, public_base_url: str) -> Link:
    """The smart link that opens the pathway app (docs/smart-app.md) from this finding's card, with the
    appContext `<rule id>[;<draft order id>]`: an order card names its draft order ("DeviceRequest/abc")."""
    order_ref = finding.order_ref or ""
    return smart_app_link(public_base_url, finding.rule_id, order_ref if "/" in order_ref else None)


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
