"""Regression corpus: the bodies that gave a 500 under load (issue 11, finding 3), each answered < 500.

Run against SQLite, and against PostgreSQL when CDS_TEST_POSTGRES_URL is set (.ci/run sets it):
PostgreSQL is the database that refused NUL and lone surrogates (DataError, UnicodeEncodeError).
"""
from __future__ import annotations

import copy
import json
import os
import uuid

import pytest
from sqlalchemy import text

from cds_service.app import create_app
from cds_service.config import Settings
from cds_service.fixtures import DEFAULT_DIRECTORY, build_request, load_fixture
from cds_service.services import all_services
from cds_service.store.repository import make_engine

POSTGRES_URL = os.environ.get("CDS_TEST_POSTGRES_URL", "")
FEEDBACK = "/cds-services/iliac-vein-order-sign/feedback"
BAD_TEXT = {"NUL": "documented\u0000elsewhere", "lone surrogate": "documented \ud800 elsewhere"}
BAD_TIMESTAMPS = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z", "10000-01-01T00:00:00Z"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/cds.db"
    else:
        if not POSTGRES_URL:
            if os.environ.get("CI"):
                pytest.fail("CI must run the corpus against PostgreSQL: CDS_TEST_POSTGRES_URL is not set")
            pytest.skip("CDS_TEST_POSTGRES_URL not set")
        url = POSTGRES_URL
        with make_engine(url).begin() as connection:
            connection.execute(text("TRUNCATE cards_issued, feedback, seen_jwt"))
    application = create_app(Settings(auth="off", database_url=url, log_level="CRITICAL"))
    yield application
    application.extensions["cds"]["card_log"].flush(timeout=10)


def item(**changes) -> dict:
    base = {"card": str(uuid.uuid4()), "outcome": "overridden", "outcomeTimestamp": "2026-11-26T10:00:00Z",
            "overrideReason": {"reason": {"system": "http://example.org/reasons", "code": "documented-elsewhere",
                                          "display": "Documented elsewhere"}, "userComment": "see op note"}}
    base.update(changes)
    return base


def with_reason(**reason) -> dict:
    return item(overrideReason={"reason": {"system": "http://x", "code": "c", "display": "d", **reason}, "userComment": "c"})


def bad_string_items() -> list[tuple[str, dict]]:
    cases = []
    for label, bad in BAD_TEXT.items():
        cases += [
            (f"{label} in card", item(card=bad)),
            (f"{label} in userComment", item(overrideReason={"userComment": bad})),
            (f"{label} in reason.system", with_reason(system=bad)),
            (f"{label} in reason.code", with_reason(code=bad)),
            (f"{label} in reason.display", with_reason(display=bad)),
            (f"{label} in acceptedSuggestions.id", item(outcome="accepted", overrideReason=None,
                                                       acceptedSuggestions=[{"id": bad}])),
        ]
    return cases


