"""Shared by the site-governance tests (issue 13): a service with a site file, and fixture requests."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from cds_service.app import create_app
from cds_service.config import Settings
from cds_service.fixtures import DEFAULT_DIRECTORY, build_request, load_fixture
from cds_service.services import all_services

SERVICE_BY_HOOK = {"patient-view": "iliac-vein-patient-view", "order-select": "iliac-vein-order-select",
                   "order-sign": "iliac-vein-order-sign"}


def write_site(tmp_path: Path, document: dict, name: str = "site.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


class Service:
    """One app (one worker) with a site file, a settable clock and helpers to call it like an EHR."""

    def __init__(self, database_url: str, site: Path | None, now: datetime):
        self.clock = {"now": now}
        self.app = create_app(Settings(
            auth="off", database_url=database_url, site_config=str(site or ""), log_level="WARNING",
            public_base_url="https://cds.example.test", clock=lambda: self.clock["now"],
        ))
        self.client = self.app.test_client()
        self.store = self.app.extensions["cds"]["store"]

    def advance(self, **delta) -> None:
        self.clock["now"] = self.clock["now"] + timedelta(**delta)

    def call(self, body: dict, hook: str | None = None) -> list[dict]:
        service = SERVICE_BY_HOOK[hook or body["hook"]]
        response = self.client.post(f"/cds-services/{service}", json=body)
        assert response.status_code == 200, response.get_json()
        self.app.extensions["cds"]["card_log"].flush()
        return response.get_json()["cards"]

    def feedback(self, card: dict, hook: str = "patient-view", outcome: str = "overridden") -> None:
        item: dict = {"card": card["uuid"], "outcome": outcome, "outcomeTimestamp": "2026-11-26T12:00:00Z"}
        if outcome == "overridden":
            item["overrideReason"] = {"reason": {"system": "http://iliac-vein-cds.org/fhir/CodeSystem/override-reasons",
                                                 "code": "already-addressed", "display": "Already ordered or done"}}
        else:
            item["acceptedSuggestions"] = [{"id": card["suggestions"][0]["uuid"]}] if card.get("suggestions") else []
        response = self.client.post(f"/cds-services/{SERVICE_BY_HOOK[hook]}/feedback", json={"feedback": [item]})
        assert response.status_code == 200, response.get_json()

    def log(self, status: str | None = None) -> list:
        rows = self.store.cards_issued()
        return [r for r in rows if status is None or r.status == status]

    def metric(self, name: str, **labels) -> float:
        text = self.client.get("/metrics").get_data(as_text=True)
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    return sample.value
        return 0.0


def fixture_request(name: str, hook: str | None = None) -> tuple[dict, datetime]:
    fixture = load_fixture(DEFAULT_DIRECTORY / f"{name}.json")
    hook = hook or fixture.hook
    entry = next(s.discovery_json() for s in all_services() if s.id == SERVICE_BY_HOOK[hook])
    return build_request(fixture, entry, hook=hook), fixture.now


def rules_of(cards: list[dict]) -> list[str]:
    return [card["source"]["topic"]["code"] for card in cards]


def card_of(cards: list[dict], rule_id: str) -> dict:
    return next(card for card in cards if card["source"]["topic"]["code"] == rule_id)


def edited(body: dict, reference: str, change) -> dict:
    """A copy of the request with `change(resource)` applied to the prefetched resource `reference`."""
    body = copy.deepcopy(body)
    resource_type, resource_id = reference.split("/", 1)
    for answer in body["prefetch"].values():
        entries = answer.get("entry", []) if isinstance(answer, dict) and answer.get("resourceType") == "Bundle" else []
        for entry in entries:
            resource = entry.get("resource", {})
            if resource.get("resourceType") == resource_type and resource.get("id") == resource_id:
                change(resource)
                return body
    raise AssertionError(f"{reference} is not in the prefetch")


def as_patient(body: dict, patient_id: str) -> dict:
    """The same record and evidence, for another patient (every reference to the patient renamed)."""
    import json

    old = body["context"]["patientId"]
    return json.loads(json.dumps(body).replace(f'"{old}"', f'"{patient_id}"').replace(f"Patient/{old}", f"Patient/{patient_id}"))
