"""DVT-DUPLEX (G:3, G:4): rule out DVT first with a complete duplex, common femoral vein through the calf veins."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from cds_service.pathway import axes
from cds_service.pathway.assessment import Assessment
from cds_service.pathway.facts import ClinicalFacts, DuplexExtent
from cds_service.pathway.findings import CreateOrder, Finding, Indicator, evidence_of
from cds_service.pathway.settings import PathwaySettings
from cds_service.protocol.cards import OVERRIDE_SYSTEM, Card, Coding
from cds_service.rules.cards import STUDY_WAS_COMPLETE, override_reasons
from cds_service.rules.common import SIDE_WORD, date_of, imaging_side, unreadable_note
from cds_service.rules.framework import PATIENT_VIEW, Rule, SuggestContext

DVT_TYPES = ("Condition", "Observation", "DiagnosticReport", "ImagingStudy", "Procedure")


@dataclass(frozen=True, kw_only=True)
class DvtDuplex(Finding):
    # "no-study", "result-not-coded", "preliminary", "limited", "extent-unknown", "expired", "new-swelling"
    variant: str
    side: str  # the leg(s) to image: "left", "right", "both"
    mass: bool  # an iliac / pelvic mass is on record
    reports_unreadable: tuple[str, ...]  # resource types of results that could not be read
    study_date: str = ""
    extent: str = ""  # limited: the extent the study covered
    window_days: int = 0  # expired: how long a negative study stays valid
    swelling_date: str = ""  # new-swelling: when the new swelling was recorded


def applies(facts: ClinicalFacts, a: Assessment) -> bool:
    """DVT not assessed with unilateral swelling or a mass; or pelvic imaging needed after a negative duplex of
    limited / unknown extent: then the pelvis and the calves are each unimaged, and both cards fire (R2)."""
    if a.dvt_axis == axes.PELVIC_IMAGING_NEEDED:
        return a.dvt.limited_study is not None
    return a.dvt_axis == axes.UNASSESSED and (a.unilateral_swelling or bool(facts.masses))


def evaluate(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> DvtDuplex | None:
    if not applies(facts, a):
        return None
    dvt = a.dvt
    evidence = evidence_of([sw.evidence for sw in facts.swellings], [m.evidence for m in facts.masses])
    no_study = DvtDuplex(
        indicator=Indicator.WARNING,
        evidence=evidence,
        proposals=(CreateOrder("leg-duplex", imaging_side(a)),),
        variant="no-study",
        side=imaging_side(a).value,
        mass=bool(facts.masses),
        reports_unreadable=tuple(dvt.reports_unreadable),
    )
    if dvt.unreadable_study is not None:  # review the report: no new study
        return replace(
            no_study, variant="result-not-coded", study_date=date_of(dvt.unreadable_study.when),
            evidence=evidence_of(dvt.unreadable_study, evidence), proposals=(),
        )
    if dvt.pending_study is not None:  # await the final report: no new study
        return replace(
            no_study, variant="preliminary", study_date=date_of(dvt.pending_study.when),
            evidence=evidence_of(dvt.pending_study, evidence), proposals=(),
        )
    if dvt.limited_study is not None:
        study = dvt.limited_study
        limited = replace(
            no_study, variant="limited", study_date=date_of(study.evidence.when), extent=study.extent.value,
            evidence=evidence_of(study.evidence, evidence),
        )
        if study.extent == DuplexExtent.UNKNOWN:
            # R2 item 8: CPT 93971 alone bills complete and limited studies alike: confirm, order nothing.
            return replace(limited, indicator=Indicator.INFO, variant="extent-unknown", proposals=())
        return limited
    if dvt.expired_study is not None:
        return replace(
            no_study, variant="expired", study_date=date_of(dvt.expired_study.evidence.when),
            window_days=s.negative_study_valid_days, evidence=evidence_of(dvt.expired_study.evidence, evidence),
        )
    if dvt.voided_by is not None and dvt.negative_duplex is not None:
        return replace(
            no_study, variant="new-swelling", study_date=date_of(dvt.negative_duplex.evidence.when),
            swelling_date=date_of(dvt.voided_by.recorded),
            evidence=evidence_of(dvt.negative_duplex.evidence, dvt.voided_by.evidence, evidence),
        )
    return no_study


BASE = (
    "Rule out DVT first: complete duplex ultrasound of the whole leg, from the common femoral vein "
    "through the calf veins."
)


def _duplex_risk(f: DvtDuplex) -> str:
    """Why the duplex comes first, naming only what this patient has (G:3)."""
    if f.mass and f.side in ("left", "right"):
        return f"{SIDE_WORD[f.side]} leg swelling with an iliac / pelvic mass carries a high risk of venous thrombosis."
    if f.mass:
        return "An iliac / pelvic mass carries a high risk of venous thrombosis in the leg it drains."
    return f"{SIDE_WORD[f.side]} leg swelling: acute DVT must be excluded before the swelling is put down to anything else."


def _no_study(f: DvtDuplex) -> tuple[str, str]:
    if f.side in ("left", "right"):
        summary = f"{SIDE_WORD[f.side]} leg swelling: rule out DVT first with a complete whole-leg duplex"
    else:
        summary = "Iliac mass: rule out DVT first with a complete duplex of both legs"
    return summary, f"{BASE} {_duplex_risk(f)} If DVT is present, anticoagulation must start urgently."


def _limited(f: DvtDuplex) -> tuple[str, str]:
    study_date = f.study_date
    return (
        f"Study of {study_date} covered only the femoropopliteal segments: complete whole-leg duplex needed",
        f"Study of {study_date} covered only the femoropopliteal segments; the calf veins were not imaged, so it "
        f"cannot exclude DVT, even with pelvic imaging. {BASE}",
    )


def _extent_unknown(f: DvtDuplex) -> tuple[str, str]:
    study_date = f.study_date
    return (
        f"Negative duplex of {study_date}, extent not recorded: confirm it covered the calf veins",
        f"Confirm that the negative duplex of {study_date} covered the whole leg, common femoral vein through "
        "the calf veins. Its record does not say (its code bills a complete and a limited study alike), so "
        "DVT is not yet excluded. If the calf veins were not imaged, complete the study. No new order is "
        "suggested; override with \"the study was complete\" if it was.",
    )


def _study_text(f: DvtDuplex) -> tuple[str, str]:
    study_date = f.study_date
    if f.variant == "result-not-coded":
        return (
            f"Duplex of {study_date}: result not coded, review the report to rule out DVT",
            f"Duplex of {study_date}: result not coded, review the report. Until its result is known DVT is "
            f"neither confirmed nor excluded. {BASE} No new study is suggested.",
        )
    if f.variant == "preliminary":
        return (
            f"Duplex of {study_date} is preliminary: DVT not excluded until the final report",
            f"The duplex of {study_date} is preliminary. A preliminary result never excludes DVT: review "
            f"the final report. {BASE}",
        )
    if f.variant == "limited":
        return _limited(f)
    if f.variant == "extent-unknown":
        return _extent_unknown(f)
    if f.variant == "expired":
        return (
            f"Negative duplex of {study_date} is over {f.window_days} days old: repeat whole-leg duplex",
            f"A negative duplex stays valid at most {f.window_days} days. {BASE}",
        )
    return (
        f"New or worse swelling since the negative duplex of {study_date}: repeat whole-leg duplex",
        f"Swelling recorded on {f.swelling_date} is new or worse than before the negative duplex of "
        f"{study_date}, so that study no longer excludes DVT. {BASE}",
    )


def render(f: DvtDuplex, s: PathwaySettings) -> tuple[str, str]:
    summary, reasoning = _no_study(f) if f.variant == "no-study" else _study_text(f)
    return summary, reasoning + unreadable_note(f.reports_unreadable)


@dataclass(frozen=True, eq=False)
class DvtDuplexRule(Rule):
    """DVT-DUPLEX's card for a study of unknown extent also offers the override "the study was complete" (R2)."""

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
        if isinstance(finding, DvtDuplex) and finding.variant == "extent-unknown":
            complete = Coding(OVERRIDE_SYSTEM, *STUDY_WAS_COMPLETE)
            card.override_reasons = [complete, *override_reasons(about_an_order=False)]
        return card


RULE = DvtDuplexRule(
    "DVT-DUPLEX",
    hooks=PATIENT_VIEW,
    indicator="warning / info",
    guideline=(3, 4),
    titled="Rule out DVT first: complete duplex of the whole leg",
    fires_when=(
        "DVT not yet assessed (no valid negative or positive study) in a patient with unilateral swelling or an "
        "iliac / pelvic mass; or pelvic imaging needed after a negative duplex of limited or unknown extent (then "
        "with DVT-PELVIC-IMAGING). Names a limited study (suggests the complete one), a study of unknown extent "
        "(info: confirm the calf veins were covered, no new order), an expired or voided negative study, or a "
        "duplex whose result is not coded; otherwise suggests the complete duplex of the swollen side."
    ),
    reads=DVT_TYPES,
    uses=("negative_study_valid_days", "acute_dvt_current_days"),
    evaluate=evaluate,
    render=render,
)
