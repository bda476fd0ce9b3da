"""Every fixture's cards through the service: the smart link to the pathway app is on exactly the cards
of the rules that declare it, with the service's public URL and the appContext `<rule id>[;<draft order id>]`."""
from __future__ import annotations

import pytest

from cds_service.app import create_app
from cds_service.config import Settings
from cds_service.fixtures import all_fixtures, build_request
from cds_service.rules.registry import rule_by_id

FIXTURES = all_fixtures()
PUBLIC = "https://cds.example.test"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    database = tmp_path_factory.mktemp("app-links") / "cds.db"
    app = create_app(Settings(auth="off", database_url=f"sqlite:///{database}", public_base_url=PUBLIC,
                              log_level="WARNING"))
    return app.test_client()


@pytest.fixture(scope="module")
def services(client) -> dict[str, dict]:
    return {entry["hook"]: entry for entry in client.get("/cds-services").get_json()["services"]}


def answer(client, services, fixture) -> tuple[dict, list[dict]]:
    entry = services[fixture.hook]
    body = build_request(fixture, entry)
    response = client.post(f"/cds-services/{entry['id']}", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return body, response.get_json()["cards"]


def draft_refs(body: dict) -> set[str]:
    entries = body["context"].get("draftOrders", {}).get("entry", [])
    return {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in entries if e["resource"].get("id")}


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.id for f in FIXTURES])
def test_the_app_link_is_on_exactly_the_declaring_rules_cards(client, services, fixture):
    body, cards = answer(client, services, fixture)
    for card in cards:
        rule_id = card["source"]["topic"]["code"]
        rule = rule_by_id(rule_id)
        smart = [link for link in card["links"] if link["type"] == "smart"]
        assert card["links"][0]["label"] == "Rule and evidence", rule_id  # every card: its rule page first
        if rule is None or not rule.opens_app:
            assert smart == [], rule_id
            continue
        [link] = smart
        assert (link["type"], link["url"], link["label"]) == ("smart", f"{PUBLIC}/app/launch",
                                                             "Open the iliac vein pathway")
        linked_rule, _, draft = link["appContext"].partition(";")
        assert linked_rule == rule_id
        if fixture.hook == "patient-view":
            assert draft == ""
        else:  # an order card's link names the draft order it is about; the visible text never shows the id (R2)
            assert draft in draft_refs(body) and draft not in card["detail"]


def test_the_sweep_sees_every_declaring_rule_and_both_kinds_of_card(client, services):
    """The parametrized test above is not vacuous: the fixtures fire all six rules, order cards included."""
    seen: dict[str, set[str]] = {}
    for fixture in FIXTURES:
        for card in answer(client, services, fixture)[1]:
            for link in card.get("links", []):
                if link["type"] != "smart":
                    continue
                seen.setdefault(card["source"]["topic"]["code"], set()).add(link["appContext"])
    assert set(seen) == {"NIVL-STENT-CANDIDATE", "STENT-LENGTH", "STENT-DIAMETER", "POST-STENT-FOLLOWUP",
                         "POST-STENT-THROMBOSIS", "NIVL-WORKUP"}
    assert "STENT-DIAMETER;DeviceRequest/ord-d17-stent" in seen["STENT-DIAMETER"]
    assert seen["NIVL-WORKUP"] == {"NIVL-WORKUP"}
