"""DVT-THROMBOLYSIS-OPTION (G:10): thrombolysis only for limb-threatening ischemia with severe hypotension;
its hemorrhage risk is about 8 %."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway.assessment import Assessment
from cds_service.pathway.facts import ClinicalFacts
from cds_service.pathway.findings import Finding, Indicator, evidence_of
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import PATIENT_VIEW, Rule

HEMORRHAGE_RISK_PCT = 8  # G:10, quoted by the guideline


@dataclass(frozen=True, kw_only=True)
class DvtThrombolysisOption(Finding):
    severe_hypotension: bool
    hemorrhage_risk_pct: int
    # No recent platelet count is no contraindication, but a count is needed before lysis.
    platelets_unknown: bool


def evaluate(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> DvtThrombolysisOption | None:
    hypotension_ok = a.severe_hypotension or not s.thrombolysis_requires_hypotension
    if not (a.dvt_confirmed and a.limb_threat and hypotension_ok):
        return None
    if a.anticoag_contraindications or a.hemorrhagic_shock:
        return None
    platelets = a.platelets.evidence if a.platelets else None
    return DvtThrombolysisOption(
        indicator=Indicator.CRITICAL,
        evidence=evidence_of(a.dvt_evidence, a.limb_threat_evidence, a.hypotension_evidence, platelets),
        severe_hypotension=a.severe_hypotension,
        hemorrhage_risk_pct=HEMORRHAGE_RISK_PCT,
        platelets_unknown=not a.platelets_known,
    )


def render(f: DvtThrombolysisOption, s: PathwaySettings) -> tuple[str, str]:
    summary = (
        "Phlegmasia with severe hypotension: thrombolysis may be considered "
        f"(hemorrhage risk {f.hemorrhage_risk_pct}%)"
    )
    reasoning = (
        "Limb-threatening venous ischemia with severe hypotension: thrombolysis may be considered for this "
        f"indication only. Hemorrhage risk is about {f.hemorrhage_risk_pct} %. No anticoagulation contraindication "
        "and no hemorrhagic shock is recorded."
    )
    if not f.severe_hypotension:
        reasoning += " (This site's setting allows thrombolysis for phlegmasia without severe hypotension.)"
    if f.platelets_unknown:
        reasoning += "\n\nNo recent platelet count is on record: obtain one before thrombolysis."
    return summary, reasoning


RULE = Rule(
    "DVT-THROMBOLYSIS-OPTION",
    hooks=PATIENT_VIEW,
    indicator="critical",
    guideline=(10,),
    titled="Limb-threatening ischemia with severe hypotension: thrombolysis option",
    fires_when=(
        "A confirmed DVT with limb-threatening venous ischemia (phlegmasia) and severe hypotension, no "
        "anticoagulation contraindication and no hypovolemic / hemorrhagic shock."
    ),
    reads=("Condition", "Observation", "DiagnosticReport", "ImagingStudy", "Procedure"),
    uses=(
        "acute_event_window_days", "systolic_low_mm_hg", "hypotension_readings",
        "hypotension_min_interval_minutes", "vital_signs_window_hours", "thrombolysis_requires_hypotension",
    ),
    evidence=f"hemorrhage risk {HEMORRHAGE_RISK_PCT} %",
    evaluate=evaluate,
    render=render,
)
