"""DVT-IVC-FILTER-OPTION (G:9): consider a vena cava filter only if anticoagulation is contraindicated."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cds_service.pathway.assessment import Assessment
from cds_service.pathway.facts import ClinicalFacts
from cds_service.pathway.findings import Finding, Indicator, evidence_of
from cds_service.pathway.settings import PathwaySettings
from cds_service.protocol.cards import Card
from cds_service.rules.framework import PATIENT_VIEW, Rule, SuggestContext

# G:9's aside, quoted on the card only to a pregnant patient (RULES R2; the rule page quotes it whole).
PREGNANCY_ASIDE = "(same indications as non-pregnant patients)"


@dataclass(frozen=True, kw_only=True)
class DvtIvcFilterOption(Finding):
    contraindications: tuple[str, ...]  # what contraindicates anticoagulation, as recorded
    acute_pe: bool
    preliminary: bool
    pregnant: bool  # G:9's "same indications as non-pregnant patients" is said only to pregnant patients (R2)


def evaluate(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> DvtIvcFilterOption | None:
    proximal_dvt = a.dvt_confirmed and a.dvt_proximal_or_unspecified
    if not (proximal_dvt or a.acute_pe) or not a.anticoag_contraindications:
        return None
    return DvtIvcFilterOption(
        indicator=Indicator.WARNING,
        evidence=evidence_of(a.dvt_evidence, a.acute_pe_evidence, a.anticoag_contraindications, a.pregnancy_evidence),
        contraindications=tuple(c.display for c in a.anticoag_contraindications),
        acute_pe=a.acute_pe,
        preliminary=a.dvt_preliminary,
        pregnant=a.pregnant,
    )


def render(f: DvtIvcFilterOption, s: PathwaySettings) -> tuple[str, str]:
    summary = f"Anticoagulation contraindicated ({f.contraindications[0]}): consider a vena cava filter"
    pregnancy = " In pregnancy the indications are the same as in non-pregnant patients." if f.pregnant else ""
    reasoning = (
        "Consider a vena cava filter: anticoagulation is contraindicated (" + "; ".join(f.contraindications) + "), "
        "and a filter is the option only then." + pregnancy
    )
    return summary, reasoning


@dataclass(frozen=True, eq=False)
class QuotesG9ForPregnancy(Rule):
    """A card quoting G:9 keeps its aside "(same indications as non-pregnant patients)" only for a pregnant
    patient ("[…]" marks the cut, R2); the rule page quotes the line in full. Its finding has `pregnant`."""

    def card(
        self,
        finding: Finding,
        settings: PathwaySettings,
        rule_url: Callable[[str], str],
        ctx: SuggestContext,
        evidence: Sequence[Any] | None = None,
        public_base_url: str = "",
    ) -> Card:
        card = super().card(finding, settings, rule_url, ctx, evidence, public_base_url)
        if not getattr(finding, "pregnant", False):  # both filter findings carry it
            card.detail = card.detail.replace(PREGNANCY_ASIDE, "[…]")
        return card


RULE = QuotesG9ForPregnancy(
    "DVT-IVC-FILTER-OPTION",
    hooks=PATIENT_VIEW,
    indicator="warning",
    guideline=(9,),
    titled="Anticoagulation contraindicated: consider a vena cava filter",
    fires_when=(
        "A confirmed proximal (or unspecified) DVT or an acute PE, and an anticoagulation contraindication "
        "(recent bleeding, platelets below the limit)."
    ),
    reads=("Condition", "Observation", "DiagnosticReport", "ImagingStudy", "Procedure"),
    uses=("bleeding_window_days", "platelets_contraindication_10_3_ul", "platelets_renal_window_hours"),
    evaluate=evaluate,
    render=render,
)
