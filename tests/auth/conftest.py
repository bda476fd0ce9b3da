"""Shared set-up for the authentication tests: three trusted EHRs and one attacker.

- EHR A signs ES384, its key set given inline (`jwks`).
- EHR B signs RS384, its key set in a file next to the clients file (`jwks_file`).
- EHR C publishes its keys at a `jku` URL and must name tenant "org-c".
- The attacker has keys of its own and knows every public key.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from cds_service.auth import Authenticator
from cds_service.auth.testkit import jwks_of, new_es384_key, new_rs384_key, write_trusted_clients
from cds_service.config import Settings
from cds_service.store.models import Base
from tests.helpers.auth import BASE_URL, ISS_A, ISS_B, ISS_C, JKU_C, SANDBOX_KID, TENANT_C, FakeClock, Keys


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys(
        a=new_es384_key("ehr-a-2025"),
        b=new_rs384_key("ehr-b-1"),
        c=new_es384_key("ehr-c-1"),
        c_rotated=new_es384_key("ehr-c-2"),
        attacker=new_es384_key("attacker-1"),
        sandbox_stand_in=new_es384_key(SANDBOX_KID),
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clients_file(tmp_path: Path, keys: Keys) -> Path:
    (tmp_path / "ehr-b-jwks.json").write_text(json.dumps(jwks_of([keys.b])), "utf-8")
    return write_trusted_clients(
        tmp_path / "trusted-clients.json",
        [
            {"iss": ISS_A, "jwks": jwks_of([keys.a])},
            {"iss": ISS_B, "jwks_file": "ehr-b-jwks.json"},
            {"iss": ISS_C, "jku": JKU_C, "tenants": [TENANT_C]},
        ],
    )


@pytest.fixture
def engine():
    """One in-memory database shared by every Authenticator of a test (fast: no fsync per insert)."""
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def file_engine(tmp_path: Path):
    """A database file, for tests where threads write at the same time."""
    engine = create_engine(f"sqlite:///{tmp_path / 'auth.db'}", connect_args={"timeout": 30})
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def make_authenticator(clients_file: Path, engine, clock: FakeClock):
    def make(sandbox_jwks=None, session=None, database=None, **setting_changes) -> Authenticator:
        settings = Settings(trusted_clients_file=str(clients_file), public_base_url=BASE_URL).with_(**setting_changes)
        return Authenticator(settings, database or engine, clock=clock, session=session, sandbox_jwks=sandbox_jwks)

    return make


@pytest.fixture
def authenticator(make_authenticator) -> Authenticator:
    return make_authenticator()
