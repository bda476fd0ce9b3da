"""The fixture-sweeping API tests share one app per module: a throw-away database, auth off, and a
clock each test sets to its fixture's clinical "now". A module that needs other settings defines its own."""
from __future__ import annotations

import pytest

from cds_service.app import create_app
from cds_service.config import Settings

# The mock FHIR servers these modules answer from (each module names its own, to tell their requests apart).
FIXTURE_FHIR_SERVERS = ("https://fhir.fixtures.test/", "https://fhir.golden.test/", "https://fhir.cardtext.test/")


@pytest.fixture(scope="module")
def clock() -> dict:
    return {"now": None}


@pytest.fixture(scope="module")
def client(tmp_path_factory, clock):
    database = tmp_path_factory.mktemp("api-db") / "cds.db"
    app = create_app(Settings(
        auth="off",
        database_url=f"sqlite:///{database}",
        fhir_allowlist=FIXTURE_FHIR_SERVERS,
        clock=lambda: clock["now"],
        log_level="WARNING",
    ))
    return app.test_client()


@pytest.fixture(scope="module")
def services(client) -> dict[str, dict]:
    response = client.get("/cds-services")
    assert response.status_code == 200
    return {entry["hook"]: entry for entry in response.get_json()["services"]}
