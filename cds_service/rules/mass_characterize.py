"""MASS-CHARACTERIZE (G:24-29): contrast CT or MRI is essential to characterize the mass (tumour,
lymphadenopathy, abscess, hematoma, disc bulge, iliopsoas bursitis).

When DVT-PELVIC-IMAGING offers the one venous-phase contrast CT for both, this card suggests nothing."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway.assessment import Assessment
from cds_service.pathway.facts import ClinicalFacts
from cds_service.pathway.findings import CreateOrder, Finding, Indicator, evidence_of
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules import dvt_pelvic_imaging
from cds_service.rules.common import date_of
from cds_service.rules.framework import PATIENT_VIEW, Rule


@dataclass(frozen=True, kw_only=True)
class MassCharacterize(Finding):
    variant: str  # "contrast-ct", "pregnancy", "combined-with-pelvic-imaging"
    mass: str  # as recorded
    mass_date: str
    lookback_days: int
    pregnant: bool


def evaluate(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> MassCharacterize | None:
    mass = a.mass_uncharacterized
    if mass is None:
        return None
    proposals: tuple[CreateOrder, ...]
    if dvt_pelvic_imaging.one_study_for_mass(a):
        # The DVT-PELVIC-IMAGING card carries the one study for both: never suggest it twice.
        variant, proposals = "combined-with-pelvic-imaging", ()
    elif a.pregnant:
        variant, proposals = "pregnancy", (CreateOrder("mri-pelvis"),)
    else:
        variant, proposals = "contrast-ct", (CreateOrder("contrast-ct"),)
    return MassCharacterize(
        indicator=Indicator.WARNING,
        evidence=evidence_of(mass.evidence, a.pregnancy_evidence),
        proposals=proposals,
        variant=variant,
        mass=mass.evidence.display,
        mass_date=date_of(mass.recorded),
        lookback_days=s.mass_imaging_lookback_days,
        pregnant=a.pregnant,
    )


def _mass_named(f: MassCharacterize) -> str:
    dated = f.mass_date and f.mass_date != "date unknown"
    return f"Iliac mass of {f.mass_date}" if dated else "Iliac mass"


def render(f: MassCharacterize, s: PathwaySettings) -> tuple[str, str]:
    lines = [
        "Contrast CT or MRI is essential to characterize the mass: tumour, lymphadenopathy, abscess, hematoma, "
        "disc bulge, iliopsoas bursitis. Its nature decides between NIVL and extrinsic compression.",
        f"Mass recorded {f.mass_date}: {f.mass}. No contrast CT or MRI of the abdomen or pelvis"
        + (" (nor MRI without contrast)" if f.pregnant else "")
        + f" from {f.lookback_days} days before the mass was recorded onwards.",
    ]
    if f.variant == "combined-with-pelvic-imaging":
        summary = "Iliac mass not characterized: one venous-phase contrast CT can also image the pelvic veins"
        lines.append(
            "One study for both: the contrast CT of the abdomen and pelvis in the venous phase suggested on the "
            "pelvic imaging card characterizes the mass too."
        )
    elif f.variant == "pregnancy":
        summary = f"{_mass_named(f)} not characterized: MRI of the pelvis without gadolinium needed (pregnancy)"
        lines.append(
            "Pregnancy: MRI of the pelvis without contrast rather than contrast CT. Gadolinium is avoided in "
            "pregnancy, a deliberate departure from the guideline's \"with contrast\"."
        )
    else:
        summary = f"{_mass_named(f)} not characterized: contrast CT abdomen/pelvis needed"
    return summary, "\n\n".join(lines)


RULE = Rule(
    "MASS-CHARACTERIZE",
    hooks=PATIENT_VIEW,
    indicator="warning",
    guideline=(24, 25, 26, 27, 28, 29),
    quoted=(25, 26),  # G:24 is a heading
    titled="Characterize the iliac mass with contrast CT or MRI",
    fires_when=lambda s: (
        "An iliac / pelvic mass whose nature is not recorded, and no contrast CT or MRI of abdomen / pelvis from "
        f"{s.mass_imaging_lookback_days} days before the mass was recorded onwards (for a pregnant patient an MRI "
        "of the pelvis without contrast, CPT 72195, counts). In pregnancy suggests that MRI, without gadolinium."
    ),
    reads=("Condition", "Observation", "ImagingStudy", "DiagnosticReport", "Procedure"),
    uses=("mass_imaging_lookback_days",),
    # The combined variant says "the pelvic imaging card carries the study" and suggests none itself.
    leans_on=(dvt_pelvic_imaging.RULE,),
    evaluate=evaluate,
    render=render,
)
