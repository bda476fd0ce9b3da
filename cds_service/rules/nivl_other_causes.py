"""NIVL-OTHER-CAUSES (G:14): exclude heart, renal and liver disease, hypoproteinemia, medications and
lymphedema first."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway import axes
from cds_service.pathway.assessment import Assessment, KindedEvidence
from cds_service.pathway.facts import ClinicalFacts
from cds_service.pathway.findings import Finding, Indicator
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import PATIENT_VIEW, Rule
from cds_service.rules.plain_text import fact_words


@dataclass(frozen=True, kw_only=True)
class NivlOtherCauses(Finding):
    causes: tuple[KindedEvidence, ...]  # kind: an EdemaCauseKind value
    albumin_low_g_dl: float
    protein_low_g_dl: float


def evaluate(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> NivlOtherCauses | None:
    if a.dvt_axis != axes.EXCLUDED or not a.other_causes:
        return None
    return NivlOtherCauses(
        indicator=Indicator.WARNING,
        evidence=tuple(a.other_causes),
        causes=tuple(a.other_causes),
        albumin_low_g_dl=s.albumin_low_g_dl,
        protein_low_g_dl=s.protein_low_g_dl,
    )


CAUSE_WORDS = {
    "heart-failure": "heart failure",
    "renal-disease": "renal disease",
    "liver-disease": "liver disease",
    "hypoalbuminemia": "hypoalbuminemia / hypoproteinemia",
    "medication": "edema-causing medication",
    "primary-lymphedema": "primary lymphedema",
    "secondary-lymphedema": "secondary lymphedema",
}


def render(f: NivlOtherCauses, s: PathwaySettings) -> tuple[str, str]:
    more = f" +{len(f.causes) - 1} more" if len(f.causes) > 1 else ""
    first = fact_words(f.causes[0].display)
    summary = f"Other edema cause on record ({first}{more}): exclude before blaming the iliac vein"
    kinds = ", ".join(dict.fromkeys(CAUSE_WORDS.get(c.kind, c.kind or "other cause") for c in f.causes))
    reasoning = (
        f"Exclude or treat the other causes of edema on record ({kinds}) before attributing the swelling to the "
        "iliac vein."
    )
    return summary, reasoning


RULE = Rule(
    "NIVL-OTHER-CAUSES",
    hooks=PATIENT_VIEW,
    indicator="warning",
    guideline=(14,),
    facts_in_one_sentence=True,  # "name each cause found ... with its date, in one sentence"
    titled="Other causes of edema must be excluded first",
    fires_when=(
        "DVT excluded and another edema cause recorded: heart failure, advanced renal disease or nephrotic "
        "syndrome, liver cirrhosis or failure, hypoalbuminemia / hypoproteinemia (diagnosis or low lab), an "
        "edema-causing medication, lymphedema."
    ),
    reads=("Condition", "Observation", "MedicationRequest", "MedicationStatement"),
    uses=("albumin_low_g_dl", "protein_low_g_dl", "labs_window_days"),
    evaluate=evaluate,
    render=render,
)
