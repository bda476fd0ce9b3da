"""The seen-jti store: shared by all workers, atomic under races, purged, and failing closed."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select, text

from cds_service.auth import AuthenticationFailed
from cds_service.auth.replay import PURGE_INTERVAL, ReplayGuard
from cds_service.store.models import SeenJwt
from tests.helpers.auth import ISS_A, NOW, SERVICE_URL, bearer, claims

SKEW = 60


def rows(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(SeenJwt)).scalar_one()


def stored_expiry(engine, jti: str) -> float:
    with engine.connect() as connection:
        value = connection.execute(select(SeenJwt.expires_at).where(SeenJwt.jti == jti)).scalar_one()
    return value.replace(tzinfo=value.tzinfo or timezone.utc).timestamp()


def test_jti_is_kept_until_the_token_can_no_longer_be_accepted(authenticator, keys, engine):
    sent = claims(ISS_A, lifetime=300)
    authenticator.authenticate(bearer(keys.a.sign(sent)), SERVICE_URL)
    assert stored_expiry(engine, sent["jti"]) == NOW + 300 + SKEW


def test_only_the_jti_and_issuer_are_stored_never_the_token(authenticator, keys, engine):
    token = keys.a.sign(claims(ISS_A))
    authenticator.authenticate(bearer(token), SERVICE_URL)
    with engine.connect() as connection:
        dumped = repr(connection.execute(text("SELECT * FROM seen_jwt")).all())
    assert all(part not in dumped for part in token.split("."))


def test_concurrent_replays_let_exactly_one_through(make_authenticator, keys, file_engine):
    workers = [make_authenticator(database=file_engine) for _ in range(6)]
    token = keys.a.sign(claims(ISS_A))
    outcomes: list[str] = []
    start = threading.Barrier(len(workers))

    def call(worker):
        start.wait()
        try:
            worker.authenticate(bearer(token), SERVICE_URL)
            outcomes.append("accepted")
        except AuthenticationFailed as error:
            outcomes.append(error.reason)

    threads = [threading.Thread(target=call, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["accepted"] + ["replayed-jti"] * 5


def test_expired_rows_are_purged_at_most_once_a_minute(engine, clock):
    guard = ReplayGuard(engine, clock=clock)
    guard.remember(ISS_A, "first", keep_until=NOW + 10)  # purges (nothing yet), then records
    clock.advance(20)  # "first" is now expired
    guard.remember(ISS_A, "second", keep_until=NOW + 1000)
    assert rows(engine) == 2  # the last purge was 20 s ago: not due yet
    clock.advance(PURGE_INTERVAL - 20)
    guard.remember(ISS_A, "third", keep_until=NOW + 1000)
    assert rows(engine) == 2  # "first" purged, "third" added


def test_unexpired_rows_survive_a_purge(engine, clock):
    guard = ReplayGuard(engine, clock=clock)
    guard.remember(ISS_A, "live", keep_until=NOW + 3 * PURGE_INTERVAL)
    clock.advance(PURGE_INTERVAL)
    assert guard.purge_expired() == 0
    with pytest.raises(AuthenticationFailed) as raised:
        guard.remember(ISS_A, "live", keep_until=NOW + 3 * PURGE_INTERVAL)
    assert raised.value.reason == "replayed-jti"


def test_a_jti_whose_row_outlived_its_token_may_be_used_again(engine, clock):
    guard = ReplayGuard(engine, clock=clock)
    guard.remember(ISS_A, "reused-after-expiry", keep_until=NOW + 5)
    clock.advance(6)  # expired, but no purge is due yet
    guard.remember(ISS_A, "reused-after-expiry", keep_until=NOW + 500)
    assert rows(engine) == 1


def test_a_jti_is_refused_up_to_the_last_second_of_its_row(engine, clock):
    guard = ReplayGuard(engine, clock=clock)
    guard.remember(ISS_A, "edge", keep_until=NOW + 5)
    clock.advance(5)  # expires_at == now: not yet past
    with pytest.raises(AuthenticationFailed):
        guard.remember(ISS_A, "edge", keep_until=NOW + 500)


def test_store_failure_fails_closed(authenticator, keys, engine):
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE seen_jwt"))
    with pytest.raises(AuthenticationFailed) as raised:
        authenticator.authenticate(bearer(keys.a.sign(claims(ISS_A))), SERVICE_URL)
    assert raised.value.reason == "replay-store-unavailable"


def test_expiry_is_stored_in_utc(engine, clock):
    ReplayGuard(engine, clock=clock).remember(ISS_A, "utc", keep_until=NOW)
    with engine.connect() as connection:
        value = connection.execute(select(SeenJwt.expires_at)).scalar_one()
    assert value.replace(tzinfo=None) == datetime.fromtimestamp(NOW, timezone.utc).replace(tzinfo=None)
