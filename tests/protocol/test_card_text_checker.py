"""The card-text linter (RULES.md "Card text (R2)"): a good card passes, and every check can fail."""
from __future__ import annotations

import copy

import pytest

from cds_service.protocol.card_text import local_codes, problems

RULE_URL = "https://cds.example.org/rules/STENT-LENGTH"
GOOD_DETAIL = (
    "Order a stent of at least 60 mm and land it in the straight external iliac vein.\n\n"
    "- Stent ordered: 14 × 50 mm (2026-11-26)\n"
    "- IVUS reference, left external iliac vein: 12 mm (2026-11-10)\n"
    "- Weight: 80.5 kg (176 lb) (2026-11-20)\n\n"
    "> Stents shorter than 60 mm account for 82.6 % of migrations (G:38)\n\n"
    "> Land the stent in the straight external iliac vein (G:39)"
)


def stent_update(length_mm: int, diameter_mm: int) -> dict:
    return {"type": "update", "description": "Change the stent size",
            "resource": {"resourceType": "DeviceRequest", "id": "ord-stent", "status": "draft",
                         "parameter": [{"valueQuantity": {"value": length_mm, "code": "mm"}},
                                       {"valueQuantity": {"value": diameter_mm, "code": "mm"}}]}}


def good_card(rule: str = "STENT-LENGTH", **changes) -> dict:
    card = {
        "uuid": "5f0c1c1e-9a55-4d43-8c7b-3f7f2f5c1a01",
        "summary": "Stent 50 mm < 60 mm minimum",
        "indicator": "critical",
        "detail": GOOD_DETAIL,
        "source": {"label": "Iliac vein pathway CDS", "url": RULE_URL, "topic": {"code": rule}},
        "links": [{"label": "Rule and evidence", "url": f"https://cds.example.org/rules/{rule}", "type": "absolute"}],
        "suggestions": [{"label": "Change the stent to 14 × 60 mm", "uuid": "0c7d9b9e-1111-4c2a-9d55-6b0e2f1a2b3c",
                         "actions": [stent_update(60, 14)]}],
    }
    card.update(changes)
    return card


def kinds(found: list[str]) -> set[str]:
    return {problem.split(":", 1)[0] for problem in found}


def check(card: dict, others: tuple[dict, ...] = (), pregnant: bool = False) -> set[str]:
    cards = [*others, card]
    return kinds(problems(card, cards, pregnant))


def with_detail(detail: str) -> dict:
    return good_card(detail=detail)


def test_a_good_card_has_no_problem():
    assert problems(good_card(), [good_card()], False) == []


def test_a_card_with_no_detail_and_no_suggestion_can_be_good():
    card = good_card()
    del card["detail"], card["suggestions"]
    assert problems(card, [card], False) == []


# ---------------------------------------------------------------- layout


def test_detail_longer_than_1000_characters():
    assert check(with_detail("Order the study now. " + "x" * 990)) == {"detail-length"}
    assert check(with_detail("Order the study now." + "x" * (1000 - 20))) == set()


@pytest.mark.parametrize("opening", ["**Facts used**", "- Venous duplex: no thrombus (2026-11-06)",
                                     "> Perform complete duplex ultrasound (G:4)", "## Facts"])
def test_detail_opens_with_the_action(opening):
    assert check(with_detail(opening + "\n\nOrder the duplex.")) == {"action-first"}


def test_bold_words_opening_a_sentence_are_an_action():
    assert check(with_detail("**Do not stent yet:** DVT has not been excluded.")) == set()


def test_at_most_five_fact_bullets():
    bullets = "\n".join(f"- fact {n} (2026-11-0{n})" for n in range(1, 7))
    assert check(with_detail("Order the duplex.\n\n" + bullets)) == {"fact-bullets"}
    assert check(with_detail("Order the duplex.\n\n" + bullets.rsplit("\n", 1)[0])) == set()


def test_at_most_two_quotes():
    quotes = "\n\n".join(f"> quote {n} (G:{n})" for n in range(1, 4))
    assert check(with_detail("Order the duplex.\n\n" + quotes)) == {"quote-count"}


def test_quotes_that_run_together_are_one_paragraph():
    assert check(with_detail("Order the duplex.\n\n> first (G:3)\n> second (G:4)")) == {"quote-paragraph"}
    assert check(with_detail("Order the duplex.\n\n> first (G:3)\n>\n> second (G:4)")) == set()


# ---------------------------------------------------------------- the rule link


@pytest.mark.parametrize("links", [
    [],
    [{"label": "Rule and evidence", "url": "/rules/STENT-LENGTH", "type": "absolute"}],
    [{"label": "Rule and evidence", "url": "https://cds.example.org/rules/STENT-LENGTH", "type": "smart"}],
    [{"label": "Rule and evidence", "url": "https://cds.example.org/rules/STENT-DIAMETER", "type": "absolute"}],
    [{"label": "Evidence", "url": "https://cds.example.org/rules/STENT-LENGTH", "type": "absolute"}],
])
def test_a_rule_and_evidence_link_to_the_absolute_rule_page(links):
    assert check(good_card(links=links)) == {"rule-link"}


