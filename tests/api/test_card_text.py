"""Card text (RULES.md revision 2) on every card of every fixture, through the HTTP API.

Each fixture's request is built as in `test_golden_cards.py` (with the prefetch; the
`fhir-server-down` stories against a FHIR server answering 503), and every card of
the answer is run through `cds_service.protocol.card_text.problems`: length, action
first, facts and quotes, the rule link, resource ids, local and UCUM codes,
decimals, pregnancy wording, and no two cards asking for the same order.
"""
from __future__ import annotations

import re

import pytest
import responses

from cds_service.fhir.valuesets import load_value_sets
from cds_service.fixtures import Fixture, all_fixtures, build_request
from cds_service.protocol.card_text import problems

FHIR_BASE = "https://fhir.cardtext.test/r4"
FIXTURES = all_fixtures()
ACTIVE = {None, "active", "recurrence", "relapse"}


def is_pregnant(fixture: Fixture) -> bool:
    """DATA-CONTRACT: an active, not refuted pregnancy Condition (SNOMED 77386006, Z33.1, O09.*)."""
    value_sets = load_value_sets()
    for resource in fixture.resources:
        if resource["resourceType"] != "Condition":
            continue
        status = next(iter((resource.get("clinicalStatus") or {}).get("coding") or []), {}).get("code")
        verification = next(iter((resource.get("verificationStatus") or {}).get("coding") or []), {}).get("code")
        codings = (resource.get("code") or {}).get("coding") or []
        if status in ACTIVE and verification in (None, "confirmed") and value_sets.match("pregnancy", codings):
            return True
    return False


def answer(client, services, clock, fixture: Fixture) -> list[dict]:
    clock["now"] = fixture.now
    entry = services[fixture.hook]
    if fixture.fhir_server_down:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/.*"), status=503, body="down")
            body = build_request(fixture, entry, prefetch=False, fhir_server=FHIR_BASE, access_token="t")
            response = client.post(f"/cds-services/{entry['id']}", json=body)
    else:
        response = client.post(f"/cds-services/{entry['id']}", json=build_request(fixture, entry, prefetch=True))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()["cards"]


def test_pregnancy_is_read_from_the_fixture():
    pregnant = {f.id for f in FIXTURES if is_pregnant(f)}
    assert "pregnant-iliac-mass-no-imaging" in pregnant
    assert "left-leg-swelling-no-imaging" not in pregnant


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.id for f in FIXTURES])
def test_every_card_reads_in_seconds(fixture, client, services, clock):
    cards = answer(client, services, clock, fixture)
    pregnant = is_pregnant(fixture)
    found = [f"{card['source']['topic']['code']}: {problem}"
             for card in cards for problem in problems(card, cards, pregnant)]
    assert not found, f"{fixture.id}:\n  " + "\n  ".join(found)
