"""Enoxaparin regimen (G:8; RULES DVT-ANTICOAGULATE) and the treatment-dose reading (DATA-CONTRACT)."""
from __future__ import annotations

import pytest

from cds_service.pathway.dosing import (
    enoxaparin_dose_mg,
    enoxaparin_regimen,
    is_treatment_dose,
    prefilled_syringe_rxnorm,
)
from cds_service.pathway.facts import DrugClass, Evidence, Medication
from cds_service.pathway.settings import PathwaySettings

S = PathwaySettings()


def med(ingredient, drug_class=DrugClass.LMWH, dose=None, unit="mg", per_day=None, route="", infusion=False):
    return Medication(
        evidence=Evidence("MedicationRequest/m", ingredient),
        drug_class=drug_class,
        ingredient=ingredient,
        dose=dose,
        dose_unit=unit,
        per_day=per_day,
        route=route,
        is_infusion=infusion,
    )


@pytest.mark.parametrize(
    "weight, dose",
    [(65, 70), (64.9, 60), (75, 80), (74.9, 70), (85, 90), (100, 100), (54.99, 50), (55, 60), (120.4, 120)],
)
def test_dose_is_1_mg_per_kg_rounded_half_up_to_10_mg(weight, dose):
    assert enoxaparin_dose_mg(weight, S) == dose


def test_rounding_is_half_up_not_bankers():
    # round(6.5) == 6 and round(8.5) == 8 in Python; the regimen must give 70 and 90.
    assert enoxaparin_dose_mg(65, S) == 70
    assert enoxaparin_dose_mg(85, S) == 90


def test_dose_follows_the_settings():
    assert enoxaparin_dose_mg(65, PathwaySettings(enoxaparin_rounding_mg=20)) == 60
    assert enoxaparin_dose_mg(65, PathwaySettings(enoxaparin_mg_per_kg=1.5)) == 100


@pytest.mark.parametrize("weight", [0, -70])
def test_dose_needs_a_positive_weight(weight):
    with pytest.raises(ValueError):
        enoxaparin_dose_mg(weight, S)


@pytest.mark.parametrize("egfr, per_day", [(None, 2), (30, 2), (29.9, 1), (90, 2), (10, 1)])
def test_every_12_h_unless_egfr_below_30(egfr, per_day):
    assert enoxaparin_regimen(80, egfr, S) == (80, per_day)


@pytest.mark.parametrize(
    "dose, product",
    [(30, "854228"), (40, "854235"), (60, "854238"), (80, "854241"), (100, "854248"), (120, "854245"),
     (150, "854252"), (70, None), (90, None), (60.5, None)],
)
def test_prefilled_syringe_products(dose, product):
    assert prefilled_syringe_rxnorm(dose) == product


# -- treatment dose -----------------------------------------------------------------------------------
@pytest.mark.parametrize("dose, expected", [(90, True), (89.9, False), (40, False)])
def test_enoxaparin_twice_daily_treats_from_0_9_mg_per_kg(dose, expected):
    assert is_treatment_dose(med("enoxaparin", dose=dose, per_day=2), 100, 60, S) is expected


@pytest.mark.parametrize("dose, egfr, expected", [
    (140, None, True),   # >= 1.4 mg/kg once daily: treatment whatever the kidneys
    (139.9, 60, False),  # below 1.4 with normal renal function
    (139.9, 29.9, True),  # >= 0.9 once daily when eGFR < 30
    (90, 30, False),
    (90, None, None),   # between the bounds and renal function unknown: dose unknown
    (89.9, 29.9, False),
])
def test_enoxaparin_once_daily(dose, egfr, expected):
    assert is_treatment_dose(med("enoxaparin", dose=dose, per_day=1), 100, egfr, S) is expected


@pytest.mark.parametrize("medication, weight", [
    (med("enoxaparin", dose=None, per_day=2), 80),
    (med("enoxaparin", dose=80, per_day=None), 80),
    (med("enoxaparin", dose=80, per_day=2), None),
    (med("enoxaparin", dose=0.8, unit="mL", per_day=2), 80),
])
def test_enoxaparin_dose_unknown_is_none(medication, weight):
    assert is_treatment_dose(medication, weight, 60, S) is None


@pytest.mark.parametrize("dose, per_day, expected", [
    (9000, 2, True), (8990, 2, False), (18000, 1, True), (17990, 1, False), (5000, 1, False)])
def test_dalteparin(dose, per_day, expected):
    assert is_treatment_dose(med("dalteparin", dose=dose, unit="[iU]", per_day=per_day), 100, 60, S) is expected


def test_heparin_treats_by_iv_infusion_only():
    heparin = DrugClass.ANTICOAGULANT
    assert is_treatment_dose(med("heparin", heparin, infusion=True), 80, 60, S) is True
    assert is_treatment_dose(med("heparin", heparin, route="intravenous"), 80, 60, S) is True
    assert is_treatment_dose(med("heparin", heparin, dose=5000, unit="[iU]", route="subcutaneous"), 80, 60, S) is False
    assert is_treatment_dose(med("heparin", heparin, dose=5000, unit="[iU]"), 80, 60, S) is None


@pytest.mark.parametrize("dose, expected", [(5, True), (7.5, True), (4.99, False), (2.5, False), (None, None)])
def test_fondaparinux_from_5_mg(dose, expected):
    assert is_treatment_dose(med("fondaparinux", DrugClass.ANTICOAGULANT, dose=dose), 80, 60, S) is expected


@pytest.mark.parametrize("ingredient", ["apixaban", "rivaroxaban", "dabigatran", "edoxaban", "warfarin", "argatroban", "bivalirudin"])
def test_any_dose_of_these_treats(ingredient):
    assert is_treatment_dose(med(ingredient, DrugClass.ANTICOAGULANT, dose=2.5, per_day=2), None, None, S) is True


def test_tinzaparin_has_no_contract_dose_so_it_is_unknown():
    assert is_treatment_dose(med("tinzaparin", dose=14000, unit="[iU]", per_day=1), 80, 60, S) is None


def test_an_antiplatelet_is_never_an_anticoagulant_treatment():
    assert is_treatment_dose(med("aspirin", DrugClass.ANTIPLATELET, dose=81, per_day=1), 80, 60, S) is False
