"""JSON text from callers and FHIR servers, read so that no number can break arithmetic later.

`NaN`, `Infinity` and `-Infinity` are not JSON (RFC 8259) but Python's reader takes them; `1e400`
is read as infinity; `1e308` overflows as soon as it is multiplied; a dose of `1e-300` mg/kg
divides into an overflow; and every one of them has made a `Decimal` quantize raise. Each such
number is kept as its text instead: every reader of a quantity already treats a string where a
number belongs as unreadable (unknown, never 0), so the rules see "value not readable" and say so.

Numbers kept: 0, and magnitudes from 1e-9 to 1e12 (a platelet count in /L is 1e11; no value the
pathway reads comes near either end).
"""
from __future__ import annotations

import json
import math

SMALLEST, LARGEST = 1e-9, 1e12


def _float(text: str) -> float | str:
    value = float(text)
    if not math.isfinite(value) or (value != 0 and not SMALLEST <= abs(value) <= LARGEST):
        return text
    return value


def _int(text: str) -> int | str:
    value = int(text)
    return value if abs(value) <= LARGEST else text


def loads(raw: bytes | bytearray | str) -> object:
    """json.loads, with out-of-range numbers kept as their text (see the module docstring)."""
    return json.loads(raw, parse_float=_float, parse_int=_int, parse_constant=str)
