"""The one units table: UCUM conversion to the units the rules compare in (DATA-CONTRACT "Quantities").

Any unit not listed is unknown: the converted value is None, never a guess.
"""
from __future__ import annotations

import math

LENGTH_TO_MM = {"mm": 1.0, "cm": 10.0, "m": 1000.0, "[in_i]": 25.4}
MASS_TO_KG = {"kg": 1.0, "g": 0.001, "[lb_av]": 0.45359237}  # body weight
MASS_TO_MG = {"mg": 1.0, "g": 1000.0, "ug": 0.001, "mcg": 0.001}  # drug doses ("mcg": not UCUM, but common)
TIME_TO_DAYS = {"s": 1 / 86400, "min": 1 / 1440, "h": 1 / 24, "d": 1.0, "wk": 7.0, "mo": 30.0, "a": 365.0}
CONCENTRATION_TO_G_PER_DL = {"g/dL": 1.0, "g/L": 0.1}
PLATELETS_TO_10_3_PER_UL = {"10*3/uL": 1.0, "10*9/L": 1.0, "/uL": 0.001, "K/uL": 1.0}
PERCENT = {"%": 1.0}
PRESSURE_MM_HG = {"mm[Hg]": 1.0}
EGFR = {"mL/min/{1.73_m2}": 1.0, "mL/min/1.73m2": 1.0}

DIMENSIONS = {
    "mm": LENGTH_TO_MM,
    "kg": MASS_TO_KG,
    "mg": MASS_TO_MG,
    "d": TIME_TO_DAYS,
    "g/dL": CONCENTRATION_TO_G_PER_DL,
    "10*3/uL": PLATELETS_TO_10_3_PER_UL,
    "%": PERCENT,
    "mm[Hg]": PRESSURE_MM_HG,
    "mL/min/{1.73_m2}": EGFR,
}

# Length units as a clinician writes them in order text, as UCUM. A bare "in" is not one: "14 x 60
# in the left CIV" would turn a length in mm into inches.
WRITTEN_LENGTH_UNITS = {"mm": "mm", "cm": "cm", "inch": "[in_i]", "inches": "[in_i]", "[in_i]": "[in_i]"}


def finite_number(value: object) -> float | None:
    """`value` as a float when it is a real, finite JSON number; None otherwise (NaN, infinities, bools)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond any float
        return None
    return number if math.isfinite(number) else None


def convert(value: float | int | None, unit_code: str | None, target: str) -> float | None:
    """Convert `value` in `unit_code` (UCUM) to `target`; None when the unit is not known for it."""
    number = finite_number(value)
    if number is None or not isinstance(unit_code, str):
        return None
    factor = DIMENSIONS[target].get(unit_code.strip())
    if factor is None:
        return None
    return number * factor


def quantity_to(quantity: object, target: str) -> float | None:
    """Convert a FHIR Quantity (JSON) to `target`, reading `code`, else `unit`."""
    if not isinstance(quantity, dict):
        return None
    value = quantity.get("value")
    if finite_number(value) is None:
        return None
    unit = quantity.get("code") or quantity.get("unit")
    return convert(value, unit, target)
