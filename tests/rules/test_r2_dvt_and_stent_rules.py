"""Revision 2 rules of the DVT and stent surveillance part: DVT-DUPLEX after a limited / unknown-extent study,
DVT-DISTAL-SURVEILLANCE, POST-STENT-THROMBOSIS, POST-STENT-FOLLOWUP naming every missed study, the filter card's
pregnancy wording and the pregnancy MRI of the mass. Facts built directly (tests/helpers/facts.py)."""
from __future__ import annotations

import pytest

from cds_service.pathway.assessment import assess
from cds_service.pathway.facts import (
    DraftOrder,
    DrugClass,
    DuplexExtent,
    ImagingKind,
    OrderKind,
    Side,
    StentRecord,
    ThrombusResult,
)
from cds_service.pathway.findings import CreateOrder, Indicator
from cds_service.protocol.card_text import problems
from cds_service.rules.order_checks import evaluate_orders
from cds_service.rules.suggested_orders import suggestion
from cds_service.services.patient_view import evaluate, render
from tests.helpers.facts import (
    S,
    ago,
    cond,
    duplex,
    dvt_dx,
    ev,
    facts,
    imaging,
    left_swelling,
    mass,
    meas,
    med,
    pelvic,
    stent,
    swelling,
)


def fired(f) -> dict:
    return {x.rule.rule_id: x.finding for x in evaluate(f, assess(f, S), S)}


def cards(f) -> dict:
    rendered = render(evaluate(f, assess(f, S), S), "p1", lambda rule_id: f"https://cds.test/rules/{rule_id}", S)
    return {card.rule_id: card for card in rendered}


def own_text_problems(card, pregnant: bool = False) -> list[str]:
    """The card-text checks of RULES.md "Card text (R2)" on the words these rules write (summary, reasoning)."""
    body = card.to_json()
    return [p for p in problems(body, [body], pregnant) if p.split(":")[0] in
            ("resource-id", "local-code", "ucum-code", "decimals", "pregnancy-wording", "detail-length")]


# ---------------------------------------------------------------- DVT-DUPLEX (R2 items 1 and 8)

def test_limited_study_and_pelvic_trigger_fire_both_cards():
    f = left_swelling(duplex_results=[duplex(days=3, extent=DuplexExtent.LIMITED)], masses=[mass(days=5)])
    found = fired(f)
    assert {"DVT-DUPLEX", "DVT-PELVIC-IMAGING"} <= set(found)
    assert found["DVT-DUPLEX"].indicator == Indicator.WARNING
    assert found["DVT-DUPLEX"].proposals == (CreateOrder("leg-duplex", Side.LEFT),)


def test_whole_leg_study_and_pelvic_trigger_fire_only_pelvic_imaging():
    found = fired(left_swelling(duplex_results=[duplex(days=3)], masses=[mass(days=5)]))
    assert "DVT-PELVIC-IMAGING" in found and "DVT-DUPLEX" not in found


def test_limited_study_then_negative_pelvic_ct_asks_for_the_complete_duplex():
    f = left_swelling(duplex_results=[duplex(days=3, extent=DuplexExtent.LIMITED)], pelvic_venography=[pelvic(days=1)])
    found = fired(f)
    assert found["DVT-DUPLEX"].variant == "limited" and found["DVT-DUPLEX"].proposals
    assert "NIVL-WORKUP" not in found  # DVT is not excluded


@pytest.mark.parametrize("pelvic_ct", [False, True])
def test_unknown_extent_is_info_without_an_order_and_offers_the_study_was_complete(pelvic_ct):
    f = left_swelling(duplex_results=[duplex(days=3, extent=DuplexExtent.UNKNOWN)],
                      pelvic_venography=[pelvic(days=1)] if pelvic_ct else [])
    card = cards(f)["DVT-DUPLEX"]
    assert card.indicator == "info" and card.suggestions == []
    assert "calf veins" in card.summary
    displays = [reason.display for reason in card.override_reasons]
    assert any("study was complete" in d.lower() for d in displays)
    assert own_text_problems(card) == []


def test_limited_study_card_offers_no_study_was_complete_override():
    card = cards(left_swelling(duplex_results=[duplex(days=3, extent=DuplexExtent.LIMITED)]))["DVT-DUPLEX"]
    assert card.indicator == "warning"
    assert not any("study was complete" in r.display.lower() for r in card.override_reasons)


# ---------------------------------------------------------------- DVT-DISTAL-SURVEILLANCE (R2 item 2)

def calf_dvt(**kw):
    kw.setdefault("dvt_diagnoses", [dvt_dx(days=1, distal=True)])
    return left_swelling(**kw)


