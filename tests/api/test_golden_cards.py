"""Every fixture's full answer, byte for byte (uuids aside), against a recorded copy.

The expected rule IDs of each fixture are checked in `test_fixtures.py`; this
test pins everything else a clinician sees: summaries, details, suggestions,
override reasons, links. A refactoring must leave these files unchanged. A
deliberate change of card text or of the catalogue regenerates them with

    CDS_UPDATE_GOLDEN=1 python -m pytest tests/api/test_golden_cards.py

and the diff of `tests/data/golden/` is reviewed like code.
"""
from __future__ import annotations

import json
import os
import re

import pytest
import responses

from cds_service.fixtures import all_fixtures, build_request

GOLDEN = os.path.join(os.path.dirname(__file__), os.pardir, "data", "golden")
FHIR_BASE = "https://fhir.golden.test/r4"
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
UPDATE = os.environ.get("CDS_UPDATE_GOLDEN") == "1"
FIXTURES = all_fixtures()


def normalized(document: object) -> str:
    return UUID.sub("<uuid>", json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False)) + "\n"


def compare(name: str, document: object) -> None:
    path = os.path.join(GOLDEN, f"{name}.json")
    text = normalized(document)
    if UPDATE:
        os.makedirs(GOLDEN, exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    assert os.path.exists(path), f"no recorded answer for {name}: run with CDS_UPDATE_GOLDEN=1 once"
    with open(path, encoding="utf-8") as handle:
        recorded = handle.read()
    assert text == recorded, f"{name}: the answer differs from tests/data/golden/{name}.json"


def test_discovery_is_unchanged(client):
    compare("_discovery", client.get("/cds-services").get_json())


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.id for f in FIXTURES])
def test_fixture_answer_is_unchanged(fixture, client, services, clock):
    clock["now"] = fixture.now
    entry = services[fixture.hook]
    if fixture.fhir_server_down:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/.*"), status=503, body="down")
            body = build_request(fixture, entry, prefetch=False, fhir_server=FHIR_BASE, access_token="t")
            response = client.post(f"/cds-services/{entry['id']}", json=body)
    else:
        response = client.post(f"/cds-services/{entry['id']}", json=build_request(fixture, entry, prefetch=True))
    compare(fixture.id, {"status": response.status_code, "body": response.get_json()})


def test_every_recorded_answer_has_a_fixture():
    """A fixture renamed or removed leaves no stale recording behind."""
    names = {f.id for f in FIXTURES} | {"_discovery"}
    recorded = {name[:-5] for name in os.listdir(GOLDEN) if name.endswith(".json")}
    assert recorded <= names, sorted(recorded - names)
