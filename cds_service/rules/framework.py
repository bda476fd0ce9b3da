"""A rule unit: one clinical rule of RULES.md, declared once.

A unit module builds one `Rule` (or a small family of them) at its foot:

    RULE = Rule(
        "DVT-DUPLEX", hooks=PATIENT_VIEW, indicator="warning", guideline=(3, 4),
        titled="Rule out DVT first: complete duplex of the whole leg",
        fires_when="DVT not yet assessed ...",
        reads=("Condition", "Observation"), uses=("negative_study_valid_days",),
        evaluate=evaluate, render=render,
    )

`evaluate` reads facts and the assessment (patient-view: `(facts, assessment, settings)`;
order hooks: `(order, OrderContext)`) and returns a typed frozen `Finding` subclass or None.
`render(finding, settings)` gives the card's (summary, reasoning); `suggest(finding, SuggestContext)`
its suggestions (default: one `create` per proposal). Titles and "fires when" text may be
functions of `PathwaySettings` (`titled=lambda s: f"... {num(s.min_stent_length_mm)} mm"`),
so a threshold is never typed twice. `registry.py` lists the units.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from cds_service.pathway.findings import Finding
from cds_service.pathway.guideline import guideline_line, is_statement
from cds_service.pathway.settings import PathwaySettings, threshold_of
from cds_service.protocol.card_text import QUOTES_MAX
from cds_service.protocol.cards import Card, Suggestion
from cds_service.rules.cards import app_link, detail_markdown, make_card, shorten
from cds_service.rules.fingerprint import stamp_evidence
from cds_service.rules.plain_text import human_units
from cds_service.rules.suggested_orders import suggestion

PATIENT_VIEW: tuple[str, ...] = ("patient-view",)
ORDER_HOOKS: tuple[str, ...] = ("order-select", "order-sign")
DEFAULTS = PathwaySettings()

Text = str | Callable[[PathwaySettings], str]  # fixed text, or text built from the settings
Render = Callable[[Any, PathwaySettings], tuple[str, str]]


def num(value: object) -> str:
    """A number as a card shows it: 60.0 -> "60", 2.5 -> "2.5"."""
    return f"{value:g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


@dataclass(frozen=True)
class SuggestContext:
    """What a rule's suggestions may use besides the finding: whose record, which draft orders."""

    patient_id: str
    drafts: Any = None  # order hooks: the draft orders as sent (services/order_actions.DraftSet)


def create_suggestions(finding: Finding, ctx: SuggestContext) -> list[Suggestion]:
    """The default: one `create` suggestion per proposed order (none without a patient id)."""
    return [suggestion(p, ctx.patient_id) for p in finding.proposals] if ctx.patient_id else []


