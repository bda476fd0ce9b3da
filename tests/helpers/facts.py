"""Builders of `ClinicalFacts` for the pathway and rule tests: facts built directly, no FHIR, no HTTP.

Every date is relative to NOW (`ago(days=...)`); S is the default `PathwaySettings`.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from cds_service.pathway.assessment import assess
from cds_service.pathway.facts import (
    ClinicalFacts,
    ConditionFact,
    DrugClass,
    DuplexExtent,
    DvtDiagnosis,
    EdemaCauseKind,
    Evidence,
    ImagingDone,
    ImagingKind,
    LesionBehavior,
    MassFact,
    MassNature,
    Measurement,
    Medication,
    ResultStatus,
    Severity,
    Side,
    StentRecord,
    Swelling,
    ThrombusResult,
    VenousStudy,
    Verification,
    Waveform,
    WaveformFact,
)
from cds_service.pathway.settings import PathwaySettings

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
S = PathwaySettings()


# -- builders ----------------------------------------------------------------------------------------
def ago(days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
    return NOW - timedelta(days=days, hours=hours, minutes=minutes)


def ev(ref: str, display: str = "", when: datetime | None = None) -> Evidence:
    return Evidence(ref, display or ref, when)


def swelling(side=Side.LEFT, severity=Severity.SIGNIFICANT, days=10, ref=None) -> Swelling:
    when = ago(days)
    return Swelling(ev(ref or f"Condition/swelling-{side.value}-{days}", f"{side.value} leg swelling", when), side, severity, when)


def duplex(result=ThrombusResult.ABSENT, days=2, side=Side.LEFT, extent=DuplexExtent.WHOLE_LEG,
           status=ResultStatus.FINAL, ref=None) -> VenousStudy:
    return VenousStudy(ev(ref or f"DiagnosticReport/duplex-{days}", "Venous duplex", ago(days)), result, status, side, extent)


def pelvic(result=ThrombusResult.ABSENT, days=1, method="ct-venography", status=ResultStatus.FINAL) -> VenousStudy:
    return VenousStudy(ev(f"DiagnosticReport/ctv-{days}", "CT venography pelvis", ago(days)), result, status, Side.UNKNOWN,
                       method=method)


def dvt_dx(days=5, distal=False, chronic=False, active=True, verification=Verification.CONFIRMED, side=Side.LEFT):
    return DvtDiagnosis(ev(f"Condition/dvt-{days}", "Acute DVT of left femoral vein", ago(days)), active, verification,
                        side, distal, chronic)


def cond(ref: str, days: float | None = 3, kind: str = "", active=True, verification=Verification.CONFIRMED,
         display: str = "") -> ConditionFact:
    return ConditionFact(ev(ref, display or ref, ago(days) if days is not None else None), active, verification, kind=kind)


def meas(ref: str, value, unit: str, days: float = 0, hours: float = 0, minutes: float = 0,
         status=ResultStatus.FINAL) -> Measurement:
    return Measurement(ev(ref, f"{value} {unit}", ago(days, hours, minutes)), value, unit, status)


def med(ingredient: str, drug_class=DrugClass.ANTICOAGULANT, dose=None, unit="mg", per_day=None, route="",
        reason_codes=(), reason_text="", ref=None) -> Medication:
    return Medication(ev(ref or f"MedicationRequest/{ingredient}", ingredient), drug_class, ingredient, dose, unit, per_day,
                      route, reason_codes=reason_codes, reason_text=reason_text)


def mass(days=20, nature=None, ref="Condition/mass") -> MassFact:
    nature_evidence = ev("Observation/mass-nature", nature.value, ago(days)) if nature else None
    return MassFact(ev(ref, "Left iliac mass", ago(days)), ago(days), nature, nature_evidence)


def imaging(kind: ImagingKind, days: float, ref=None, side=Side.UNKNOWN) -> ImagingDone:
    return ImagingDone(ev(ref or f"ImagingStudy/{kind.value}-{days}", kind.value, ago(days)), kind, side)


def stent(days: float, ref="Procedure/stent") -> StentRecord:
    return StentRecord(ev(ref, "Iliac vein stent", ago(days)), ago(days))


def facts(**kw) -> ClinicalFacts:
    return ClinicalFacts(now=NOW, patient_ref="Patient/p1", **kw)


def left_swelling(**kw) -> ClinicalFacts:
    kw.setdefault("swellings", [swelling()])
    return facts(**kw)


def excluded(**kw) -> ClinicalFacts:
    """Left leg swelling, whole-leg negative final duplex 2 days ago, nothing else: DVT excluded."""
    kw.setdefault("duplex_results", [duplex()])
    return left_swelling(**kw)


def nivl_confirmed(ivus=70.0, reference=14.0, **kw) -> ClinicalFacts:
    kw.setdefault("ivus_stenosis", [meas("Observation/ivus", ivus, "%", days=1)])
    kw.setdefault("eiv_reference_diameter", [meas("Observation/eiv", reference, "mm", days=1)])
    kw.setdefault("nivl_diagnoses", [cond("Condition/may-thurner")])
    return excluded(**kw)


def run(f: ClinicalFacts, settings: PathwaySettings = S):
    return assess(f, settings)
