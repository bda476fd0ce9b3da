"""Server-side sessions: sealed rows, expiry, unknown or tampered cookies read as no session."""
from sqlalchemy import select

from cds_service.smart.sessions import SESSIONS, SessionStore
from cds_service.store.repository import make_engine


def test_a_session_round_trips_and_its_row_reveals_nothing(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/s.db")
    store = SessionStore(engine)
    secret = store.create({"access_token": "very-secret-token", "patient": "p-1"}, 60)

    assert store.load(secret) == {"access_token": "very-secret-token", "patient": "p-1"}
    with engine.connect() as connection:
        row = connection.execute(select(SESSIONS)).one()
    assert secret not in row.id and "very-secret-token" not in row.sealed and "p-1" not in row.sealed


def test_expired_unknown_and_deleted_sessions_read_as_none(tmp_path):
    now = [1000.0]
    store = SessionStore(make_engine(f"sqlite:///{tmp_path}/s.db"), clock=lambda: now[0])
    secret = store.create({"a": 1}, 60)
    assert store.load("x" * 43) is None and store.load(None) is None and store.load("y" * 500) is None
    now[0] += 61
    assert store.load(secret) is None
    now[0] = 1000.0
    store.delete(secret)
    assert store.load(secret) is None


def test_expired_rows_are_removed_when_new_sessions_are_written(tmp_path):
    now = [1000.0]
    engine = make_engine(f"sqlite:///{tmp_path}/s.db")
    store = SessionStore(engine, clock=lambda: now[0])
    store.create({"a": 1}, 10)
    now[0] += 100
    store.create({"b": 2}, 10)
    with engine.connect() as connection:
        assert len(connection.execute(select(SESSIONS)).all()) == 1
