"""MASS-EXTRINSIC (G:46-49): extrinsic compression: treat the underlying lesion; stent only as a
temporizing or palliative measure."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway.assessment import EXTRINSIC, Assessment
from cds_service.pathway.facts import ClinicalFacts
from cds_service.pathway.findings import Finding, Indicator, evidence_of
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import PATIENT_VIEW, Rule


@dataclass(frozen=True, kw_only=True)
class MassExtrinsic(Finding):
    nature: str  # MassNature value, e.g. "malignancy"
    nature_display: str
    symptoms: str


def evaluate(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> MassExtrinsic | None:
    if a.lesion_axis != EXTRINSIC or a.extrinsic_mass is None:
        return None
    return MassExtrinsic(
        indicator=Indicator.WARNING,
        evidence=evidence_of(a.extrinsic_mass, [m.evidence for m in facts.masses]),
        nature=a.extrinsic_mass.kind,
        nature_display=a.extrinsic_mass.display,
        symptoms=a.symptoms.value,
    )


EXTRINSIC_TREATMENT = {
    "malignancy": "coordinate with oncology for systemic therapy; consider palliative stenting if life expectancy permits",
    "lymphadenopathy": "find and treat the cause (oncology if malignant); palliative stenting if life expectancy permits",
    "abscess": "drainage of the abscess",
    # G:47 names drainage for abscess and excision for benign compressive lesions; a hematoma is a
    # collection, so "surgical excision" would be the wrong instruction.
    "hematoma": "drainage or evacuation of the hematoma, as the surgical team decides",
}
BENIGN_TREATMENT = "surgical excision of the benign compressive lesion"


def render(f: MassExtrinsic, s: PathwaySettings) -> tuple[str, str]:
    treatment = EXTRINSIC_TREATMENT.get(f.nature, BENIGN_TREATMENT)
    summary = f"Extrinsic compression ({f.nature.replace('-', ' ')}): treat the underlying lesion"
    lines = [
        f"Treat the underlying lesion ({treatment}): the mass is characterized as {f.nature_display}.",
        "Stent only as a temporizing measure, when the mass is not immediately resectable and symptoms are severe.",
    ]
    return summary, "\n\n".join(lines)


RULE = Rule(
    "MASS-EXTRINSIC",
    hooks=PATIENT_VIEW,
    indicator="warning",
    guideline=(46, 47, 48, 49),
    titled="Extrinsic compression: treat the underlying lesion",
    fires_when=(
        "The mass is characterized as a compressive lesion (malignancy, lymphadenopathy, abscess, hematoma, "
        "disc bulge, iliopsoas bursitis, benign tumour, iliac artery aneurysm)."
    ),
    reads=("Condition", "Observation"),
    evaluate=evaluate,
    render=render,
)
