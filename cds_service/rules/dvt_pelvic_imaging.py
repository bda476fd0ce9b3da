"""DVT-PELVIC-IMAGING (G:5, G:6, G:54): a negative leg ultrasound with persisting swelling, a flat CFV
waveform or a pelvic mass does not exclude iliocaval DVT: image the iliac and pelvic veins (CT or MR
venography). When the mass also needs characterizing, one venous-phase contrast CT answers both."""
from __future__ import annotations

from dataclasses import dataclass, replace

from cds_service.pathway import axes
from cds_service.pathway.assessment import Assessment
from cds_service.pathway.facts import ClinicalFacts
from cds_service.pathway.findings import CreateOrder, Finding, Indicator, evidence_of
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.common import date_of, unreadable_note
from cds_service.rules.framework import PATIENT_VIEW, Rule


@dataclass(frozen=True, kw_only=True)
class DvtPelvicImaging(Finding):
    variant: str  # "ct-venography", "combined-with-mass", "pregnancy", "result-not-coded", "preliminary"
    triggers: tuple[str, ...]  # axes.PelvicTrigger kinds, sorted
    dvt_axis: str
    duplex_date: str  # the negative duplex, "" when there is none
    pregnant: bool
    reports_unreadable: tuple[str, ...]
    study_date: str = ""  # a pelvic study done without a final result


def pelvic_imaging_triggers(a: Assessment) -> tuple[axes.PelvicTrigger, ...] | None:
    """The triggers for this rule, or None when it does not fire."""
    if a.dvt_axis == axes.PELVIC_IMAGING_NEEDED:
        return a.pelvic_triggers
    if a.dvt_axis == axes.CONFIRMED and a.cfv_abnormal is not None and not a.dvt.pelvic_imaging_since_waveform:
        return (axes.PelvicTrigger(axes.ABNORMAL_CFV_WAVEFORM, a.cfv_abnormal.evidence),)
    return None


def one_study_for_mass(a: Assessment) -> bool:
    """One contrast CT (venous phase) answers both this rule and MASS-CHARACTERIZE: it is offered here only."""
    return (
        pelvic_imaging_triggers(a) is not None
        and a.unreadable_pelvic_study is None
        and a.mass_uncharacterized is not None
        and not a.pregnant
    )


