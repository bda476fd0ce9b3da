"""Every clinical threshold and time window of the pathway, in one object.

Each field carries its meaning and its source on the field itself (`setting(...)`):
`G:<line>` is a line of `../shared/guideline/000_2661f75dfd024a47.txt`; `RULES`/`CONTRACT` are
`../shared/pathway/RULES.md` and `DATA-CONTRACT.md`. A site changes a value by
building its own `PathwaySettings(...)`; no rule holds a literal threshold.
"""
from __future__ import annotations

from dataclasses import Field, dataclass, field, fields
from typing import Any

THRESHOLD = "threshold"  # the metadata key of a setting's documentation


@dataclass(frozen=True)
class Threshold:
    """Documentation of one setting: its meaning and its source."""

    meaning: str
    source: str


def setting(default: Any, meaning: str, source: str) -> Any:
    """A settings field with its meaning and source attached (read back by `documented_fields`)."""
    return field(default=default, metadata={THRESHOLD: Threshold(meaning, source)})


@dataclass(frozen=True)
class PathwaySettings:
    # Stent sizing (G:37-40, G:52)
    min_stent_length_mm: float = setting(60.0, "Minimum iliac venous stent length", "G:38, G:52")
    oversize_min_mm: float = setting(1.0, "Stent diameter at least reference EIV diameter + this", "G:37, G:40")
    oversize_max_mm: float = setting(4.0, "Stent diameter at most reference EIV diameter + this", "G:37, G:40")
    # NIVL (G:21)
    ivus_stenosis_threshold_pct: float = setting(61.0, "IVUS diameter stenosis must exceed this for NIVL", "G:21, G:31")
    # Other causes of edema (G:14; CONTRACT Observations)
    albumin_low_g_dl: float = setting(2.5, "Albumin below this is hypoalbuminemia", "G:14; DATA-CONTRACT Observations")
    protein_low_g_dl: float = setting(
        5.0, "Total protein below this is hypoproteinemia", "G:14; DATA-CONTRACT Observations"
    )
    # Severe hypotension (G:10; CONTRACT Conditions)
    systolic_low_mm_hg: float = setting(90.0, "Systolic BP below this is hypotension", "G:10; DATA-CONTRACT Conditions")
    hypotension_readings: int = setting(
        2, "Low systolic readings needed for severe hypotension", "DATA-CONTRACT Conditions"
    )
    hypotension_min_interval_minutes: int = setting(
        15, "Minimum time between the low readings", "DATA-CONTRACT Conditions"
    )
    # Platelets (CONTRACT Conditions: contraindication / caution)
    platelets_contraindication_10_3_ul: float = setting(
        25.0, "Platelets below this contraindicate anticoagulation", "DATA-CONTRACT Conditions"
    )
    platelets_caution_10_3_ul: float = setting(
        50.0, "Platelets below this (and at or above the contraindication) need hematology", "RULES DVT-ANTICOAGULATE"
    )
    # Renal dosing of enoxaparin (RULES DVT-ANTICOAGULATE)
    egfr_renal_dosing: float = setting(30.0, "eGFR below this: enoxaparin every 24 h", "RULES DVT-ANTICOAGULATE")
    # Enoxaparin regimen (G:8; RULES DVT-ANTICOAGULATE, ANTICOAG-REGIMEN)
    enoxaparin_mg_per_kg: float = setting(1.0, "Therapeutic enoxaparin per dose", "G:8; RULES DVT-ANTICOAGULATE")
    enoxaparin_rounding_mg: int = setting(10, "Enoxaparin dose rounded half-up to this step", "RULES DVT-ANTICOAGULATE")
    regimen_tolerance_fraction: float = setting(
        0.10, "Ordered LMWH dose within this fraction of the computed dose", "RULES ANTICOAG-REGIMEN"
    )
    regimen_tolerance_min_mg: float = setting(
        5.0, "...or within this many mg, whichever is larger", "RULES ANTICOAG-REGIMEN"
    )
    # Treatment dose (CONTRACT Medications)
    enoxaparin_treatment_mg_per_kg_bid: float = setting(
        0.9, "Enoxaparin treatment dose, per 12 h dose", "DATA-CONTRACT Medications"
    )
    enoxaparin_treatment_mg_per_kg_daily: float = setting(
        1.4, "Enoxaparin treatment dose, once daily", "DATA-CONTRACT Medications"
    )
    enoxaparin_treatment_mg_per_kg_daily_renal: float = setting(
        0.9, "Enoxaparin treatment dose once daily when eGFR < 30", "DATA-CONTRACT Medications"
    )
    dalteparin_treatment_iu_per_kg_bid: float = setting(
        90.0, "Dalteparin treatment dose, twice daily", "DATA-CONTRACT Medications"
    )
    dalteparin_treatment_iu_per_kg_daily: float = setting(
        180.0, "Dalteparin treatment dose, daily", "DATA-CONTRACT Medications"
    )
    fondaparinux_treatment_mg: float = setting(5.0, "Fondaparinux treatment dose", "DATA-CONTRACT Medications")
    # Thrombolysis (CONTRACT Orders: catheter clearance)
    catheter_clearance_max_mg: float = setting(
        2.0, "Catheter clearance: a thrombolytic dose (each dose) at or below this", "DATA-CONTRACT Orders (R2)"
    )
    catheter_clearance_max_doses: int = setting(
        2, "Catheter clearance: at most this many doses (the usual '2 mg, may repeat once')", "DATA-CONTRACT Orders (R2)"
    )
    # Time windows, days unless named (CONTRACT General reading rules)
    negative_study_valid_days: int = setting(
        90, "A negative DVT study stays valid at most this long", "DATA-CONTRACT time windows"
    )
    acute_dvt_current_days: int = setting(
        90, "A positive study / acute DVT or PE diagnosis is current this long", "DATA-CONTRACT time windows"
    )
    bleeding_window_days: int = setting(
        30, "Bleeding counts as a contraindication this long", "DATA-CONTRACT time windows"
    )
    acute_event_window_days: int = setting(
        7, "Shock, phlegmasia, other thrombolysis indications count this long", "DATA-CONTRACT time windows"
    )
    vital_signs_window_hours: int = setting(6, "Vital signs window", "DATA-CONTRACT time windows")
    platelets_renal_window_hours: int = setting(
        72, "Platelets and creatinine / eGFR window", "DATA-CONTRACT time windows"
    )
    labs_window_days: int = setting(90, "Other labs window", "DATA-CONTRACT time windows")
    weight_window_days: int = setting(30, "Body weight window", "DATA-CONTRACT time windows")
    mass_imaging_lookback_days: int = setting(
        14, "Contrast imaging this long before the mass was recorded counts", "RULES MASS-CHARACTERIZE"
    )
    # Stent surveillance (G:45; RULES POST-STENT-FOLLOWUP): first study within 30 days, 6 months, 12 months, yearly
    stent_followup_schedule_days: tuple[int, ...] = setting(
        (30, 182, 365), "Surveillance studies due at these days after the stent", "G:45; RULES POST-STENT-FOLLOWUP"
    )
    stent_followup_yearly_days: int = setting(365, "Then yearly", "G:45; RULES POST-STENT-FOLLOWUP")
    # Thrombolysis: the literal reading of G:10 (phlegmasia AND severe hypotension). A site wanting
    # current practice (phlegmasia alone) sets this to False.
    thrombolysis_requires_hypotension: bool = setting(
        True, "Thrombolysis needs phlegmasia and severe hypotension (literal G:10)", "G:10; RULES cross-cutting"
    )


def _threshold(f: Field) -> Threshold:
    return f.metadata[THRESHOLD]


def threshold_of(name: str) -> Threshold | None:
    """The meaning and source of one setting, or None for a name that is no setting."""
    return next((_threshold(f) for f in fields(PathwaySettings) if f.name == name), None)


def documented_fields() -> list[tuple[str, object, Threshold]]:
    """(name, default, source) for every setting: rule pages and docs list them."""
    defaults = PathwaySettings()
    return [(f.name, getattr(defaults, f.name), _threshold(f)) for f in fields(PathwaySettings)]

