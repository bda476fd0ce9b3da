"""The database stops, or freezes (SIGSTOP), under hook and feedback traffic.

Promises (docs/operations.md): card rows lost = 0 once it is back; hook calls that need no
database answer in < 3 s while it is frozen; /readyz answers 503 within 2 s; feedback gets
503, never 500; the JWT replay check fails closed (503) within its own timeout.
"""
from __future__ import annotations

import copy
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from cds_service.app import create_app
from cds_service.auth.errors import AuthenticationFailed
from cds_service.auth.replay import ReplayGuard
from cds_service.config import Settings
from cds_service.store.repository import DbLimits, make_engine
from tests.helpers.faults import wait_for

pytestmark = [pytest.mark.faults, pytest.mark.postgres]
SERVICE = "iliac-vein-patient-view"


@pytest.fixture
def app(cluster, story):
    with make_engine(cluster.url).begin() as connection:
        connection.execute(text("TRUNCATE cards_issued, feedback, seen_jwt"))
    settings = Settings(auth="off", database_url=cluster.url, clock=lambda: story.now, log_level="CRITICAL",
                        db_statement_timeout=2.0, db_connect_timeout=2.0, db_pool_timeout=1.0)
    application = create_app(settings)
    yield application
    application.extensions["cds"]["card_log"].flush(timeout=10)


def hook_call(client, body) -> tuple[int, float, list[str]]:
    fresh = copy.deepcopy(body)
    fresh["hookInstance"] = str(uuid.uuid4())
    started = time.monotonic()
    response = client.post(f"/cds-services/{SERVICE}", json=fresh)
    cards = [card["uuid"] for card in response.get_json().get("cards", [])] if response.status_code == 200 else []
    return response.status_code, time.monotonic() - started, cards


def feedback_call(client, card: str) -> int:
    body = {"feedback": [{"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-11-26T10:00:00Z",
                          "overrideReason": {"userComment": "checked"}}]}
    return client.post(f"/cds-services/{SERVICE}/feedback", json=body).status_code


def timed(function):
    started = time.monotonic()
    result = function()
    return result, time.monotonic() - started


def rows_in_database(app) -> set[str]:
    return {row.card_uuid for row in app.extensions["cds"]["store"].cards_issued()}


def test_a_stopped_database_loses_no_card_row_and_answers_503(app, cluster, hook_body):
    client = app.test_client()
    issued: list[str] = []
    for _ in range(5):
        issued += hook_call(client, hook_body)[2]
    cluster.stop()
    try:
        during = [hook_call(client, hook_body) for _ in range(20)]
        ready, ready_seconds = timed(lambda: client.get("/readyz"))
        feedback_status = feedback_call(client, during[0][2][0])
        # Warm, all of the above can take less than the writer's 0.25 s interval: let it meet the outage.
        card_log, registry = app.extensions["cds"]["card_log"], app.extensions["cds"]["metrics"].registry
        failed_during_outage = wait_for(lambda: card_log.write_failures >= 1, 10)
        # read while the database is still down: once it is back, the writer may empty the queue at any moment
        pending, gauge = card_log.pending, registry.get_sample_value("card_log_pending")
    finally:
        cluster.start()
    assert all(status == 200 for status, _, _ in during), [s for s, _, _ in during]
    issued += [card for _, _, cards in during for card in cards]
    assert ready.status_code == 503 and ready_seconds < 2.0
    assert feedback_status == 503
    assert failed_during_outage and registry.get_sample_value("card_log_write_failures_total") >= 1
    assert pending > 0 and gauge == pending
    exposition = client.get("/metrics").get_data(as_text=True)
    assert all(name in exposition for name in ("card_log_pending", "card_log_dropped", "card_log_write_failures_total"))
    assert app.extensions["cds"]["card_log"].flush(timeout=20)
    assert set(issued) <= rows_in_database(app), f"{len(set(issued) - rows_in_database(app))} rows lost"
    assert len(issued) >= 25 * 2  # the story issues 2 cards per call
    assert feedback_call(client, during[0][2][0]) == 200  # the retry is stored once the database is back
    assert registry.get_sample_value("card_log_pending") == 0


def test_a_frozen_database_never_holds_a_hook_call(app, cluster, hook_body):
    client = app.test_client()
    issued = hook_call(client, hook_body)[2]
    frozen = cluster.freeze()
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            feedback = [pool.submit(lambda: timed(lambda: feedback_call(app.test_client(), issued[0]))) for _ in range(4)]
            during = list(pool.map(lambda _: hook_call(app.test_client(), hook_body), range(24)))
            ready, ready_seconds = timed(lambda: client.get("/readyz"))
            feedback_answers = [future.result() for future in feedback]
    finally:
        cluster.thaw(frozen)
    latencies = sorted(seconds for _, seconds, _ in during)
    assert all(status == 200 for status, _, _ in during)
    assert latencies[-1] < 3.0, f"hook latency while frozen: max {latencies[-1]:.2f} s"
    assert ready.status_code == 503 and ready_seconds < 2.0
    assert {status for status, _ in feedback_answers} == {503}
    assert max(seconds for _, seconds in feedback_answers) < 2.0 + 1.0 + 1.0  # statement timeout + grace + slack
    issued += [card for _, _, cards in during for card in cards]
    assert app.extensions["cds"]["card_log"].flush(timeout=30)
    assert set(issued) <= rows_in_database(app), f"{len(set(issued) - rows_in_database(app))} rows lost"
    assert client.get("/readyz").status_code == 200


def test_the_jwt_replay_check_fails_closed_within_its_own_timeout(cluster):
    engine = make_engine(cluster.url, DbLimits(statement_timeout=1.0, connect_timeout=1.0, pool_size=2, pool_timeout=1.0))
    guard = ReplayGuard(engine, timeout=1.0)
    guard.remember("https://ehr.test", "jti-before", time.time() + 60)
    frozen = cluster.freeze()
    try:
        started = time.monotonic()
        with pytest.raises(AuthenticationFailed) as refused:
            guard.remember("https://ehr.test", "jti-during", time.time() + 60)
        seconds = time.monotonic() - started
    finally:
        cluster.thaw(frozen)
    assert refused.value.reason == "replay-store-unavailable" and seconds < 1.5
    engine.dispose()


def test_a_frozen_database_costs_an_authenticated_hook_call_a_503_not_a_hang(cluster, story, hook_body, tmp_path):
    from cds_service.auth.testkit import cds_claims, jwks_of, new_es384_key, write_trusted_clients

    key = new_es384_key("faults-1")
    clients = write_trusted_clients(tmp_path / "clients.json", [{"iss": "https://ehr.test", "jwks": jwks_of([key])}])
    settings = Settings(database_url=cluster.url, public_base_url="http://cds.test", trusted_clients_file=str(clients),
                        clock=lambda: story.now, log_level="CRITICAL", db_replay_timeout=1.0)
    application = create_app(settings)
    client = application.test_client()
    url = f"http://cds.test/cds-services/{SERVICE}"

    def call() -> int:
        token = key.sign(cds_claims("https://ehr.test", url))
        return client.post(f"/cds-services/{SERVICE}", json=hook_body, headers={"Authorization": f"Bearer {token}"}).status_code

    assert call() == 200
    frozen = cluster.freeze()
    try:
        status, seconds = timed(call)
    finally:
        cluster.thaw(frozen)
    assert status == 503 and seconds < 2.0
    assert call() == 200
    assert application.extensions["cds"]["card_log"].flush(timeout=10)