def post_feedback(client, items: list[dict]):
    body = {"feedback": [{k: v for k, v in i.items() if v is not None} for i in items]}
    return client.post(FEEDBACK, data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("label, bad", bad_string_items(), ids=[label for label, _ in bad_string_items()])
def test_a_bad_string_in_feedback_is_400_and_nothing_of_the_request_is_stored(app, label, bad):
    client = app.test_client()
    response = post_feedback(client, [item(), bad])  # [valid item, bad item]
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["resourceType"] == "OperationOutcome"
    assert app.extensions["cds"]["store"].feedback() == []  # all or nothing: the valid item is not stored


@pytest.mark.parametrize("timestamp", BAD_TIMESTAMPS)
def test_an_out_of_range_timestamp_is_400(app, timestamp):
    response = post_feedback(app.test_client(), [item(), item(outcomeTimestamp=timestamp)])
    assert response.status_code == 400
    assert app.extensions["cds"]["store"].feedback() == []


def test_valid_feedback_is_stored_once_and_the_retry_stores_nothing(app):
    client = app.test_client()
    items = [item(), item(outcomeTimestamp="2026-11-26T10:00:00+14:00")]
    assert post_feedback(client, items).get_json() == {"stored": 2}
    assert post_feedback(client, items).get_json() == {"stored": 0}


def service_entry(service_id: str) -> dict:
    return next(s.discovery_json() for s in all_services() if s.id == service_id)


def test_a_nul_in_hook_instance_costs_no_card_row(app):
    """It once poisoned the batch: 10 such calls cost 312 other cards their rows."""
    story = load_fixture(DEFAULT_DIRECTORY / "malignant-iliac-mass-with-acute-dvt.json")
    request = build_request(story, service_entry("iliac-vein-patient-view"), prefetch=True)
    client = app.test_client()
    issued = []
    for n in range(12):
        body = copy.deepcopy(request)
        body["hookInstance"] = f"hook\u0000{n}\ud800" if n % 3 == 0 else str(uuid.uuid4())
        response = client.post("/cds-services/iliac-vein-patient-view", json=body)
        assert response.status_code == 200
        issued += [card["uuid"] for card in response.get_json()["cards"]]
    card_log = app.extensions["cds"]["card_log"]
    assert card_log.flush(timeout=10)
    stored = {row.card_uuid for row in app.extensions["cds"]["store"].cards_issued()}
    assert set(issued) == stored and card_log.dropped == 0


def raw_hook_body(fixture_id: str, service_id: str, mutate) -> str:
    """The fixture's request as JSON text, with `mutate(text)` applied (raw tokens such as NaN)."""
    story = load_fixture(DEFAULT_DIRECTORY / f"{fixture_id}.json")
    return mutate(json.dumps(build_request(story, service_entry(service_id), prefetch=True)))


CORPUS = [
    ("prefetch onset 0001-01-01T00:00:00+14:00", "malignant-iliac-mass-with-acute-dvt", "iliac-vein-patient-view",
     lambda body: body.replace('"onsetDateTime": "', '"onsetDateTime": "0001-01-01T00:00:00+14:00", "x": "')),
    ("prefetch dates 9999-12-31T23:59:59-14:00", "malignant-iliac-mass-with-acute-dvt", "iliac-vein-patient-view",
     lambda body: body.replace('"effectiveDateTime": "', '"effectiveDateTime": "9999-12-31T23:59:59-14:00", "x": "')),
    ("NaN dose in a draft order", "order-sign-enoxaparin-correct-dose", "iliac-vein-order-sign",
     lambda body: body.replace('"doseQuantity": {"value": ', '"doseQuantity": {"value": NaN, "x": ')),
    ("Infinity stent length", "order-sign-stent-60mm-ok", "iliac-vein-order-sign",
     lambda body: body.replace('"value": 60', '"value": Infinity')),
    ("1e400 weight", "order-sign-enoxaparin-correct-dose", "iliac-vein-order-sign",
     lambda body: body.replace('"code": "kg"}', '"code": "kg", "value": 1e400}')),
    ("1e-300 weight", "order-sign-enoxaparin-correct-dose", "iliac-vein-order-sign",
     lambda body: body.replace('"code": "kg"}', '"code": "kg", "value": 1e-300}')),
    ("an integer beyond any float as a dose", "order-sign-enoxaparin-correct-dose", "iliac-vein-order-sign",
     lambda body: body.replace('"doseQuantity": {"value": ', '"doseQuantity": {"value": ' + "9" * 400 + ', "x": ')),
]


@pytest.mark.parametrize("label, fixture_id, service_id, mutate", CORPUS, ids=[c[0] for c in CORPUS])
def test_hostile_numbers_and_dates_in_hook_calls_are_answered_below_500(app, label, fixture_id, service_id, mutate):
    body = raw_hook_body(fixture_id, service_id, mutate)
    assert body != raw_hook_body(fixture_id, service_id, lambda text: text), "the mutation must change the body"
    response = app.test_client().post(f"/cds-services/{service_id}", data=body, content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
