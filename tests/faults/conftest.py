"""Fixtures of the fault-injection suite (marked `faults`; CI runs it with the rest: `python -m pytest`)."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from cds_service.fixtures import DEFAULT_DIRECTORY, build_request, load_fixture
from cds_service.services import all_services
from tests.helpers.faults import PostgresCluster

STORY = "malignant-iliac-mass-with-acute-dvt"  # patient-view with several cards
SERVICE = "iliac-vein-patient-view"


@pytest.fixture(scope="module")
def cluster():
    """A PostgreSQL server of this module's own, which the tests stop and freeze."""
    why_not = PostgresCluster.available()
    if why_not:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the database fault tests: {why_not}")
        pytest.skip(why_not)
    # Not under pytest's tmp_path: that lies in a root-only directory the postgres user cannot enter.
    directory = Path(tempfile.mkdtemp(prefix="cds-faults-pg."))
    server = PostgresCluster(directory).init()
    server.start()
    try:
        yield server
    finally:
        server.thaw(server.pids())
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def story():
    return load_fixture(DEFAULT_DIRECTORY / f"{STORY}.json")


@pytest.fixture(scope="module")
def hook_body(story):
    """A full-prefetch patient-view request: it needs no FHIR server and no database."""
    entry = next(s.discovery_json() for s in all_services() if s.id == SERVICE)
    return build_request(story, entry, prefetch=True)