def evaluate(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> DvtPelvicImaging | None:
    triggers = pelvic_imaging_triggers(a)
    if triggers is None:
        return None
    duplex = a.dvt.negative_duplex
    evidence = evidence_of(duplex.evidence if duplex else None, [t.evidence for t in triggers], a.pregnancy_evidence)
    if a.pregnant:
        order, variant = "mr-venography", "pregnancy"
    elif one_study_for_mass(a):
        order, variant = "ct-venography-with-mass", "combined-with-mass"
    else:
        order, variant = "ct-venography", "ct-venography"
    finding = DvtPelvicImaging(
        indicator=Indicator.WARNING,
        evidence=evidence,
        proposals=(CreateOrder(order),),
        variant=variant,
        triggers=tuple(sorted({t.kind for t in triggers})),
        dvt_axis=a.dvt_axis,
        duplex_date=date_of(duplex.evidence.when) if duplex else "",
        pregnant=a.pregnant,
        reports_unreadable=tuple(a.dvt.reports_unreadable),
    )
    if a.unreadable_pelvic_study is None:
        return finding
    # Done, no final result: review (or await) the report; never order a second study.
    return replace(
        finding,
        variant="preliminary" if a.dvt.pelvic_study_preliminary else "result-not-coded",
        study_date=date_of(a.unreadable_pelvic_study.when),
        evidence=evidence_of(a.unreadable_pelvic_study, evidence),
        proposals=(),
    )


TRIGGER_TEXT = {  # one sentence per trigger of this patient
    axes.PERSISTING_SWELLING: "Whole-leg swelling persists after this patient's negative duplex.",
    axes.ABNORMAL_CFV_WAVEFORM: (
        "This patient's common femoral vein flow is flat, non-phasic or absent: a sign of proximal obstruction."
    ),
    axes.PELVIC_MASS: (
        "This patient has an iliac or pelvic mass: a leg ultrasound cannot exclude thrombus at the compression."
    ),
}
# The guideline line behind each trigger: the card quotes only this patient's (the rule page quotes all).
# G:5 (a negative leg ultrasound misses iliocaval DVT: image the pelvis) also stands for the mass.
TRIGGER_LINE = {axes.PERSISTING_SWELLING: 5, axes.ABNORMAL_CFV_WAVEFORM: 6, axes.PELVIC_MASS: 5}
TRIGGER_SUMMARY = {
    axes.PERSISTING_SWELLING: "Negative duplex but swelling persists: image the pelvic veins",
    axes.ABNORMAL_CFV_WAVEFORM: "Non-phasic common femoral flow (proximal obstruction): image the pelvic veins",
    axes.PELVIC_MASS: "Negative duplex with a pelvic mass: image the iliac and pelvic veins",
}


def _trigger_summary(f: DvtPelvicImaging, triggers: list[str]) -> str:
    if f.dvt_axis == axes.CONFIRMED:
        return "DVT with non-phasic common femoral flow: image the iliac veins (CT/MR venography)"
    summary = TRIGGER_SUMMARY[triggers[0]]
    if f.duplex_date and f.duplex_date != "date unknown":
        summary = summary.replace("Negative duplex", f"Negative duplex of {f.duplex_date}", 1)
    return summary


def render(f: DvtPelvicImaging, s: PathwaySettings) -> tuple[str, str]:
    triggers = [t for t in TRIGGER_TEXT if t in f.triggers]
    summary = _trigger_summary(f, triggers)
    lines = [
        "Leg ultrasound misses iliocaval DVT: image the iliac and pelvic veins with CT or MR venography.",
        " ".join(TRIGGER_TEXT[t] for t in triggers),
    ]
    if f.duplex_date:
        lines.append(f"Negative duplex of {f.duplex_date}.")
    if f.variant == "result-not-coded":
        summary = f"Pelvic venography of {f.study_date}: result not coded, review the report"
        lines.append(f"Study of {f.study_date}: result not coded, review the report. No new study is suggested.")
    elif f.variant == "preliminary":
        summary = f"Pelvic venography of {f.study_date} is preliminary: DVT not excluded until the final report"
        lines.append(
            f"Study of {f.study_date}: the result is preliminary. A preliminary result never excludes DVT: review "
            "the final report. No new study is suggested."
        )
    elif f.variant == "pregnancy":
        lines.append("Pregnancy: MR venography without gadolinium rather than CT.")
    elif f.variant == "combined-with-mass":
        lines.append(
            "The mass also needs characterizing: one study answers both, a contrast CT of the abdomen and "
            "pelvis in the venous phase."
        )
    return summary, "\n\n".join(lines) + unreadable_note(f.reports_unreadable)


def quoted_for(f: DvtPelvicImaging) -> tuple[int, ...]:
    """G:5 and / or G:6, as this patient's triggers call for (G:6 only for a CFV waveform)."""
    return tuple(sorted({TRIGGER_LINE[t] for t in f.triggers})) or (5,)


RULE = Rule(
    "DVT-PELVIC-IMAGING",
    hooks=PATIENT_VIEW,
    indicator="warning",
    guideline=(5, 6, 54),
    quoted=quoted_for,
    titled="Negative leg ultrasound with a pelvic trigger: image the pelvic veins",
    fires_when=(
        "A negative duplex with persisting whole-leg swelling after it, a flat / non-phasic or absent common "
        "femoral vein waveform, or an iliac / pelvic mass, and no CT / MR venography of the pelvis since; or a "
        "confirmed DVT with a non-phasic CFV waveform and no pelvic venography since."
    ),
    reads=("Condition", "Observation", "DiagnosticReport", "ImagingStudy", "Procedure"),
    uses=("negative_study_valid_days",),
    evaluate=evaluate,
    render=render,
)
