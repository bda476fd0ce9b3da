"""Every clinical threshold and time window of the pathway, in one object.

Each field cites where it comes from: `G:<line>` is a line of
`../shared/guideline/000_2661f75dfd024a47.txt`; `RULES`/`CONTRACT` are
`../shared/pathway/RULES.md` and `DATA-CONTRACT.md`. A site changes a value by
building its own `PathwaySettings(...)`; no rule holds a literal threshold.
"""
from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Threshold:
    """Documentation of one setting: its meaning and its source."""

    meaning: str
    source: str


@dataclass(frozen=True)
class PathwaySettings:
    # Stent sizing (G:37-40, G:52)
    min_stent_length_mm: float = 60.0
    oversize_min_mm: float = 1.0
    oversize_max_mm: float = 4.0
    # NIVL (G:21)
    ivus_stenosis_threshold_pct: float = 61.0
    # Other causes of edema (G:14; CONTRACT Observations)
    albumin_low_g_dl: float = 2.5
    protein_low_g_dl: float = 5.0
    # Severe hypotension (G:10; CONTRACT Conditions)
    systolic_low_mm_hg: float = 90.0
    hypotension_readings: int = 2
    hypotension_min_interval_minutes: int = 15
    # Platelets (CONTRACT Conditions: contraindication / caution)
    platelets_contraindication_10_3_ul: float = 25.0
    platelets_caution_10_3_ul: float = 50.0
    # Renal dosing of enoxaparin (RULES DVT-ANTICOAGULATE)
    egfr_renal_dosing: float = 30.0
    # Enoxaparin regimen (G:8; RULES DVT-ANTICOAGULATE, ANTICOAG-REGIMEN)
    enoxaparin_mg_per_kg: float = 1.0
    enoxaparin_rounding_mg: int = 10
    regimen_tolerance_fraction: float = 0.10
    regimen_tolerance_min_mg: float = 5.0
    # Treatment dose (CONTRACT Medications)
    enoxaparin_treatment_mg_per_kg_bid: float = 0.9
    enoxaparin_treatment_mg_per_kg_daily: float = 1.4
    enoxaparin_treatment_mg_per_kg_daily_renal: float = 0.9
    dalteparin_treatment_iu_per_kg_bid: float = 90.0
    dalteparin_treatment_iu_per_kg_daily: float = 180.0
    fondaparinux_treatment_mg: float = 5.0
    # Thrombolysis (CONTRACT Orders: catheter clearance)
    catheter_clearance_max_mg: float = 2.0
    # Time windows, days unless named (CONTRACT General reading rules)
    negative_study_valid_days: int = 90
    acute_dvt_current_days: int = 90
    bleeding_window_days: int = 30
    acute_event_window_days: int = 7  # shock, phlegmasia, other thrombolysis indications
    vital_signs_window_hours: int = 6
    platelets_renal_window_hours: int = 72
    labs_window_days: int = 90
    weight_window_days: int = 30
    mass_imaging_lookback_days: int = 14  # contrast CT / MRI from 14 days before the mass (RULES MASS-CHARACTERIZE)
    # Stent surveillance (G:45; RULES POST-STENT-FOLLOWUP): first study within 30 days, 6 months, 12 months, yearly
    stent_followup_schedule_days: tuple[int, ...] = (30, 182, 365)
    stent_followup_yearly_days: int = 365
    # Thrombolysis: the literal reading of G:10 (phlegmasia AND severe hypotension). A site wanting
    # current practice (phlegmasia alone) sets this to False.
    thrombolysis_requires_hypotension: bool = True


