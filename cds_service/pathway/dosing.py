"""Anticoagulant dosing: the guideline's LMWH regimen (G:8) and what counts as a treatment dose.

`enoxaparin_regimen` is what the service suggests; `is_treatment_dose` decides
whether a current anticoagulant already treats the DVT (DATA-CONTRACT
"Treatment dose"). Pure functions: thresholds come from `PathwaySettings`.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from cds_service.pathway.facts import DrugClass, Medication
from cds_service.pathway.settings import PathwaySettings

# Enoxaparin prefilled syringes, RxNorm SCD by dose in mg (DATA-CONTRACT "Orders the service suggests").
ENOXAPARIN_INGREDIENT_RXNORM = "67108"
PREFILLED_SYRINGES: dict[int, str] = {
    30: "854228",
    40: "854235",
    60: "854238",
    80: "854241",
    100: "854248",
    120: "854245",
    150: "854252",
}

# Anticoagulants whose every dose treats (DATA-CONTRACT "Treatment dose": "at any dose").
ANY_DOSE_TREATS = frozenset(
    {"apixaban", "rivaroxaban", "dabigatran", "edoxaban", "warfarin", "argatroban", "bivalirudin"}
)
ANTICOAGULANT_CLASSES = (DrugClass.LMWH, DrugClass.ANTICOAGULANT)
INTERNATIONAL_UNITS = frozenset({"[iu]", "iu", "u", "[u]", "unit", "units"})


def _decimal(value: float | int) -> Decimal:
    # str() first: Decimal(64.9) would carry the binary error of the float into the rounding.
    return Decimal(str(value))


def enoxaparin_dose_mg(weight_kg: float, settings: PathwaySettings) -> int:
    """1 mg/kg rounded half-up to the nearest 10 mg (65 kg -> 70 mg, 64.9 kg -> 60 mg)."""
    if weight_kg is None or weight_kg <= 0:
        raise ValueError("enoxaparin needs a positive body weight")
    step = _decimal(settings.enoxaparin_rounding_mg)
    exact = _decimal(weight_kg) * _decimal(settings.enoxaparin_mg_per_kg)
    steps = (exact / step).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(steps * step)


def renal_dosing(egfr: float | None, settings: PathwaySettings) -> bool:
    """eGFR below the threshold: once daily. Unknown eGFR is not low (the card asks to check it)."""
    return egfr is not None and egfr < settings.egfr_renal_dosing


def enoxaparin_regimen(weight_kg: float, egfr: float | None, settings: PathwaySettings) -> tuple[int, int]:
    """(dose in mg, doses per day): every 12 h, every 24 h when eGFR < 30 (G:8; RULES DVT-ANTICOAGULATE)."""
    per_day = 1 if renal_dosing(egfr, settings) else 2
    return enoxaparin_dose_mg(weight_kg, settings), per_day


def prefilled_syringe_rxnorm(dose_mg: int | float) -> str | None:
    """The RxNorm product of the prefilled syringe holding exactly this dose, if one exists."""
    if dose_mg != int(dose_mg):
        return None
    return PREFILLED_SYRINGES.get(int(dose_mg))


def is_anticoagulant(medication: Medication) -> bool:
    return medication.drug_class in ANTICOAGULANT_CLASSES


def _per_kg(dose: float, weight_kg: float) -> Decimal:
    return _decimal(dose) / _decimal(weight_kg)


def _enoxaparin_treats(med: Medication, weight_kg: float | None, egfr: float | None, s: PathwaySettings) -> bool | None:
    if med.dose is None or med.dose_unit.lower() != "mg" or med.per_day is None or not weight_kg:
        return None
    per_kg = _per_kg(med.dose, weight_kg)
    if med.per_day >= 2:
        return per_kg >= _decimal(s.enoxaparin_treatment_mg_per_kg_bid)
    if per_kg >= _decimal(s.enoxaparin_treatment_mg_per_kg_daily):
        return True
    if per_kg < _decimal(s.enoxaparin_treatment_mg_per_kg_daily_renal):
        return False
    # Between the two once-daily bounds only renal function decides; unknown stays unknown.
    return None if egfr is None else renal_dosing(egfr, s)


def _dalteparin_treats(med: Medication, weight_kg: float | None, s: PathwaySettings) -> bool | None:
    if med.dose is None or med.dose_unit.lower() not in INTERNATIONAL_UNITS or med.per_day is None or not weight_kg:
        return None
    per_kg = _per_kg(med.dose, weight_kg)
    if med.per_day >= 2:
        return per_kg >= _decimal(s.dalteparin_treatment_iu_per_kg_bid)
    return per_kg >= _decimal(s.dalteparin_treatment_iu_per_kg_daily)


def _heparin_treats(med: Medication) -> bool | None:
    if med.is_infusion or "intravenous" in med.route or med.route in ("iv", "47625008"):
        return True
    return False if med.route else None


def _fondaparinux_treats(med: Medication, s: PathwaySettings) -> bool | None:
    if med.dose is None or med.dose_unit.lower() != "mg":
        return None
    return _decimal(med.dose) >= _decimal(s.fondaparinux_treatment_mg)


def is_treatment_dose(
    medication: Medication, weight_kg: float | None, egfr: float | None, settings: PathwaySettings
) -> bool | None:
    """True: treats a DVT; False: prophylactic dose; None: dose unknown (DATA-CONTRACT "Treatment dose").

    Both False and None leave `DVT-ANTICOAGULATE` firing: prophylactic or unknown is not treatment.
    """
    if not is_anticoagulant(medication):
        return False
    ingredient = medication.ingredient.lower()
    if ingredient in ANY_DOSE_TREATS:
        return True
    if ingredient == "enoxaparin":
        return _enoxaparin_treats(medication, weight_kg, egfr, settings)
    if ingredient == "dalteparin":
        return _dalteparin_treats(medication, weight_kg, settings)
    if ingredient == "heparin":
        return _heparin_treats(medication)
    if ingredient == "fondaparinux":
        return _fondaparinux_treats(medication, settings)
    # Tinzaparin and anything else: the contract gives no treatment dose, so the dose is unknown.
    return None
