"""NIVL-WORKUP (G:11, G:12, G:15, G:19): DVT excluded: the differential is NIVL vs extrinsic compression.

One card per action (R2): the IVUS step is left out once an IVUS result exists, and when the CT compression
card (`nivl_ct_not_diagnostic`) or the IVUS card (`nivl_ivus_required`) asks for it."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway import axes
from cds_service.pathway.assessment import UNKNOWN, Assessment
from cds_service.pathway.facts import ClinicalFacts, Severity, Side
from cds_service.pathway.findings import Finding, Indicator, evidence_of
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules import nivl_ct_not_diagnostic, nivl_ivus_required
from cds_service.rules.common import date_of
from cds_service.rules.framework import PATIENT_VIEW, Rule


@dataclass(frozen=True, kw_only=True)
class NivlWorkup(Finding):
    left_sided: bool
    mass_on_record: bool
    characterize_mass: bool  # a mass not yet imaged as the mass study: characterizing it is a next step
    mass_imaged_date: str  # a mass imaged but its nature not recorded: recording it is a next step
    pregnant: bool  # the mass study in pregnancy is MRI without gadolinium
    ivus_step: bool  # no IVUS yet, and no other card asks for it
    ivus_elsewhere: str  # no IVUS yet and another card asks for it: that card, in words ("" otherwise)
    # IVUS done but no diameter stenosis could be read: the lesion stays unknown until it is.
    ivus_report_step: bool
    ask_severity: bool
    other_causes_found: int


def evaluate(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> NivlWorkup | None:
    if a.dvt_axis != axes.EXCLUDED or a.lesion_axis != UNKNOWN:
        return None
    return NivlWorkup(
        indicator=Indicator.INFO,
        evidence=evidence_of(a.dvt_evidence, [sw.evidence for sw in facts.swellings], [m.evidence for m in facts.masses]),
        left_sided=a.swelling_side == Side.LEFT,
        mass_on_record=bool(facts.masses),
        characterize_mass=a.mass_uncharacterized is not None,
        mass_imaged_date=date_of(a.mass_imaged_nature_unknown.imaging.when) if a.mass_imaged_nature_unknown else "",
        pregnant=a.pregnant,
        ivus_step=a.ivus_done is None and not _ivus_card(a),
        ivus_elsewhere=_ivus_card(a) if a.ivus_done is None else "",
        ivus_report_step=a.ivus_done is not None and (a.ivus_stenosis is None or a.ivus_stenosis.value is None),
        ask_severity=a.symptoms == Severity.UNKNOWN,
        other_causes_found=len(a.other_causes),
    )


def _ivus_card(a: Assessment) -> str:
    """The card of this response that asks for the IVUS, in words; "" when none does."""
    if nivl_ct_not_diagnostic.applies(a):
        return "the CT compression card"
    return "the IVUS card" if nivl_ivus_required.applies(a) else ""


def _steps(f: NivlWorkup) -> list[str]:
    steps = ["exclude other causes of edema (heart, kidney, liver, hypoproteinemia, medications, lymphedema)"]
    if f.characterize_mass:
        study = "MRI without gadolinium" if f.pregnant else "contrast CT or MRI"
        steps.append(f"characterize the mass with {study}")
    elif f.mass_imaged_date:
        steps.append(f"record the nature of the mass (imaged {f.mass_imaged_date}): it decides NIVL vs extrinsic compression")
    if f.ivus_step:
        steps.append("venography with IVUS before any intervention")
    elif f.ivus_elsewhere:
        steps.append(f"IVUS before any intervention: see {f.ivus_elsewhere}")
    elif f.ivus_report_step:
        steps.append(
            "review the IVUS report: no diameter stenosis could be read from it, so NIVL is neither confirmed nor excluded"
        )
    return steps


def render(f: NivlWorkup, s: PathwaySettings) -> tuple[str, str]:
    by_what = "by the mass" if f.mass_on_record else "by a mass or other lesion"
    summary = f"DVT excluded: work up NIVL (May-Thurner) vs extrinsic compression {by_what}"
    lines = [f"DVT is excluded: work up NIVL (May-Thurner) vs extrinsic compression {by_what}."]
    if f.left_sided:
        lines.append("Left-sided presentation fits NIVL: the right iliac artery compresses the left iliac vein.")
    lines.append("Next steps:\n\n" + "\n".join(f"{i}. {step}" for i, step in enumerate(_steps(f), 1)))
    if f.ask_severity:
        lines.append("Symptom severity is not recorded: record it (mild, moderate, severe); it decides stenting.")
    return summary, "\n\n".join(lines)


RULE = Rule(
    "NIVL-WORKUP",
    hooks=PATIENT_VIEW,
    indicator="info",
    guideline=(11, 12, 15, 19),
    quoted=(12,),
    titled="DVT excluded: work up NIVL vs extrinsic compression",
    fires_when=(
        "DVT excluded and the lesion not yet classified: next steps are excluding other edema causes, "
        "characterizing the mass and venography with IVUS (unless an IVUS result exists or another card asks for it)."
    ),
    reads=("Condition", "Observation", "DiagnosticReport", "ImagingStudy", "Procedure"),
    evidence="85 % of pregnancy-related cases are left-sided",
    evaluate=evaluate,
    render=render,
    opens_app=True,
)
