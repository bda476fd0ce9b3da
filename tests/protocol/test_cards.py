import pytest

from cds_service.protocol.cards import (
    Action,
    Card,
    CardInvariantError,
    Coding,
    Link,
    Source,
    Suggestion,
    drop_empty,
    response_json,
)


def card(**changes) -> Card:
    values = dict(summary="Stent 50 mm < 60 mm minimum", indicator="critical", source=Source(label="Iliac vein CDS"))
    values.update(changes)
    return Card(**values)


def create_action() -> Action:
    return Action("create", "Order duplex", resource={"resourceType": "ServiceRequest", "status": "draft"})


def test_a_valid_card_serializes_without_empty_values():
    body = card(detail="", links=[]).to_json()
    assert body["summary"] == "Stent 50 mm < 60 mm minimum"
    assert body["uuid"]
    assert "detail" not in body and "links" not in body and "suggestions" not in body


def test_summary_of_139_characters_is_accepted_and_140_refused():
    assert card(summary="x" * 139).to_json()["summary"] == "x" * 139
    with pytest.raises(CardInvariantError):
        card(summary="x" * 140).to_json()


def test_empty_summary_refused():
    with pytest.raises(CardInvariantError):
        card(summary="").to_json()


@pytest.mark.parametrize("indicator", ["hard-stop", "success", "Critical", ""])
def test_pre_1_0_or_unknown_indicators_refused(indicator):
    with pytest.raises(CardInvariantError):
        card(indicator=indicator).to_json()


def test_source_label_required():
    with pytest.raises(CardInvariantError):
        card(source=Source(label="")).to_json()


def test_suggestions_need_selection_behavior():
    with pytest.raises(CardInvariantError):
        card(suggestions=[Suggestion("Order", [create_action()])]).to_json()
    body = card(suggestions=[Suggestion("Order", [create_action()])], selection_behavior="at-most-one").to_json()
    assert body["selectionBehavior"] == "at-most-one"
    assert body["suggestions"][0]["uuid"]


def test_selection_behavior_without_suggestions_refused():
    with pytest.raises(CardInvariantError):
        card(selection_behavior="any").to_json()


def test_at_most_one_allows_one_recommended_suggestion():
    suggestions = [Suggestion("A", [create_action()], is_recommended=True),
                   Suggestion("B", [create_action()], is_recommended=True)]
    with pytest.raises(CardInvariantError):
        card(suggestions=suggestions, selection_behavior="at-most-one").to_json()
    assert card(suggestions=suggestions, selection_behavior="any").to_json()


@pytest.mark.parametrize("action", [
    Action("CREATE", "x", resource={"resourceType": "ServiceRequest"}),
    Action("create", "x", resource='{"resourceType": "ServiceRequest"}'),  # type: ignore[arg-type]
    Action("create", "", resource={"resourceType": "ServiceRequest"}),
    Action("delete", "x"),
    Action("delete", "x", resource={"resourceType": "ServiceRequest"}, resource_id="ServiceRequest/1"),
    Action("update", "x", resource={"status": "draft"}),
])
def test_malformed_actions_refused(action):
    with pytest.raises(CardInvariantError):
        card(suggestions=[Suggestion("Fix", [action])], selection_behavior="at-most-one").to_json()


def test_delete_action_uses_resource_id():
    body = card(suggestions=[Suggestion("Remove", [Action("delete", "Remove", resource_id="DeviceRequest/7")])],
                selection_behavior="at-most-one").to_json()
    action = body["suggestions"][0]["actions"][0]
    assert action == {"type": "delete", "description": "Remove", "resourceId": "DeviceRequest/7"}


def test_override_reasons_need_display():
    with pytest.raises(CardInvariantError):
        card(override_reasons=[Coding("http://x", "a", "")]).to_json()
    body = card(override_reasons=[Coding("http://x", "a", "Anatomy confirmed")]).to_json()
    assert body["overrideReasons"] == [{"system": "http://x", "code": "a", "display": "Anatomy confirmed"}]


def test_links_need_type_and_app_context_only_for_smart():
    with pytest.raises(CardInvariantError):
        card(links=[Link("Guide", "https://x", type="relative")]).to_json()
    with pytest.raises(CardInvariantError):
        card(links=[Link("Guide", "https://x", app_context="abc")]).to_json()
    assert card(links=[Link("App", "https://x", type="smart", app_context="abc")]).to_json()["links"]


def test_response_keeps_the_one_allowed_empty_array():
    assert response_json([]) == {"cards": []}


def test_drop_empty_is_recursive_and_keeps_false_and_zero():
    assert drop_empty({"a": None, "b": "", "c": [], "d": {}, "e": {"f": [None, {}]}, "g": False, "h": 0}) == {
        "g": False, "h": 0}


def test_every_suggestion_says_whether_it_is_recommended():
    """HealthChain's response model rejects a suggestion without isRecommended (optional in the spec)."""
    suggestions = [Suggestion("A", [create_action()]), Suggestion("B", [create_action()], is_recommended=True)]
    body = response_json([card(suggestions=suggestions, selection_behavior="at-most-one")])
    suggestions = body["cards"][0]["suggestions"]
    assert [s["isRecommended"] for s in suggestions] == [False, True]
