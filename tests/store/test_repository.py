"""Storage against SQLite, and against PostgreSQL when CDS_TEST_POSTGRES_URL is set (.ci/run sets it)."""
import os
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from cds_service.protocol.feedback import parse_feedback
from cds_service.store.repository import Store, hash_patient, make_engine

POSTGRES_URL = os.environ.get("CDS_TEST_POSTGRES_URL", "")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    if request.param == "sqlite":
        yield Store(make_engine(f"sqlite:///{tmp_path}/store.db"))
        return
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must run the storage tests against PostgreSQL: CDS_TEST_POSTGRES_URL is not set")
        pytest.skip("CDS_TEST_POSTGRES_URL not set")
    engine = make_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE cards_issued, feedback, seen_jwt"))
    yield Store(engine)
    engine.dispose()


def feedback_body(card="card-1", comment="documented in op note"):
    return {"feedback": [
        {"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-11-26T10:05:31Z",
         "overrideReason": {"reason": {"system": "http://x", "code": "documented-elsewhere",
                                       "display": "Documented elsewhere"}, "userComment": comment}},
        {"card": card, "outcome": "accepted", "acceptedSuggestions": [{"id": "s-1"}, {"id": "s-2"}],
         "outcomeTimestamp": "2026-11-26T10:06:00Z"},
    ]}


def test_feedback_is_stored_once_however_often_it_is_posted(store):
    entries = parse_feedback(feedback_body())
    assert store.store_feedback("iliac-vein-order-sign", entries) == 2
    assert store.store_feedback("iliac-vein-order-sign", entries) == 0
    rows = store.feedback()
    assert len(rows) == 2
    assert rows[0].override_code == "documented-elsewhere" and rows[0].user_comment == "documented in op note"
    assert rows[1].accepted_suggestions == "s-1,s-2"


def test_different_feedback_on_the_same_card_is_kept(store):
    store.store_feedback("svc", parse_feedback(feedback_body(comment="first")))
    store.store_feedback("svc", parse_feedback(feedback_body(comment="second")))
    assert len(store.feedback()) == 3  # the accepted item is the same both times


def test_cards_issued_rows_tie_uuid_to_rule_without_phi(store):
    card_uuid = str(uuid.uuid4())
    store.record_cards([{"card_uuid": card_uuid, "rule_id": "STENT-LENGTH", "indicator": "critical",
                         "service_id": "iliac-vein-order-sign", "hook_instance": "h-1",
                         "patient_hash": hash_patient("pat-1", "salt"), "issued_at": datetime.now(timezone.utc)}])
    (row,) = store.cards_issued()
    assert row.rule_id == "STENT-LENGTH" and row.card_uuid == card_uuid
    assert row.patient_hash != "pat-1" and len(row.patient_hash) == 64


def test_ping(store):
    store.ping()


def test_patient_hash_depends_on_salt():
    assert hash_patient("p", "a") != hash_patient("p", "b")
    assert hash_patient("p", "a") == hash_patient("p", "a")


def test_patient_pseudonym_is_hmac_sha256_keyed_with_the_secret():
    import hashlib
    import hmac

    assert hash_patient("pat-1", "site-secret") == hmac.new(b"site-secret", b"pat-1", hashlib.sha256).hexdigest()
    # RFC 4231 test case 2: HMAC-SHA256(key "Jefe", "what do ya want for nothing?")
    assert hash_patient("what do ya want for nothing?", "Jefe") == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
    assert hash_patient("pat-1", "site-secret") != hashlib.sha256(b"site-secret:pat-1").hexdigest()
