"""Card wording a clinician read as awkward in the CDS Hooks sandbox (fix branch): the text only, no rule logic."""
from __future__ import annotations

from dataclasses import replace

import pytest

from cds_service.pathway.assessment import assess
from cds_service.pathway.facts import DraftOrder, DrugClass, Medication, OrderKind, Side, Waveform, WaveformFact
from cds_service.rules.framework import SuggestContext
from cds_service.rules.order_checks import evaluate_orders
from cds_service.rules.order_context import card_evidence
from cds_service.rules.registry import ORDER_RULES
from cds_service.services.patient_view import evaluate
from tests.helpers.facts import S, ago, cond, dvt_dx, ev, excluded, left_swelling, mass, meas, stent


def card(facts, rule_id: str, settings=S):
    for fired in evaluate(facts, assess(facts, settings), settings):
        if fired.rule.rule_id == rule_id:
            return fired.rule.card(fired.finding, settings, lambda r: f"https://cds.test/rules/{r}", SuggestContext("p1"))
    return None


# -- DVT-ANTICOAGULATE: the rounding step is not a dose
def _dvt():
    return left_swelling(dvt_diagnoses=[dvt_dx(days=3)], weight=[meas("Observation/w", 83, "kg", days=2)],
                         egfr=[meas("Observation/egfr", 90, "mL/min/{1.73_m2}", hours=5)],
                         platelets=[meas("Observation/plt", 200, "10*3/uL", hours=5)])


def test_enoxaparin_dose_says_rounded_to_the_nearest_step():
    detail = card(_dvt(), "DVT-ANTICOAGULATE").detail
    assert "= 80 mg subcutaneously every 12 h (rounded to the nearest 10 mg)." in detail
    assert "(rounded to 10 mg)" not in detail


def test_enoxaparin_rounding_step_comes_from_the_settings():
    five = replace(S, enoxaparin_rounding_mg=5)
    assert "(rounded to the nearest 5 mg)" in card(_dvt(), "DVT-ANTICOAGULATE", five).detail


# -- MASS-CHARACTERIZE: the look-back window in plain words
def test_mass_card_states_the_lookback_window_plainly():
    detail = card(left_swelling(masses=[mass()]), "MASS-CHARACTERIZE").detail
    assert ("No contrast CT or MRI of the abdomen or pelvis from 14 days before the mass was recorded onwards."
            in detail)
    assert "since 14 days before it" not in detail and "abdomen / pelvis" not in detail


def test_mass_card_lookback_comes_from_the_settings_and_names_mri_in_pregnancy():
    thirty = replace(S, mass_imaging_lookback_days=30)
    f = left_swelling(masses=[mass()], pregnancy=[cond("Condition/preg")])
    detail = card(f, "MASS-CHARACTERIZE", thirty).detail
    assert ("No contrast CT or MRI of the abdomen or pelvis (nor MRI without contrast) from 30 days before the "
            "mass was recorded onwards." in detail)


# -- DVT-PELVIC-IMAGING: this patient's trigger in a sentence, and only the guideline lines behind it
G5 = "(G:5)"
G6 = "(G:6)"
PERSISTS = "Whole-leg swelling persists after this patient's negative duplex."
FLAT_CFV = "This patient's common femoral vein flow is flat, non-phasic or absent: a sign of proximal obstruction."
MASS = "This patient has an iliac or pelvic mass: a leg ultrasound cannot exclude thrombus at the compression."


def _persisting():
    return [ev("Observation/persist", "persists", ago(1))]


def _flat_cfv():
    return [WaveformFact(ev("Observation/cfv", "non-phasic", ago(2)), Waveform.NON_PHASIC, Side.LEFT)]


