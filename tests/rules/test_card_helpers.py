from cds_service.pathway.findings import Finding, Indicator
from cds_service.rules.cards import make_card, shorten


def codes(card) -> set[str]:
    return {reason.code for reason in card.override_reasons}


def url(rule_id: str) -> str:
    return f"https://cds.example.test/rules/{rule_id}"


def test_order_cards_offer_order_override_reasons():
    card = make_card(Finding(rule_id="STENT-LENGTH", indicator=Indicator.CRITICAL, order_ref="DeviceRequest/1"), "s", "d", url)
    assert "will-revise" in codes(card) and "anatomy-confirmed" in codes(card)


def test_patient_view_cards_never_offer_to_revise_an_order():
    card = make_card(Finding(rule_id="MASS-EXTRINSIC", indicator=Indicator.WARNING), "s", "d", url)
    assert "will-revise" not in codes(card) and "already-addressed" in codes(card)


def test_info_cards_carry_no_override_reasons():
    assert make_card(Finding(rule_id="NIVL-WORKUP", indicator=Indicator.INFO), "s", "d", url).override_reasons == []


def test_shorten_keeps_summaries_under_140_characters_without_cutting_words():
    text = "word " * 40
    short = shorten(text)
    assert len(short) <= 139 and short.endswith("…") and not short[:-1].endswith(" wo")
    assert shorten("short") == "short"