@pytest.mark.parametrize("bleed_days, surveillance", [(30, True), (30.5, False)])
def test_surveillance_while_the_bleeding_counts_then_anticoagulation(bleed_days, surveillance):
    found = fired(calf_dvt(bleeding=[cond("Condition/gi-bleed", days=bleed_days, display="Gastrointestinal hemorrhage")]))
    assert ("DVT-DISTAL-SURVEILLANCE" in found) == surveillance
    assert ("DVT-ANTICOAGULATE" in found) == (not surveillance)
    assert "DVT-IVC-FILTER-OPTION" not in found  # calf DVT: no filter card


@pytest.mark.parametrize("platelets, surveillance", [(24.9, True), (25.0, False)])
def test_surveillance_below_the_platelet_limit(platelets, surveillance):
    found = fired(calf_dvt(platelets=[meas("Observation/plt", platelets, "10*3/uL", hours=2)]))
    assert ("DVT-DISTAL-SURVEILLANCE" in found) == surveillance


def test_surveillance_card_names_the_contraindication_and_the_leg():
    f = calf_dvt(bleeding=[cond("Condition/gi-bleed", days=3, display="Gastrointestinal hemorrhage")])
    finding = fired(f)["DVT-DISTAL-SURVEILLANCE"]
    assert finding.indicator == Indicator.WARNING
    assert finding.proposals == (CreateOrder("leg-duplex", Side.LEFT),)
    card = cards(f)["DVT-DISTAL-SURVEILLANCE"]
    assert "Gastrointestinal hemorrhage" in card.detail and "1 and 2 weeks" in card.detail
    assert "left leg" in card.detail
    assert own_text_problems(card) == []


def test_no_surveillance_when_treated_proximal_or_with_a_pe():
    bleed = [cond("Condition/gi-bleed", days=3)]
    treated = calf_dvt(bleeding=bleed, medications=[med("apixaban", dose=5, per_day=2)])
    assert "DVT-DISTAL-SURVEILLANCE" not in fired(treated)
    proximal = fired(left_swelling(dvt_diagnoses=[dvt_dx(days=1)], bleeding=bleed))
    assert "DVT-DISTAL-SURVEILLANCE" not in proximal and "DVT-IVC-FILTER-OPTION" in proximal
    with_pe = fired(calf_dvt(bleeding=bleed, pe_diagnoses=[cond("Condition/pe", days=1)]))
    assert "DVT-DISTAL-SURVEILLANCE" not in with_pe and "DVT-IVC-FILTER-OPTION" in with_pe


def test_surveillance_with_prophylactic_enoxaparin():
    f = calf_dvt(bleeding=[cond("Condition/gi-bleed", days=3)], weight=[meas("Observation/w", 80, "kg", days=1)],
                 medications=[med("enoxaparin", DrugClass.LMWH, dose=40, per_day=1)])
    assert "DVT-DISTAL-SURVEILLANCE" in fired(f)


# ---------------------------------------------------------------- POST-STENT-THROMBOSIS (R2 item 3)

def sided_stent(side: Side, days: float = 60) -> StentRecord:
    return StentRecord(ev("Procedure/stent", "Left iliac vein stent", ago(days)), ago(days), side)


@pytest.mark.parametrize("dvt_days, fires", [
    (9.6, False),  # later the same day as the stent (placed 10 days ago at noon): not after the stent date
    (9.4, True),  # the next day
    (11, False),  # before the stent
])
def test_thrombosis_only_for_a_dvt_after_the_stent_date(dvt_days, fires):
    f = left_swelling(stents=[sided_stent(Side.LEFT, days=10)], dvt_diagnoses=[dvt_dx(days=dvt_days)])
    found = fired(f)
    assert ("POST-STENT-THROMBOSIS" in found) == fires
    assert "DVT-ANTICOAGULATE" in found  # fires alongside


@pytest.mark.parametrize("stent_side, dvt_side, fires", [
    (Side.LEFT, Side.LEFT, True),
    (Side.LEFT, Side.RIGHT, False),
    (Side.UNKNOWN, Side.RIGHT, True),
    (Side.LEFT, Side.UNKNOWN, True),
    (Side.BOTH, Side.RIGHT, True),
])
def test_thrombosis_in_the_stented_leg_or_either_side_unknown(stent_side, dvt_side, fires):
    f = facts(swellings=[swelling(side=dvt_side if dvt_side != Side.UNKNOWN else Side.LEFT)],
              stents=[sided_stent(stent_side)], dvt_diagnoses=[dvt_dx(days=1, side=dvt_side)])
    assert ("POST-STENT-THROMBOSIS" in fired(f)) == fires