@dataclass(frozen=True, eq=False)
class Rule:  # eq=False: a rule is itself (hashable by identity), cross-references name the object
    """One rule of RULES.md: what it is, what it reads, how it decides, how its card reads."""

    rule_id: str
    hooks: tuple[str, ...]
    indicator: str  # as in RULES.md, e.g. "warning" or "warning / info"
    guideline: tuple[int, ...]  # lines of ../shared/guideline/000_2661f75dfd024a47.txt
    titled: Text  # the short human title
    fires_when: Text  # the "fires when" column of RULES.md, one or two sentences
    evaluate: Callable[..., Finding | None]
    render: Render
    reads: tuple[str, ...] = ()  # FHIR resource types its facts come from
    uses: tuple[str, ...] = ()  # PathwaySettings fields it uses
    evidence: str = ""  # figures quoted by the guideline
    # The guideline lines the card quotes (at most 2, each one of `guideline`); default: the first two statements
    # (section headings such as "If DVT is Confirmed" are not quoted on their own). A function
    # of the finding when the quote depends on the patient (no "twice daily" quote on a once-daily card).
    # The rule page quotes every line of `guideline`.
    quoted: tuple[int, ...] | Callable[[Any], tuple[int, ...]] = ()
    # A card that names several causes lists its facts in one sentence instead of bullets (RULES.md Card text).
    facts_in_one_sentence: bool = False
    # Order hooks: the reasoning names the order on its "**Order:**" line, so the facts list leaves the order
    # out (shown once); it stays among the facts the card log records.
    order_on_its_line: bool = False
    suggest: Callable[[Any, SuggestContext], list[Suggestion]] = create_suggestions
    # Order hooks: the order kinds it looks at, and whether it needs only the order (runs without the record).
    order_kinds: tuple[Any, ...] = ()
    order_only: bool = False
    # Order hooks: whether the rule could concern this order as far as the record tells (its scope gate),
    # `(order, OrderContext) -> bool`; the DATA-UNAVAILABLE card lists the rules that could but did not run.
    could_concern: Callable[..., bool] | None = None
    # Its card carries the smart link that opens the pathway app (docs/smart-app.md) next to the rule page.
    opens_app: bool = False
    # Rules whose card this rule's card relies on (it points at their study): a site may not hide them
    # while this rule is shown, and a lockout never hides them while this rule's card is returned.
    leans_on: tuple[Rule, ...] = ()

    def __post_init__(self) -> None:
        unknown = [name for name in self.uses if threshold_of(name) is None]
        if unknown:
            raise ValueError(f"{self.rule_id} uses settings that do not exist: {unknown}")
        if not callable(self.quoted):
            self._check_quotes(self.quoted)

    # -- the catalogue: rule pages, docs, discovery ----------------------------------------------------
    @property
    def hook(self) -> str:
        """"patient-view" or "order" (order-select and order-sign), as the rule pages group them."""
        return "patient-view" if self.hooks == PATIENT_VIEW else "order"

    @property
    def guideline_lines(self) -> tuple[int, ...]:
        return self.guideline

    def _check_quotes(self, lines: tuple[int, ...]) -> tuple[int, ...]:
        if len(lines) > QUOTES_MAX or not set(lines) <= set(self.guideline):
            raise ValueError(f"{self.rule_id} quotes {lines}: at most {QUOTES_MAX} of its lines {self.guideline}")
        return lines

    def quotes_for(self, finding: Finding | None = None) -> tuple[int, ...]:
        """The lines the card quotes: the chosen ones (for this finding), else the first two."""
        if callable(self.quoted):
            return self._check_quotes(self.quoted(finding))
        return self.quoted or tuple(n for n in self.guideline if is_statement(n))[:QUOTES_MAX]

    @property
    def thresholds(self) -> tuple[str, ...]:
        return self.uses

    def title_for(self, settings: PathwaySettings = DEFAULTS) -> str:
        return self.titled(settings) if callable(self.titled) else self.titled

    def checks_for(self, settings: PathwaySettings = DEFAULTS) -> str:
        return self.fires_when(settings) if callable(self.fires_when) else self.fires_when

    @property
    def title(self) -> str:
        """The title at the default settings (rule index, docs); cards use `title_for(settings)`."""
        return self.title_for(DEFAULTS)

    @property
    def checks(self) -> str:
        return self.checks_for(DEFAULTS)

    # -- evaluation and card -----------------------------------------------------------------------------
    def run(self, *args: Any) -> Finding | None:
        """The rule's finding, stamped with its ID, or None."""
        found = self.evaluate(*args)
        if found is None or found.rule_id == self.rule_id:
            return found
        return replace(found, rule_id=self.rule_id)

    def card(
        self,
        finding: Finding,
        settings: PathwaySettings,
        rule_url: Callable[[str], str],
        ctx: SuggestContext,
        evidence: Sequence[Any] | None = None,
        public_base_url: str = "",
    ) -> Card:
        """The card: summary and reasoning from `render`, the facts used, at most 2 guideline quotes, the
        suggestions, the link to the rule page (which has the full evidence) and, for a rule that
        `opens_app`, the smart link to the app at `public_base_url` (none without one)."""
        summary, reasoning = self.render(finding, settings)
        used = finding.evidence if evidence is None else evidence
        listed = [e for e in used if not (self.order_on_its_line and finding.order_ref and e.ref == finding.order_ref)]
        quotes = [f"{guideline_line(n)} (G:{n})" for n in self.quotes_for(finding)]
        detail = detail_markdown(reasoning, listed, quotes, self.facts_in_one_sentence)
        links = [app_link(finding, public_base_url)] if self.opens_app and public_base_url else []
        card = make_card(finding, shorten(human_units(summary)), detail, rule_url, self.title_for(settings),
                         self.suggest(finding, ctx), links)
        return stamp_evidence(card, finding, used)

    def __repr__(self) -> str:
        return f"Rule({self.rule_id})"


@dataclass(frozen=True)
class Fired:
    """A rule and the finding it gave: what the render step turns into a card."""

    rule: Rule
    finding: Finding
