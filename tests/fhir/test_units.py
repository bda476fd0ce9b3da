"""UCUM conversion (DATA-CONTRACT "Quantities"): exact factors, no rounding, unknown units are None."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cds_service.fhir.units import convert, quantity_to


@pytest.mark.parametrize(
    "value, unit, target, expected",
    [
        (60, "mm", "mm", 60.0),
        (6, "cm", "mm", 60.0),
        (5.9, "cm", "mm", 59.0),
        (0.06, "m", "mm", 60.0),
        (2, "[in_i]", "mm", 50.8),
        (70, "kg", "kg", 70.0),
        (1, "g", "mg", 1000.0),
        (500, "ug", "mg", 0.5),
        (2, "wk", "d", 14.0),
        (12, "h", "d", 0.5),
        (70000, "g", "kg", 70.0),
        (100, "[lb_av]", "kg", 45.359237),
        (2.5, "g/dL", "g/dL", 2.5),
        (25, "g/L", "g/dL", 2.5),
        (50, "10*3/uL", "10*3/uL", 50.0),
        (50, "10*9/L", "10*3/uL", 50.0),
        (50000, "/uL", "10*3/uL", 50.0),
        (50, "K/uL", "10*3/uL", 50.0),
        (61.1, "%", "%", 61.1),
        (89, "mm[Hg]", "mm[Hg]", 89.0),
        (29, "mL/min/{1.73_m2}", "mL/min/{1.73_m2}", 29.0),
    ],
)
def test_known_units_convert_exactly(value, unit, target, expected):
    assert convert(value, unit, target) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    "quantity, target, expected",
    [
        # both sides of the 60 mm stent length (G:38)
        ({"value": 60, "code": "mm"}, "mm", 60.0),
        ({"value": 59.9, "code": "mm"}, "mm", 59.9),
        ({"value": 6, "code": "cm"}, "mm", 60.0),
        ({"value": 5.99, "code": "cm"}, "mm", 59.9),
        # 2.36 in is 59.944 mm: under 60 without rounding (terminology.md 9)
        ({"value": 2.36, "code": "[in_i]"}, "mm", 59.944),
        # both sides of albumin 2.5 g/dL and platelets 25 / 50 x10^3/uL
        ({"value": 25, "code": "g/L"}, "g/dL", 2.5),
        ({"value": 24.9, "code": "g/L"}, "g/dL", 2.49),
        ({"value": 25000, "code": "/uL"}, "10*3/uL", 25.0),
        ({"value": 24900, "code": "/uL"}, "10*3/uL", 24.9),
        ({"value": 50, "code": "10*9/L"}, "10*3/uL", 50.0),
        ({"value": 50.1, "code": "10*9/L"}, "10*3/uL", 50.1),
        # IVUS 61 % vs 61.1 % is passed through unchanged
        ({"value": 61, "code": "%"}, "%", 61.0),
        ({"value": 61.1, "code": "%"}, "%", 61.1),
    ],
)
def test_quantities_on_both_sides_of_thresholds(quantity, target, expected):
    assert quantity_to(quantity, target) == pytest.approx(expected, rel=1e-12)


def test_code_wins_over_unit_text():
    assert quantity_to({"value": 6, "unit": "centimetres", "code": "cm"}, "mm") == 60.0


def test_unit_text_is_read_when_there_is_no_code():
    assert quantity_to({"value": 6, "unit": "cm"}, "mm") == 60.0


@pytest.mark.parametrize(
    "quantity, target",
    [
        ({"value": 2, "code": "in"}, "mm"),  # not UCUM
        ({"value": 2, "code": "inch"}, "mm"),
        ({"value": 160, "code": "[lb_us]"}, "kg"),
        ({"value": 3, "code": "mg/dL"}, "g/dL"),
        ({"value": 50, "code": "mm"}, "%"),
        ({"value": 12, "code": "kPa"}, "mm[Hg]"),
        ({"value": 60}, "mm"),  # no unit at all
        ({"code": "mm"}, "mm"),  # no value
        ({"value": "60", "code": "mm"}, "mm"),  # a string is not a number
        ({"value": True, "code": "mm"}, "mm"),
        (None, "mm"),
        ("60 mm", "mm"),
    ],
)
def test_unknown_units_and_unreadable_values_are_none(quantity, target):
    assert quantity_to(quantity, target) is None


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_centimetres_are_always_ten_millimetres(value):
    assert convert(value, "cm", "mm") == pytest.approx(value * 10)


def test_unit_conversion_refuses_values_and_units_that_are_not_numbers_and_text():
    assert convert(5.9, "cm", "mm") == 59.0
    assert convert(5, ["cm"], "mm") is None
    assert convert(True, "cm", "mm") is None
    assert convert("5", "cm", "mm") is None