SOURCES: dict[str, Threshold] = {
    "min_stent_length_mm": Threshold("Minimum iliac venous stent length", "G:38, G:52"),
    "oversize_min_mm": Threshold("Stent diameter at least reference EIV diameter + this", "G:37, G:40"),
    "oversize_max_mm": Threshold("Stent diameter at most reference EIV diameter + this", "G:37, G:40"),
    "ivus_stenosis_threshold_pct": Threshold("IVUS diameter stenosis must exceed this for NIVL", "G:21, G:31"),
    "albumin_low_g_dl": Threshold("Albumin below this is hypoalbuminemia", "G:14; DATA-CONTRACT Observations"),
    "protein_low_g_dl": Threshold("Total protein below this is hypoproteinemia", "G:14; DATA-CONTRACT Observations"),
    "systolic_low_mm_hg": Threshold("Systolic BP below this is hypotension", "G:10; DATA-CONTRACT Conditions"),
    "hypotension_readings": Threshold("Low systolic readings needed for severe hypotension", "DATA-CONTRACT Conditions"),
    "hypotension_min_interval_minutes": Threshold("Minimum time between the low readings", "DATA-CONTRACT Conditions"),
    "platelets_contraindication_10_3_ul": Threshold("Platelets below this contraindicate anticoagulation", "DATA-CONTRACT Conditions"),
    "platelets_caution_10_3_ul": Threshold("Platelets below this (and at or above the contraindication) need hematology", "RULES DVT-ANTICOAGULATE"),
    "egfr_renal_dosing": Threshold("eGFR below this: enoxaparin every 24 h", "RULES DVT-ANTICOAGULATE"),
    "enoxaparin_mg_per_kg": Threshold("Therapeutic enoxaparin per dose", "G:8; RULES DVT-ANTICOAGULATE"),
    "enoxaparin_rounding_mg": Threshold("Enoxaparin dose rounded half-up to this step", "RULES DVT-ANTICOAGULATE"),
    "regimen_tolerance_fraction": Threshold("Ordered LMWH dose within this fraction of the computed dose", "RULES ANTICOAG-REGIMEN"),
    "regimen_tolerance_min_mg": Threshold("...or within this many mg, whichever is larger", "RULES ANTICOAG-REGIMEN"),
    "enoxaparin_treatment_mg_per_kg_bid": Threshold("Enoxaparin treatment dose, per 12 h dose", "DATA-CONTRACT Medications"),
    "enoxaparin_treatment_mg_per_kg_daily": Threshold("Enoxaparin treatment dose, once daily", "DATA-CONTRACT Medications"),
    "enoxaparin_treatment_mg_per_kg_daily_renal": Threshold("Enoxaparin treatment dose once daily when eGFR < 30", "DATA-CONTRACT Medications"),
    "dalteparin_treatment_iu_per_kg_bid": Threshold("Dalteparin treatment dose, twice daily", "DATA-CONTRACT Medications"),
    "dalteparin_treatment_iu_per_kg_daily": Threshold("Dalteparin treatment dose, daily", "DATA-CONTRACT Medications"),
    "fondaparinux_treatment_mg": Threshold("Fondaparinux treatment dose", "DATA-CONTRACT Medications"),
    "catheter_clearance_max_mg": Threshold("Thrombolytic total dose at or below this is catheter clearance", "DATA-CONTRACT Orders"),
    "negative_study_valid_days": Threshold("A negative DVT study stays valid at most this long", "DATA-CONTRACT time windows"),
    "acute_dvt_current_days": Threshold("A positive study / acute DVT or PE diagnosis is current this long", "DATA-CONTRACT time windows"),
    "bleeding_window_days": Threshold("Bleeding counts as a contraindication this long", "DATA-CONTRACT time windows"),
    "acute_event_window_days": Threshold("Shock, phlegmasia, other thrombolysis indications count this long", "DATA-CONTRACT time windows"),
    "vital_signs_window_hours": Threshold("Vital signs window", "DATA-CONTRACT time windows"),
    "platelets_renal_window_hours": Threshold("Platelets and creatinine / eGFR window", "DATA-CONTRACT time windows"),
    "labs_window_days": Threshold("Other labs window", "DATA-CONTRACT time windows"),
    "weight_window_days": Threshold("Body weight window", "DATA-CONTRACT time windows"),
    "mass_imaging_lookback_days": Threshold("Contrast imaging this long before the mass was recorded counts", "RULES MASS-CHARACTERIZE"),
    "stent_followup_schedule_days": Threshold("Surveillance studies due at these days after the stent", "G:45; RULES POST-STENT-FOLLOWUP"),
    "stent_followup_yearly_days": Threshold("Then yearly", "G:45; RULES POST-STENT-FOLLOWUP"),
    "thrombolysis_requires_hypotension": Threshold("Thrombolysis needs phlegmasia and severe hypotension (literal G:10)", "G:10; RULES cross-cutting"),
}


def documented_fields() -> list[tuple[str, object, Threshold]]:
    """(name, default, source) for every setting: rule pages and docs list them."""
    defaults = PathwaySettings()
    return [(f.name, getattr(defaults, f.name), SOURCES[f.name]) for f in fields(PathwaySettings)]
