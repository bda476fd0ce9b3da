"""Fixtures shared by every test directory; plain helpers are in tests/helpers/."""
from __future__ import annotations

import pytest

from cds_service.config import Settings
from tests.helpers.hooks import FHIR_BASE, NOW


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(
        auth="off",
        database_url=f"sqlite:///{tmp_path}/cds.db",
        fhir_allowlist=(FHIR_BASE,),
        public_base_url="https://cds.example.test",
        clock=lambda: NOW,
    )