@pytest.mark.parametrize(("facts", "sentences", "quotes", "not_quoted"), [
    (excluded(persisting_swelling=_persisting()), (PERSISTS,), (G5,), (G6,)),
    (excluded(masses=[mass()]), (MASS,), (G5,), (G6,)),
    (excluded(cfv_waveforms=_flat_cfv()), (FLAT_CFV,), (G6,), (G5,)),
    (excluded(persisting_swelling=_persisting(), cfv_waveforms=_flat_cfv()), (PERSISTS, FLAT_CFV), (G5, G6), ()),
])
def test_pelvic_imaging_names_this_patients_triggers_and_quotes_their_lines(facts, sentences, quotes, not_quoted):
    detail = card(facts, "DVT-PELVIC-IMAGING").detail
    assert "Trigger(s)" not in detail
    for sentence in sentences:
        assert sentence in detail
    for quote in quotes:
        assert quote in detail
    for quote in not_quoted:
        assert quote not in detail


# -- ANTICOAG-REGIMEN, POST-STENT-ANTITHROMBOTIC-ORDER, THROMBOLYSIS-NOT-INDICATED: the order shown once
def drug_order(display: str, ingredient: str, drug_class: DrugClass, kind: OrderKind, dose: float,
               per_day: float | None, **kw) -> DraftOrder:
    ref = f"MedicationRequest/{ingredient}"
    medication = Medication(ev(ref), drug_class, ingredient, dose, "mg", per_day)
    return DraftOrder(ref=ref, resource_type="MedicationRequest", display=display, kind=kind, medication=medication,
                      **kw)


def order_card(order: DraftOrder, facts, rule_id: str):
    fired = [f for f in evaluate_orders([order], facts, assess(facts, S), S) if f.rule_id == rule_id]
    assert len(fired) == 1
    rule = next(r for r in ORDER_RULES if r.rule_id == rule_id)
    return rule.card(fired[0], S, lambda r: f"https://cds.test/rules/{r}", SuggestContext("p1"),
                     evidence=card_evidence(fired[0], order))


def _dvt_patient():
    return left_swelling(dvt_diagnoses=[dvt_dx(days=3)], weight=[meas("Observation/w", 80, "kg", days=1)],
                         egfr=[meas("Observation/egfr", 88, "mL/min/{1.73_m2}", hours=2)],
                         platelets=[meas("Observation/plt", 245, "10*3/uL", hours=2)])


ONCE_CASES = [
    (drug_order("Apixaban 5 mg tablet", "apixaban", DrugClass.ANTICOAGULANT, OrderKind.ANTICOAGULANT, 5.0,
                2.0),
     _dvt_patient(), "ANTICOAG-REGIMEN"),
    (drug_order("Aspirin 81 mg tablet", "aspirin", DrugClass.ANTIPLATELET, OrderKind.ANTIPLATELET, 81.0, 1.0),
     left_swelling(stents=[stent(days=150)], nivl_diagnoses=[cond("Condition/may-thurner")]),
     "POST-STENT-ANTITHROMBOTIC-ORDER"),
    (replace(drug_order("Alteplase injection", "alteplase", DrugClass.THROMBOLYTIC, OrderKind.THROMBOLYSIS, 100.0,
                        None), thrombolytic_dose_mg=100.0, thrombolytic_doses=1),
     _dvt_patient(), "THROMBOLYSIS-NOT-INDICATED"),
    (DraftOrder(ref="DeviceRequest/filter", resource_type="DeviceRequest", display="Retrievable IVC filter",
                kind=OrderKind.IVC_FILTER),
     _dvt_patient(), "IVC-FILTER-NOT-INDICATED"),
]


@pytest.mark.parametrize(("order", "facts", "rule_id"), ONCE_CASES)
def test_order_card_shows_the_order_once(order, facts, rule_id):
    detail = order_card(order, facts, rule_id).detail
    assert f"**Order:** {order.display}." in detail
    assert detail.count(order.display) == 1, detail
    facts_used = detail.split("**Facts used**")[1].split("**Guideline**")[0] if "**Facts used**" in detail else ""
    assert f"- {order.display}" not in facts_used


@pytest.mark.parametrize(("order", "facts", "rule_id"), ONCE_CASES)
def test_order_card_log_still_records_the_order(order, facts, rule_id):
    assert order.ref in order_card(order, facts, rule_id).fact_refs  # left out of the text, not of the card log
