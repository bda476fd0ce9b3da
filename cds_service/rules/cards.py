"""What every card has in common: source, rule topic, rule link, override reasons, the facts and quotes of
its detail; and the response-level step that gives each order to one card (`one_card_per_action`)."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from cds_service.pathway.facts import Evidence
from cds_service.pathway.findings import Finding, Indicator
from cds_service.protocol.card_text import DETAIL_MAX, FACT_BULLETS_MAX, QUOTES_MAX, RULE_LINK_LABEL
from cds_service.protocol.cards import OVERRIDE_SYSTEM, RULES_SYSTEM, Action, Card, Coding, Link, Source, Suggestion
from cds_service.rules.plain_text import fact_words, human_units
from cds_service.smart.links import smart_app_link

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
# Offered by one card only: DVT-DUPLEX for a negative duplex whose extent is not recorded (RULES R2 item 8).
STUDY_WAS_COMPLETE: tuple[str, str] = ("study-was-complete", "The study was complete (common femoral through calf veins)")
OVERRIDE_REASON_LABELS: dict[str, str] = dict(ORDER_OVERRIDE_REASONS + PATIENT_OVERRIDE_REASONS + (STUDY_WAS_COMPLETE,))


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


def evidence_sentence(evidence: Sequence[Evidence]) -> str:
    """The facts in one sentence: a card that names several causes lists them so, not as bullets."""
    return "; ".join(
        fact_words(item.display) + (f" ({item.when.date().isoformat()})" if item.when else "") for item in evidence
    ) + "."


def detail_markdown(
    reasoning: str, evidence: Sequence[Evidence], quotes: Sequence[str], facts_in_one_sentence: bool = False
) -> str:
    """Card detail: the reasoning and action first, then the facts used, then at most 2 guideline quotes.

    A detail that would pass DETAIL_MAX characters quotes less (the rule page quotes every line)."""
    head = [human_units(reasoning.strip())]
    if evidence and facts_in_one_sentence:
        head.append("**Facts used:** " + evidence_sentence(evidence))
    elif evidence:
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
    links: Sequence[Link] = (),
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
        links=[rule_link(url), *links],
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


# ---------------------------------------------------------------- one card per action (RULES.md Card text R2)

ActionKey = tuple[str, frozenset]  # ("create", the order's codings and body site) or ("delete", {draft order id})


def _codings(concept: object) -> frozenset[tuple[str, str]]:
    codings = concept.get("coding") or [] if isinstance(concept, dict) else []
    return frozenset((c.get("system", ""), c["code"]) for c in codings if isinstance(c, dict) and c.get("code"))


def _action_keys(action: Action) -> set[ActionKey]:
    """What an action asks for: a create by its order's codes and body site (a left and a right duplex share
    CPT 93971 but are two orders), a delete by the draft order's bare id."""
    if action.type == "delete":
        return {("delete", frozenset({action.resource_id.split("/")[-1]}))}
    if action.type != "create" or not isinstance(action.resource, dict):
        return set()  # updates: the corrections to one draft order travel together (order_fixes)
    resource = action.resource
    ordered = _codings(resource.get("code") or resource.get("medicationCodeableConcept"))
    sites = frozenset().union(*(_codings(site) for site in resource.get("bodySite") or []))
    return {("create", ordered | {("bodySite", f"{system}|{code}") for system, code in sites})} if ordered else set()


def _card_keys(card: Card) -> set[ActionKey]:
    return {key for s in card.suggestions for a in s.actions for key in _action_keys(a)}


def _precedence(card: Card, position: int) -> tuple[int, int, int]:
    """Who carries a shared suggestion: the higher indicator, then the more specific card (the one
    asking for fewer orders), then the earlier card."""
    return Indicator(card.indicator).urgency, len(_card_keys(card)), position


def one_card_per_action(cards: list[Card]) -> list[Card]:
    """No two cards of a response ask for the same order: the card with precedence keeps the
    suggestion, the others lose it and name the action and the card that offers it."""
    carrier: dict[ActionKey, int] = {}
    for position, card in enumerate(cards):
        for key in _card_keys(card):
            held = carrier.get(key)
            if held is None or _precedence(card, position) < _precedence(cards[held], held):
                carrier[key] = position
    for position, card in enumerate(cards):
        elsewhere = {key: carrier[key] for key in _card_keys(card) if carrier[key] != position}
        if elsewhere:
            _hand_over(card, elsewhere, cards)
    return cards


def _hand_over(card: Card, elsewhere: dict[ActionKey, int], cards: list[Card]) -> None:
    """Drop the actions another card carries; the detail says where the suggestion is."""
    notes = []
    for suggestion in card.suggestions:
        for action in list(suggestion.actions):
            owners = {elsewhere[key] for key in _action_keys(action) if key in elsewhere}
            if owners:
                suggestion.actions.remove(action)
                other = cards[min(owners)].source.topic
                notes.append(f"{action.description}: suggested on the card “{other.display if other else ''}”.")
    card.suggestions = [s for s in card.suggestions if s.actions]
    if not card.suggestions:
        card.selection_behavior = ""
    card.detail = _with_notes(card.detail, notes)


def _with_notes(detail: str, notes: list[str]) -> str:
    """The notes at the end of the reasoning, before the facts and the quotes."""
    note = " ".join(dict.fromkeys(notes))
    for heading in ("**Facts used", "**Guideline**"):
        at = detail.find("\n\n" + heading)
        if at >= 0:
            return f"{detail[:at]}\n\n{note}{detail[at:]}"
    return f"{detail}\n\n{note}" if detail else note
