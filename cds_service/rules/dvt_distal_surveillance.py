"""DVT-DISTAL-SURVEILLANCE (R2; G:3, G:4, G:9): an isolated calf DVT left untreated because anticoagulation is
contraindicated is never silent. Reassess the contraindication and repeat a complete duplex of that leg at about
1 and 2 weeks to detect proximal extension (serial imaging of untreated distal DVT: CHEST antithrombotic
guideline); once it extends while anticoagulation stays contraindicated, a vena cava filter is the option (G:9)."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.fhir.fhir_json import combine_sides
from cds_service.pathway import axes
from cds_service.pathway.assessment import Assessment
from cds_service.pathway.facts import ClinicalFacts, Side
from cds_service.pathway.findings import CreateOrder, Finding, Indicator, evidence_of
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.common import SIDE_WORD, date_of, imaging_side
from cds_service.rules.framework import PATIENT_VIEW, Rule


@dataclass(frozen=True, kw_only=True)
class DvtDistalSurveillance(Finding):
    side: str  # the leg to re-image: "left", "right", "both"
    dvt_date: str
    contraindications: tuple[str, ...]  # each as recorded, with its date
    preliminary: bool
    medications_unknown: bool  # current therapy could not be read: it may already be treated


def distal_only(a: Assessment) -> bool:
    """A confirmed DVT whose every confirming fact is an isolated calf DVT diagnosis."""
    return a.dvt_confirmed and not a.dvt_proximal_or_unspecified and bool(a.dvt.events)


def _leg(a: Assessment) -> Side:
    side = combine_sides(e.side for e in a.dvt.events)
    return imaging_side(a) if side == Side.UNKNOWN else side


def evaluate(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> DvtDistalSurveillance | None:
    # An acute PE with a contraindication is DVT-IVC-FILTER-OPTION's: the filter is the option now (G:9).
    if not distal_only(a) or a.acute_pe or not a.anticoag_contraindications or a.treatment_anticoagulated:
        return None
    side = _leg(a)
    dvt_dates = [e.evidence.when for e in a.dvt.events if e.site == axes.SITE_DISTAL]
    return DvtDistalSurveillance(
        indicator=Indicator.WARNING,
        evidence=evidence_of(a.dvt_evidence, a.anticoag_contraindications),
        proposals=(CreateOrder("leg-duplex", side),),
        side=side.value,
        dvt_date=date_of(max((d for d in dvt_dates if d), default=None)),
        contraindications=tuple(f"{c.display} ({date_of(c.when)})" for c in a.anticoag_contraindications),
        preliminary=a.dvt_preliminary,
        medications_unknown="medications" in a.unknown,
    )


def _leg_words(side: str) -> str:
    return "both legs" if side == "both" else f"the {side} leg"


def render(f: DvtDistalSurveillance, s: PathwaySettings) -> tuple[str, str]:
    leg = _leg_words(f.side)
    side_word = SIDE_WORD[f.side] if f.side in ("left", "right") else "Calf"
    summary = f"{side_word} calf DVT untreated (anticoagulation contraindicated): repeat duplex at 1 and 2 weeks"
    reasoning = (
        f"Repeat a complete duplex of {leg} (common femoral through calf veins) at about 1 and 2 weeks, sooner "
        "with new symptoms, to detect proximal extension; and reassess the contraindication. "
        f"The isolated calf DVT of {f.dvt_date} is untreated. Anticoagulation is contraindicated: "
        + "; ".join(f.contraindications) + ". If the DVT extends while anticoagulation stays contraindicated, a "
        "vena cava filter becomes the option. Serial imaging of an untreated calf DVT follows the CHEST "
        "antithrombotic guideline."
    )
    if f.medications_unknown:
        reasoning += " Current medications could not be read: check whether the DVT is already treated."
    return summary, reasoning


RULE = Rule(
    "DVT-DISTAL-SURVEILLANCE",
    hooks=PATIENT_VIEW,
    indicator="warning",
    guideline=(3, 4, 9),
    quoted=(4,),  # G:9 carries a pregnancy aside; G:3 is about excluding DVT. The rule page quotes all three.
    titled="Untreated calf DVT: reassess the contraindication, repeat the duplex at 1 and 2 weeks",
    fires_when=(
        "A confirmed isolated calf (distal) DVT, an anticoagulation contraindication recorded (recent bleeding, "
        "platelets below the limit) and no anticoagulant at treatment dose. Suggests the complete duplex of that "
        "leg. Not with an acute PE (DVT-IVC-FILTER-OPTION then applies)."
    ),
    reads=("Condition", "Observation", "DiagnosticReport", "MedicationRequest", "MedicationStatement"),
    uses=("acute_dvt_current_days", "bleeding_window_days", "platelets_contraindication_10_3_ul",
          "platelets_renal_window_hours"),
    evaluate=evaluate,
    render=render,
)
