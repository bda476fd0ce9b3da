import time
from datetime import datetime, timezone

from sqlalchemy.exc import DataError, OperationalError

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


def test_rows_are_kept_while_the_database_is_away_and_written_when_it_is_back(tmp_path):
    store = Store(make_engine(f"sqlite:///{tmp_path}/log.db"))
    log = CardLog(store, interval=0.01)
    real_write, attempts = store.record_cards, []

    def away_three_times(rows):
        attempts.append(len(rows))
        if len(attempts) <= 3:
            raise OperationalError("INSERT", {}, OSError("connection refused"))
        real_write(rows)

    store.record_cards = away_three_times
    log.record([row(n) for n in range(20)])
    assert log.flush(timeout=10)
    assert attempts == [20, 20, 20, 20]  # the whole batch each time: nothing dropped, nothing split
    assert len(store.cards_issued()) == 20 and log.dropped == 0 and log.write_failures == 3


def test_one_row_the_database_refuses_costs_no_other_row(tmp_path):
    store = Store(make_engine(f"sqlite:///{tmp_path}/log.db"))
    log = CardLog(store, interval=60)
    real_write = store.record_cards

    def refuses_card_7(rows):
        if any(r["card_uuid"] == "card-7" for r in rows):
            raise DataError("INSERT", {}, ValueError("refused"))
        real_write(rows)

    store.record_cards = refuses_card_7
    log.record([row(n) for n in range(10)])
    assert log.flush(timeout=10)
    assert sorted(r.card_uuid for r in store.cards_issued()) == [f"card-{n}" for n in range(10) if n != 7]
    assert log.dropped == 1


def test_rows_are_sanitized_before_they_are_queued(tmp_path):
    store = Store(make_engine(f"sqlite:///{tmp_path}/log.db"))
    log = CardLog(store, interval=60)
    log.record([dict(row(1), hook_instance="a\x00b\ud800c" + "x" * 500)])
    assert log.flush(timeout=10)
    written = store.cards_issued()[0].hook_instance
    assert written.startswith("ab?c") and len(written) == 128


def test_rows_beyond_the_bound_are_dropped_and_counted(tmp_path):
    store = Store(make_engine(f"sqlite:///{tmp_path}/log.db"))
    dropped = []

    class Metrics:
        def pending(self, count): pass
        def dropped(self, reason, count): dropped.append((reason, count))
        def write_failed(self): pass

    log = CardLog(store, metrics=Metrics(), max_pending=5, interval=60)
    log.record([row(n) for n in range(8)])
    assert log.pending == 5 and log.dropped == 3 and dropped == [("queue-full", 3)]
    assert log.flush(timeout=10)
    assert len(store.cards_issued()) == 5


def test_a_row_already_written_is_not_a_loss(tmp_path):
    """A commit whose answer was lost: the retry finds the rows there, and nothing is dropped."""
    store = Store(make_engine(f"sqlite:///{tmp_path}/log.db"))
    store.record_cards([row(1)])
    log = CardLog(store, interval=60)
    log.record([row(1), row(2)])
    assert log.flush(timeout=10)
    assert len(store.cards_issued()) == 2 and log.dropped == 0


def test_an_in_memory_database_is_shared_with_the_writer_thread():
    store = Store(make_engine("sqlite://"))
    log = CardLog(store, interval=0.01)
    log.record([row(1)])
    deadline = time.monotonic() + 5
    while not store.cards_issued() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [r.card_uuid for r in store.cards_issued()] == ["card-1"]


def test_bounded_calls_fail_at_once_when_every_thread_is_stuck():
    import threading

    import pytest

    from cds_service.store.database import BoundedCalls, CallTimedOut

    calls, release = BoundedCalls(workers=2, name="test", stuck_after=0.1), threading.Event()
    for _ in range(2):
        with pytest.raises(CallTimedOut):
            calls.run(lambda: release.wait(10), timeout=0.2)
    started = time.monotonic()
    with pytest.raises(CallTimedOut, match="every database thread"):
        calls.run(lambda: "never", timeout=5)
    assert time.monotonic() - started < 0.1
    release.set()
    time.sleep(0.1)
    assert calls.run(lambda: "answered", timeout=1) == "answered"


def test_feedback_on_a_card_not_yet_logged_joins_it_when_the_row_lands(tmp_path):
    from cds_service.protocol.feedback import parse_feedback
    from cds_service.store.report import build_report

    store = Store(make_engine(f"sqlite:///{tmp_path}/log.db"))
    log = CardLog(store, interval=60)  # the row waits in the queue
    log.record([row(1)])
    store.store_feedback("svc", parse_feedback({"feedback": [{
        "card": "card-1", "outcome": "overridden", "outcomeTimestamp": "2026-11-26T10:00:00Z",
        "overrideReason": {"userComment": "anatomy confirmed"}}]}))
    assert build_report(store) == []  # no card row yet: nothing to join
    assert log.flush(timeout=10)
    [report] = build_report(store)
    assert (report.rule_id, report.issued, report.overridden, report.comments) == ("STENT-LENGTH", 1, 1, ["anatomy confirmed"])


def test_the_governance_columns_are_queued_sanitized_and_written(tmp_path):
    store = Store(make_engine(f"sqlite:///{tmp_path}/log.db"))
    log = CardLog(store, interval=60)
    governed = dict(row(1), status="suppressed", repeats_card="card-0\x00", fact_refs='["Condition/c1", "Obs\ud800"]',
                    evidence_fingerprint="f" * 80)
    log.record([governed, row(2)])  # row 2 predates governance: no such columns
    assert log.flush(timeout=10)
    by_uuid = {r.card_uuid: r for r in store.cards_issued()}
    assert (by_uuid["card-1"].status, by_uuid["card-1"].repeats_card) == ("suppressed", "card-0")
    assert by_uuid["card-1"].fact_refs == '["Condition/c1", "Obs?"]'
    assert by_uuid["card-1"].evidence_fingerprint == "f" * 64
    assert (by_uuid["card-2"].status, by_uuid["card-2"].fact_refs) == ("issued", "")
