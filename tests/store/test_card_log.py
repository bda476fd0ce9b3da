import time
from datetime import datetime, timezone

from cds_service.store.card_log import CardLog
from cds_service.store.repository import Store, make_engine


def row(n: int) -> dict:
    return {"card_uuid": f"card-{n}", "rule_id": "STENT-LENGTH", "indicator": "critical", "service_id": "svc",
            "hook_instance": "h", "patient_hash": "x" * 64, "issued_at": datetime.now(timezone.utc)}


def test_rows_are_written_in_the_background(tmp_path):
    store = Store(make_engine(f"sqlite:///{tmp_path}/log.db"))
    log = CardLog(store, interval=0.05)
    log.record([row(n) for n in range(5)])
    deadline = time.monotonic() + 5
    while len(store.cards_issued()) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sorted(r.card_uuid for r in store.cards_issued()) == [f"card-{n}" for n in range(5)]


def test_flush_writes_everything_queued(tmp_path):
    store = Store(make_engine(f"sqlite:///{tmp_path}/log.db"))
    log = CardLog(store, interval=60)
    log.record([row(n) for n in range(450)])
    log.flush()
    assert len(store.cards_issued()) == 450


def test_a_failed_write_is_retried_on_the_next_flush(tmp_path):
    store = Store(make_engine(f"sqlite:///{tmp_path}/log.db"))
    log = CardLog(store, interval=60)
    real_write, calls = store.record_cards, []

    def failing_once(rows):
        calls.append(len(rows))
        if len(calls) == 1:
            raise OSError("database is gone for a moment")
        real_write(rows)

    store.record_cards = failing_once
    log.record([row(1), row(2)])
    log.flush()  # fails once, then the retry is written before flush returns
    assert calls == [2, 2]
    assert len(store.cards_issued()) == 2


def test_rows_that_fail_twice_are_dropped_not_retried_forever(tmp_path):
    store = Store(make_engine(f"sqlite:///{tmp_path}/log.db"))
    log = CardLog(store, interval=0.01)
    attempts = []

    def always_failing(rows):
        attempts.append(len(rows))
        raise OSError("database gone")

    store.record_cards = always_failing
    log.record([row(1)])
    log.flush()
    log.flush()
    time.sleep(0.1)
    assert attempts == [1, 1]


def test_an_in_memory_database_is_shared_with_the_writer_thread():
    store = Store(make_engine("sqlite://"))
    log = CardLog(store, interval=0.01)
    log.record([row(1)])
    deadline = time.monotonic() + 5
    while not store.cards_issued() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [r.card_uuid for r in store.cards_issued()] == ["card-1"]
