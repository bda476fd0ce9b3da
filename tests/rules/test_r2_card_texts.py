"""Revision 2 card texts of the NIVL, anticoagulation and data cards (RULES.md rows marked R2, "Card text (R2)")."""
from __future__ import annotations

import pytest

from cds_service.pathway.assessment import assess
from cds_service.pathway.facts import Side
from cds_service.rules.framework import SuggestContext
from cds_service.rules.registry import rule_by_id, rules_for
from cds_service.services.patient_view import evaluate
from tests.helpers.facts import (
    S,
    cond,
    duplex,
    dvt_dx,
    excluded,
    left_swelling,
    mass,
    meas,
    nivl_confirmed,
    pelvic,
    swelling,
)

LABS = {"albumin": [meas("Observation/alb", 4.0, "g/dL", days=6)],
        "egfr": [meas("Observation/egfr", 90, "mL/min/{1.73_m2}", days=1)]}


def card(facts, rule_id: str):
    for fired in evaluate(facts, assess(facts, S), S):
        if fired.rule.rule_id == rule_id:
            return fired.rule.card(fired.finding, S, lambda r: f"https://cds.test/rules/{r}", SuggestContext("p1"))
    return None


# -- NIVL-STENT-CANDIDATE: "no other cause of edema recorded", and the checks not on record
def test_stent_candidate_says_no_other_cause_recorded_never_excluded():
    detail = card(nivl_confirmed(**LABS), "NIVL-STENT-CANDIDATE").detail
    assert "no other cause of edema recorded" in detail and "excluded" not in detail
    assert "albumin" not in detail.lower() and "eGFR" not in detail  # both checks are on record


@pytest.mark.parametrize(("labs", "named", "not_named"), [
    ({}, ("No albumin or total protein result", "no renal function (eGFR) result"), ()),
    ({"egfr": LABS["egfr"]}, ("No albumin or total protein result",), ("eGFR",)),
    ({"albumin": LABS["albumin"]}, ("No renal function (eGFR) result",), ("albumin",)),
    ({"total_protein": [meas("Observation/tp", 6.5, "g/dL", days=10)], "egfr": LABS["egfr"]}, (), ("albumin", "eGFR")),
    # outside the 90-day lab window: not on record
    ({"albumin": [meas("Observation/alb", 4.0, "g/dL", days=91)], "egfr": LABS["egfr"]},
     ("No albumin or total protein result in the last 90 days",), ()),
])
def test_stent_candidate_names_the_checks_not_on_record(labs, named, not_named):
    detail = card(nivl_confirmed(**labs), "NIVL-STENT-CANDIDATE").detail
    for phrase in named:
        assert phrase in detail
    reasoning = detail.split("**Facts used**")[0]
    for word in not_named:
        assert word not in reasoning


# -- NIVL-WORKUP: one card per action, "left-sided" only for left swelling
def test_workup_keeps_the_ivus_step_when_no_other_card_asks_for_it():
    assert "venography with IVUS before any intervention" in card(excluded(), "NIVL-WORKUP").detail


@pytest.mark.parametrize(("facts", "other"), [
    (excluded(ct_compression=[meas("Observation/ct", 70, "%", days=1)]), "NIVL-CT-NOT-DIAGNOSTIC"),
    (excluded(nivl_diagnoses=[cond("Condition/may-thurner")]), "NIVL-IVUS-REQUIRED"),
])
def test_workup_leaves_the_ivus_step_to_the_card_that_asks_for_it(facts, other):
    workup = card(facts, "NIVL-WORKUP")
    assert card(facts, other) is not None
    assert "venography with IVUS" not in workup.detail and "see the" in workup.detail


def test_workup_has_no_ivus_step_once_an_ivus_result_exists():
    detail = card(excluded(ivus_stenosis=[meas("Observation/ivus", 40, "%", days=1)]), "NIVL-WORKUP")
    assert detail is None or "IVUS before any intervention" not in detail.detail


def test_left_sided_presentation_only_for_left_swelling():
    right = excluded(swellings=[swelling(Side.RIGHT)], duplex_results=[duplex(side=Side.RIGHT)])
    assert "Left-sided presentation fits NIVL" in card(excluded(), "NIVL-WORKUP").detail
    assert "left-sided" not in card(right, "NIVL-WORKUP").detail.lower()


# -- DVT-ANTICOAGULATE: at eGFR < 30 the card never says "twice daily"
def _dvt(egfr: float):
    return left_swelling(dvt_diagnoses=[dvt_dx(days=3)], weight=[meas("Observation/w", 80, "kg", days=2)],
                         egfr=[meas("Observation/egfr", egfr, "mL/min/{1.73_m2}", hours=5)],
                         platelets=[meas("Observation/plt", 200, "10*3/uL", hours=5)])


def test_once_daily_card_never_says_twice_daily():
    once = card(_dvt(29), "DVT-ANTICOAGULATE")
    assert "twice daily" not in once.detail.lower() and "every 24 h" in once.detail and "(G:8)" not in once.detail
    twice = card(_dvt(30), "DVT-ANTICOAGULATE")
    assert "twice daily" in twice.detail and "every 12 h" in twice.detail and "(G:8)" in twice.detail


# -- every patient-view rule: at most 2 quotes, each line one of the rule's own
def test_every_patient_view_rule_quotes_its_own_lines():
    for rule in rules_for("patient-view"):
        if not callable(rule.quoted):
            assert set(rule.quotes_for()) <= set(rule.guideline) and len(rule.quotes_for()) <= 2, rule.rule_id
    assert rule_by_id("NIVL-WORKUP").quotes_for() == (12,)  # G:15 speaks of pregnancy: not quoted on every card


# -- NIVL-OTHER-CAUSES: each cause with its date, in one sentence
def test_other_causes_are_named_with_their_dates_in_one_sentence():
    f = excluded(edema_causes=[cond("Condition/hf", kind="heart-failure", display="Heart failure")],
                 albumin=[meas("Observation/alb", 2.1, "g/dL", days=5)])
    detail = card(f, "NIVL-OTHER-CAUSES").detail
    sentence = next(line for line in detail.splitlines() if line.startswith("**Facts used:**"))
    assert "Heart failure (" in sentence and "2.1 g/dL (" in sentence and "\n- " not in detail


# -- NIVL-WORKUP: the mass step as the patient needs it (pregnancy wording only in pregnancy)
@pytest.mark.parametrize(("pregnant", "study"), [(False, "characterize the mass with contrast CT or MRI"),
                                                 (True, "characterize the mass with MRI without gadolinium")])
def test_workup_mass_step_follows_pregnancy(pregnant, study):
    extra = {"pregnancy": [cond("Condition/preg")]} if pregnant else {}
    mr = [pelvic(days=1, method="mr-venography")]  # DVT excluded; MR venography is not the mass study
    detail = card(excluded(masses=[mass()], pelvic_venography=mr, **extra), "NIVL-WORKUP").detail
    assert study in detail
    assert ("gadolinium" in detail) is pregnant


def test_workup_asks_to_record_the_nature_of_an_imaged_mass():
    detail = card(excluded(masses=[mass()], pelvic_venography=[pelvic(days=1)]), "NIVL-WORKUP").detail
    assert "record the nature of the mass (imaged" in detail and "characterize the mass" not in detail
