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


# Services some tests need, and how to get them, named in the summary when their tests were skipped.
SKIPPED_SERVICES = (
    ("PostgreSQL", "CDS_TEST_POSTGRES_URL", "set CDS_TEST_POSTGRES_URL to a PostgreSQL database (CONTRIBUTING.md)"),
    ("Chromium", "Chromium is not installed", "apt-get install chromium (CONTRIBUTING.md)"),
)


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    return longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


def pytest_terminal_summary(terminalreporter):
    """A local run without PostgreSQL or Chromium passes: say so, rather than let it look complete."""
    reasons = [_skip_reason(report) for report in terminalreporter.stats.get("skipped", [])]
    for service, marker, remedy in SKIPPED_SERVICES:
        count = sum(marker in reason for reason in reasons)
        if count:
            terminalreporter.write_line(f"{count} {service} tests SKIPPED: {remedy}", yellow=True, bold=True)