def test_isolated_calf_dvt_is_not_stent_thrombosis():
    f = left_swelling(stents=[sided_stent(Side.LEFT)], dvt_diagnoses=[dvt_dx(days=1, distal=True)])
    assert "POST-STENT-THROMBOSIS" not in fired(f)


def test_positive_pelvic_venography_after_the_stent_is_thrombosis():
    f = left_swelling(stents=[sided_stent(Side.LEFT)], pelvic_venography=[pelvic(result=ThrombusResult.PRESENT, days=1)])
    card = cards(f)["POST-STENT-THROMBOSIS"]
    assert card.indicator == "critical" and card.suggestions == []
    assert "iliac / pelvic DVT" in card.summary and "vascular team" in card.detail
    assert own_text_problems(card) == []


def test_followup_gives_way_to_thrombosis():
    overdue = [sided_stent(Side.LEFT, days=200)]
    assert "POST-STENT-FOLLOWUP" in fired(left_swelling(stents=overdue, duplex_results=[duplex()]))
    found = fired(left_swelling(stents=overdue, dvt_diagnoses=[dvt_dx(days=1)]))
    assert "POST-STENT-THROMBOSIS" in found and "POST-STENT-FOLLOWUP" not in found


# ---------------------------------------------------------------- POST-STENT-FOLLOWUP names every missed study

@pytest.mark.parametrize("days, missed", [
    (31, (30,)),
    (182, (30,)),  # month 6 is due *by* day 182: not missed on that day
    (183, (30, 182)),
    (400, (30, 182, 365)),
])
def test_every_missed_study_is_named(days, missed):
    f = facts(stents=[stent(days)])
    finding = fired(f)["POST-STENT-FOLLOWUP"]
    assert finding.missed_days == missed


def test_a_day_20_study_counts_for_day_30_only():
    f = facts(stents=[stent(200)], imaging=[imaging(ImagingKind.ILIOCAVAL_DUPLEX, days=180)])
    assert fired(f)["POST-STENT-FOLLOWUP"].missed_days == (182,)


def test_followup_card_names_day_30_month_6_and_month_12():
    card = cards(facts(stents=[stent(400)]))["POST-STENT-FOLLOWUP"]
    assert "due by day 30, month 6 and month 12" in card.summary
    assert "no imaging since the stent of" in card.detail
    assert own_text_problems(card) == []


# ---------------------------------------------------------------- pregnancy wording and imaging codes (R2 items 6, 7)

@pytest.mark.parametrize("pregnant", [False, True])
def test_filter_card_speaks_of_pregnancy_only_to_pregnant_patients(pregnant):
    f = left_swelling(dvt_diagnoses=[dvt_dx(days=1)],
                      bleeding=[cond("Condition/gi-bleed", days=3, display="Gastrointestinal hemorrhage")],
                      pregnancy=[cond("Condition/pregnancy", days=100)] if pregnant else [])
    card = cards(f)["DVT-IVC-FILTER-OPTION"]
    assert ("non-pregnant" in card.detail) == pregnant
    assert own_text_problems(card, pregnant) == []


@pytest.mark.parametrize("pregnant, code, label", [
    (True, "72195", "without gadolinium"),
    (False, "74177", "with IV contrast"),
])
def test_mass_study_in_pregnancy_is_mri_without_contrast(pregnant, code, label):
    f = left_swelling(masses=[mass(days=5)],
                      pregnancy=[cond("Condition/pregnancy", days=100)] if pregnant else [])
    card = cards(f)["MASS-CHARACTERIZE"]
    (offered,) = card.suggestions
    resource = offered.actions[0].resource
    assert [c["code"] for c in resource["code"]["coding"]] == [code]
    assert label in offered.label
    assert own_text_problems(card, pregnant) == []


def test_mr_venography_is_labelled_without_gadolinium():
    label = suggestion(CreateOrder("mr-venography"), "p1").label
    assert "without gadolinium" in label


@pytest.mark.parametrize("pregnant, characterized", [(True, True), (False, False)])
def test_pregnancy_mri_counts_as_the_mass_study_for_the_stent_order_too(pregnant, characterized):
    f = left_swelling(masses=[mass(days=20)], duplex_results=[duplex()],
                      imaging=[imaging(ImagingKind.MASS_STUDY_IN_PREGNANCY, days=10)],
                      pregnancy=[cond("Condition/pregnancy", days=100)] if pregnant else [])
    stent_order = DraftOrder(ref="DeviceRequest/stent", resource_type="DeviceRequest", display="Iliac vein stent",
                             kind=OrderKind.STENT, iliac=True, length_mm=90.0, diameter_mm=16.0)
    found = {x.rule_id for x in evaluate_orders([stent_order], f, assess(f, S), S)}
    assert ("STENT-MASS-NOT-CHARACTERIZED" in found) == (not characterized)
