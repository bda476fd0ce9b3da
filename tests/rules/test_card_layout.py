"""Card text (RULES.md R2) as every card is built: link, plain facts, human units, at most 5 facts and 2 quotes."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cds_service.fhir.record import PatientRecord
from cds_service.fhir.valuesets import load_value_sets
from cds_service.pathway.facts import Evidence
from cds_service.pathway.findings import Finding, Indicator
from cds_service.pathway.settings import PathwaySettings
from cds_service.pipeline import clinical_cards
from cds_service.protocol.card_text import problems
from cds_service.protocol.cards import Action, Card, Suggestion
from cds_service.rules.cards import detail_markdown, evidence_markdown, make_card, one_card_per_action
from cds_service.rules.framework import PATIENT_VIEW, Rule, SuggestContext
from cds_service.rules.plain_text import fact_words, human_units
from cds_service.services.base import PATIENT_PREFETCH, CallRunner, HookCall, ServiceDefinition

WHEN = datetime(2026, 11, 6, 9, 30, tzinfo=UTC)


def url(rule_id: str) -> str:
    return f"https://cds.example.test/rules/{rule_id}"


def test_every_card_links_its_rule_page_absolutely():
    card = make_card(Finding(rule_id="NIVL-WORKUP", indicator=Indicator.INFO), "s", "d", url).to_json()
    assert card["links"] == [{"label": "Rule and evidence", "url": url("NIVL-WORKUP"), "type": "absolute"}]


@pytest.mark.parametrize(("raw", "shown"), [
    ("Body weight 200 [lb_av]", "Body weight 200 lb (90.7 kg)"),
    ("Body weight 90.7185 kg", "Body weight 90.7 kg"),
    ("Body weight 176.37 lb", "Body weight 176.4 lb (80 kg)"),
    ("Body weight 176 lb (79.8 kg)", "Body weight 176 lb (79.8 kg)"),
    ("Body weight 80.0000863 kg", "Body weight 80 kg"),
    ("eGFR 22 mL/min/{1.73_m2}", "eGFR 22 mL/min/1.73 m²"),
    ("Platelets 24.9 10*3/uL", "Platelets 24.9 ×10³/µL"),
    ("Platelets 24.9 10*9/L", "Platelets 24.9 ×10⁹/L"),
    ("Platelets 240 10^3/uL", "Platelets 240 ×10³/µL"),
    ("Systolic blood pressure 85 mm[Hg]", "Systolic blood pressure 85 mm Hg"),
    ("Stent length 2 [in_i]", "Stent length 2 in"),
    ("Dose 2.12345 mg", "Dose 2.12 mg"),
])
def test_units_are_written_as_a_clinician_writes_them(raw, shown):
    assert human_units(raw) == shown


def test_a_fact_shows_no_local_code_and_no_resource_id():
    assert fact_words("venous-duplex-result: thrombus-present") == "Venous duplex result: Thrombus present"
    assert fact_words("Observation/pv069-weight") == "observation"
    assert fact_words("a whole-leg duplex") == "a whole-leg duplex"  # an English compound, not a code


def test_facts_show_their_date_but_not_their_reference():
    text = evidence_markdown([Evidence("DiagnosticReport/d1", "Venous duplex, left leg: no thrombus", WHEN)])
    assert text == "- Venous duplex, left leg: no thrombus (2026-11-06)"


def test_at_most_five_facts_and_the_rest_counted():
    facts = [Evidence(f"Condition/c{i}", f"Cause {i}", WHEN) for i in range(7)]
    text = evidence_markdown(facts)
    assert text.count("\n- ") + text.startswith("- ") == 5
    assert "Cause 4" in text and "Cause 5" not in text and "2 more facts are on record" in text


def test_each_quote_is_its_own_paragraph_and_at_most_two():
    detail = detail_markdown("Do this.", [], ["First (G:1)", "Second (G:2)", "Third (G:3)"])
    assert "> First (G:1)\n\n> Second (G:2)" in detail and "Third" not in detail
    assert detail.startswith("Do this.")
    assert problems({"detail": detail, "summary": "s", "source": {"topic": {"code": "X"}},
                     "links": [{"label": "Rule and evidence", "url": url("X"), "type": "absolute"}]}, [], False) == []


def test_a_long_detail_quotes_less_rather_than_pass_1000_characters():
    detail = detail_markdown("Reason. " * 100, [], ["A" * 150 + " (G:1)", "B" * 150 + " (G:2)"])
    assert len(detail) <= 1000 and "B" * 150 not in detail


def test_a_rule_quotes_its_chosen_lines_only_from_its_own_guideline_lines():
    def rule(**changes) -> Rule:
        return Rule("TEST-QUOTE", hooks=PATIENT_VIEW, indicator="info", guideline=(3, 4, 7), titled="t",
                    fires_when="always", evaluate=lambda *a: Finding(indicator=Indicator.INFO),
                    render=lambda f, s: ("200 [lb_av]", "Weight 200 [lb_av]."), **changes)

    assert rule().quotes_for() == (3, 4)
    chosen = rule(quoted=(7,))
    card = chosen.card(chosen.run(), PathwaySettings(), url, SuggestContext("p1"))
    assert "(G:7)" in card.detail and "(G:3)" not in card.detail
    assert card.summary == "200 lb (90.7 kg)" and "Weight 200 lb (90.7 kg)." in card.detail
    with pytest.raises(ValueError, match="TEST-QUOTE"):
        rule(quoted=(5,))
    with pytest.raises(ValueError, match="TEST-QUOTE"):
        rule(quoted=(3, 4, 7))


def test_a_rule_may_choose_its_quotes_by_finding():
    rule = Rule("TEST-QUOTE", hooks=PATIENT_VIEW, indicator="info", guideline=(8,), titled="t", fires_when="always",
                evaluate=lambda *a: Finding(indicator=Indicator.INFO), render=lambda f, s: ("s", "Do this."),
                quoted=lambda f: () if f.indicator == Indicator.INFO else (8,))
    card = rule.card(rule.run(), PathwaySettings(), url, SuggestContext("p1"))
    assert "(G:8)" not in card.detail and "**Guideline**" not in card.detail
    assert rule.quotes_for(Finding(indicator=Indicator.WARNING)) == (8,)


IVUS = {"system": "http://www.ama-assn.org/go/cpt", "code": "37252"}
DUPLEX = {"system": "http://loinc.org", "code": "39432-0"}


def ordering(rule_id: str, indicator: Indicator, *codes: dict, detail: str = "Why.\n\n**Facts used**\n\n- f") -> Card:
    suggestions = [Suggestion(f"Order {c['code']}", [Action("create", f"Order study {c['code']}",
                                                           {"resourceType": "ServiceRequest", "code": {"coding": [c]}})])
                   for c in codes]
    return make_card(Finding(rule_id=rule_id, indicator=indicator), "s", detail, url, f"{rule_id} title", suggestions)


def created(card: Card) -> list[str]:
    return [a.resource["code"]["coding"][0]["code"] for s in card.suggestions for a in s.actions]


def test_the_higher_indicator_carries_a_shared_order_and_the_other_card_names_it():
    workup = ordering("NIVL-WORKUP", Indicator.INFO, IVUS, DUPLEX)
    required = ordering("NIVL-IVUS-REQUIRED", Indicator.WARNING, IVUS)
    cards = one_card_per_action([required, workup])
    assert created(required) == ["37252"] and created(workup) == ["39432-0"]
    assert "Order study 37252: suggested on the card “NIVL-IVUS-REQUIRED title”." in workup.detail
    assert workup.detail.index("suggested on the card") < workup.detail.index("**Facts used**")
    response = [c.to_json() for c in cards]
    assert [problems(c, response, False) for c in response] == [[], []]


def test_at_one_indicator_the_card_asking_for_fewer_orders_carries_it():
    broad = ordering("BROAD", Indicator.WARNING, IVUS, DUPLEX)
    specific = ordering("SPECIFIC", Indicator.WARNING, IVUS)
    one_card_per_action([broad, specific])
    assert created(broad) == ["39432-0"] and created(specific) == ["37252"]


def test_a_card_left_without_suggestions_has_no_selection_behavior():
    first = ordering("FIRST", Indicator.WARNING, IVUS)
    second = ordering("SECOND", Indicator.WARNING, IVUS, detail="Why.")
    one_card_per_action([first, second])
    assert second.suggestions == [] and second.selection_behavior == ""
    assert second.detail == "Why.\n\nOrder study 37252: suggested on the card “FIRST title”."
    second.check()


def test_cards_asking_for_different_orders_are_left_alone():
    a, b = ordering("A", Indicator.INFO, IVUS), ordering("B", Indicator.INFO, DUPLEX)
    before = (a.detail, b.detail)
    one_card_per_action([a, b])
    assert (created(a), created(b)) == (["37252"], ["39432-0"]) and (a.detail, b.detail) == before



def test_a_card_quotes_statements_not_section_headings():
    rule = Rule("TEST-QUOTE", hooks=PATIENT_VIEW, indicator="info", guideline=(46, 47, 48), titled="t",
                fires_when="always", evaluate=lambda *a: Finding(indicator=Indicator.INFO),
                render=lambda f, s: ("s", "Do this."))
    assert rule.quotes_for() == (47, 48)  # G:46 "If Extrinsic Mass Compression is Confirmed" is a heading


def test_a_card_naming_several_causes_lists_them_in_one_sentence():
    causes = [Evidence("Condition/hf", "Heart failure", WHEN), Evidence("Observation/alb", "Albumin 2.1 g/dL", WHEN)]
    detail = detail_markdown("Exclude them first.", causes, [], facts_in_one_sentence=True)
    assert "**Facts used:** Heart failure (2026-11-06); Albumin 2.1 g/dL (2026-11-06)." in detail
    assert "\n- " not in detail and "Condition/hf" not in detail


CPT_93971 = {"system": "http://www.ama-assn.org/go/cpt", "code": "93971"}


def one_order(rule_id: str, *codes: dict) -> Card:
    """A warning card suggesting one order coded with all of `codes`."""
    resource = {"resourceType": "ServiceRequest", "code": {"coding": list(codes)}}
    return make_card(Finding(rule_id=rule_id, indicator=Indicator.WARNING), "s", "d", url, f"{rule_id} title",
                     [Suggestion("Order", [Action("create", f"Order {rule_id}", resource)])])


def test_a_left_and_a_right_duplex_are_two_orders_though_they_share_a_cpt_code():
    left, right = one_order("LEFT", DUPLEX, CPT_93971), one_order("RIGHT", {**DUPLEX, "code": "39443-7"}, CPT_93971)
    one_card_per_action([left, right])
    assert len(right.suggestions) == 1 and right.detail == "d"
    again = one_order("AGAIN", CPT_93971, DUPLEX)  # the same left duplex, codings in another order
    one_card_per_action([left, again])
    assert again.suggestions == [] and "suggested on the card “LEFT title”" in again.detail


def test_the_pipeline_gives_each_order_to_one_card():
    both = ServiceDefinition(
        id="both", hook="patient-view", title="t", description="d", usage_requirements="u",
        prefetch=dict(PATIENT_PREFETCH), required_keys=(),
        runner=CallRunner(lambda call: [one_order("FIRST", DUPLEX, CPT_93971), one_order("SECOND", CPT_93971, DUPLEX)]),
    )
    call = HookCall(service_id="both", hook="patient-view", hook_instance="h", context={"patientId": "p1"},
                    record=PatientRecord(patient={"resourceType": "Patient", "id": "p1"}, resources={}),
                    now=WHEN, rule_url=url, value_sets=load_value_sets())
    first, second = clinical_cards(both, call)
    assert len(first.suggestions) == 1 and second.suggestions == []