# ---------------------------------------------------------------- visible words


@pytest.mark.parametrize("text", ["Weight (`Observation/pv069-weight`, 2026-11-20)", "see DeviceRequest/ord-50mm-stent"])
def test_no_resource_id_in_the_text(text):
    assert check(with_detail("Order the duplex.\n\n- " + text)) == {"resource-id"}
    assert check(good_card(summary=text[:100])) == {"resource-id"}


def test_no_resource_id_in_a_suggestion_label():
    card = good_card()
    card["suggestions"][0]["label"] = "Change the stent length to 60 mm (DeviceRequest/ord-50mm-stent)"
    assert check(card) == {"resource-id"}


def test_words_with_a_slash_are_not_ids():
    assert check(with_detail("Image the abdomen/pelvis with CT/MR venography; eGFR 45 mL/min/1.73 m².")) == set()


@pytest.mark.parametrize("text", ["venous-duplex-result: thrombus-present", "method ct-venography",
                                  "lesion-behavior dynamic"])
def test_no_local_code_in_the_text(text):
    assert check(with_detail(f"Order the duplex.\n\n- {text} (2026-11-06)")) == {"local-code"}


def test_every_hyphenated_local_code_is_checked_but_not_plain_english():
    assert {"thrombus-present", "venous-duplex-result", "anticoagulation-contraindicated"} <= local_codes()
    assert check(with_detail("Order a whole-leg duplex: flat, non-phasic flow; the mass is non-compressive.")) == set()


@pytest.mark.parametrize("text", ["Weight 200 [lb_av]", "eGFR 22 mL/min/{1.73_m2}", "Platelets 95 10*3/uL",
                                  "Systolic 84 mm[Hg]", "Stent 2 [in_i]"])
def test_no_ucum_code_in_the_text(text):
    assert check(with_detail(f"Order the duplex.\n\n- {text} (2026-11-06)")) == {"ucum-code"}


def test_human_units_pass():
    assert check(with_detail("Order the duplex.\n\n- Platelets 95 ×10³/µL; eGFR 22 mL/min/1.73 m²; "
                             "systolic 84 mmHg; weight 90.7 kg (200 lb)")) == set()


@pytest.mark.parametrize("text", ["Weight 90.7185 kg", "Weight 90.72 kg", "dose 0.45359237 per pound"])
def test_no_long_decimals(text):
    assert check(with_detail(f"Order the duplex.\n\n- {text}")) == {"decimals"}


def test_pregnancy_wording_only_for_pregnant_patients():
    text = "A filter has the same indications as in non-pregnant patients."
    assert check(with_detail("Consider a filter. " + text)) == {"pregnancy-wording"}
    assert check(with_detail("Consider a filter. " + text), pregnant=True) == set()
    assert check(good_card(summary="In pregnancy: MR venography without gadolinium")) == {"pregnancy-wording"}


# ---------------------------------------------------------------- one card per action


def creating(rule: str, *codes: str) -> dict:
    card = good_card(rule=rule)
    card["suggestions"] = [{"label": "Order venography with IVUS", "uuid": "6c1d7a0e-2222-4b3a-8e44-5a0d1f2b3c4d",
                            "actions": [{"type": "create", "description": "Order venography with IVUS",
                                         "resource": {"resourceType": "ServiceRequest", "status": "draft",
                                                      "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt",
                                                                           "code": c} for c in codes]}}}]}]
    return card


def test_two_cards_creating_the_same_order():
    first, second = creating("NIVL-CT-NOT-DIAGNOSTIC", "75820", "37252"), creating("NIVL-WORKUP", "37252")
    assert check(second, (first,)) == {"duplicate-action"}
    assert problems(first, [first, second], False) == []  # reported once, on the later card
    assert check(creating("DVT-DUPLEX", "93971"), (first,)) == set()


def test_two_updates_of_one_order_must_carry_every_correction():
    length = good_card(rule="STENT-LENGTH")
    diameter = good_card(rule="STENT-DIAMETER")
    diameter["suggestions"][0]["actions"] = [stent_update(50, 18)]  # undoes the length correction
    assert check(diameter, (length,)) == {"duplicate-action"}
    length["suggestions"][0]["actions"] = [stent_update(60, 18)]
    diameter["suggestions"][0]["actions"] = [stent_update(60, 18)]
    assert check(diameter, (length,)) == set()


def test_two_deletes_of_one_order():
    def deleting(rule: str) -> dict:
        card = good_card(rule=rule)
        card["suggestions"][0]["actions"] = [{"type": "delete", "description": "Delete the order",
                                              "resourceId": "MedicationRequest/ord-alteplase"}]
        return card

    assert check(deleting("THROMBOLYSIS-NOT-INDICATED"), (deleting("OTHER-RULE"),)) == {"duplicate-action"}
    update = good_card()
    update["suggestions"][0]["actions"][0]["resource"]["id"] = "ord-alteplase"
    assert check(update, (deleting("OTHER-RULE"),)) == {"duplicate-action"}


def test_the_checker_does_not_change_the_card():
    card = good_card()
    before = copy.deepcopy(card)
    problems(card, [card], False)
    assert card == before
