"""The lockout table on SQLite, and on PostgreSQL when CDS_TEST_POSTGRES_URL is set: shared, renewed, fail open."""
from __future__ import annotations

import json
import os
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text

from cds_service.protocol.feedback import FeedbackEntry
from cds_service.store.lockouts import LockoutStore, LockoutUnavailable
from cds_service.store.migrations import add_missing_columns
from cds_service.store.repository import make_engine

POSTGRES_URL = os.environ.get("CDS_TEST_POSTGRES_URL", "")
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
SERVICE = "iliac-vein-patient-view"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/lockouts.db"
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must run the storage tests against PostgreSQL: CDS_TEST_POSTGRES_URL is not set")
        pytest.skip("CDS_TEST_POSTGRES_URL not set")
    engine = make_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE cards_issued, feedback, lockouts"))
    engine.dispose()
    return POSTGRES_URL


def log_card(engine, rule_id="DVT-DUPLEX", patient="p" * 64, fingerprint="f" * 64, status="issued") -> str:
    card_uuid = str(uuid.uuid4())
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO cards_issued (card_uuid, rule_id, indicator, service_id, hook_instance, patient_hash, "
            "issued_at, status, repeats_card, fact_refs, evidence_fingerprint) VALUES (:u, :r, 'warning', :s, 'h', "
            ":p, :t, :st, '', :refs, :f)"),
            {"u": card_uuid, "r": rule_id, "s": SERVICE, "p": patient, "t": NOW, "st": status,
             "refs": json.dumps(["Condition/c1"]), "f": fingerprint})
    return card_uuid


def answer(card_uuid: str, outcome: str = "overridden") -> FeedbackEntry:
    return FeedbackEntry(card=card_uuid, outcome=outcome, outcome_timestamp=NOW)


def test_an_answer_locks_the_rule_patient_and_fingerprint_for_every_worker(database_url):
    first, second = LockoutStore(make_engine(database_url)), LockoutStore(make_engine(database_url))
    card = log_card(first.engine)
    assert first.record_answers(SERVICE, [answer(card)], NOW) == 1
    locks = second.locks("p" * 64, [("DVT-DUPLEX", "f" * 64), ("DVT-DUPLEX", "g" * 64)])
    assert list(locks) == [("DVT-DUPLEX", "f" * 64)]
    assert locks[("DVT-DUPLEX", "f" * 64)].card_uuid == card
    assert locks[("DVT-DUPLEX", "f" * 64)].locked_at == NOW
    assert second.locks("q" * 64, [("DVT-DUPLEX", "f" * 64)]) == {}


def test_a_later_answer_renews_the_lock_and_names_the_newer_card(database_url):
    store = LockoutStore(make_engine(database_url))
    older, newer = log_card(store.engine), log_card(store.engine)
    store.record_answers(SERVICE, [answer(older)], NOW)
    store.record_answers(SERVICE, [answer(newer, "accepted")], NOW + timedelta(days=2))
    (lock,) = store.locks("p" * 64, [("DVT-DUPLEX", "f" * 64)]).values()
    assert (lock.card_uuid, lock.locked_at) == (newer, NOW + timedelta(days=2))


def test_cards_of_another_service_silent_cards_and_unknown_cards_lock_nothing(database_url):
    store = LockoutStore(make_engine(database_url))
    silent = log_card(store.engine, status="silent")
    store_other = log_card(store.engine, fingerprint="h" * 64)
    started = time.monotonic()
    assert store.record_answers("iliac-vein-order-sign", [answer(store_other)], NOW) == 0
    assert time.monotonic() - started < 2.0  # waits at most CARD_LOG_WAIT_S for a card still queued elsewhere
    assert store.record_answers(SERVICE, [answer(silent), answer("no-such-card")], NOW) == 0
    assert store.locks("p" * 64, [("DVT-DUPLEX", "f" * 64), ("DVT-DUPLEX", "h" * 64)]) == {}


def test_an_unreachable_database_is_reported_within_the_timeout(database_url):
    unreachable = ("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=5" if database_url.startswith("postgres")
                   else "sqlite:////nonexistent-directory/lockouts.db")
    store = LockoutStore(create_engine(unreachable), timeout=0.3)
    started = time.monotonic()
    with pytest.raises(LockoutUnavailable):
        store.locks("p" * 64, [("DVT-DUPLEX", "f" * 64)])
    assert time.monotonic() - started < 1.0


def test_the_added_columns_are_added_once(database_url):
    engine = make_engine(database_url)  # make_engine already added them
    assert add_missing_columns(engine) == []
