"""Shared test helpers: settings with a throw-away database, and a minimal fake service."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from cds_service.config import Settings
from cds_service.pathway.findings import Finding, Indicator
from cds_service.services.base import PATIENT_PREFETCH, HookCall, ServiceDefinition
from cds_service.services.render import make_card

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
# Requests captured from the CDS Hooks sandbox (copied from ../shared/reference/cds-hooks-sandbox/)
SANDBOX_REQUESTS = REPO / "tests" / "data" / "cds-hooks-sandbox"
FHIR_BASE = "https://fhir.example.test/r4"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(
        auth="off",
        database_url=f"sqlite:///{tmp_path}/cds.db",
        fhir_allowlist=(FHIR_BASE,),
        public_base_url="https://cds.example.test",
        clock=lambda: NOW,
    )


def echo_handle(call: HookCall) -> list:
    """A fake service: one info card naming how many resources of each type it saw."""
    counts = ", ".join(f"{t}={len(r)}" for t, r in sorted(call.record.resources.items()))
    finding = Finding(rule_id="TEST-ECHO", indicator=Indicator.INFO, values={"counts": counts})
    return [make_card(finding, f"saw {counts or 'nothing'}"[:139], f"unreadable: {sorted(call.record.unreadable)}",
                      call.rule_url)]


ECHO = ServiceDefinition(
    id="echo",
    hook="patient-view",
    title="Echo",
    description="Test service",
    usage_requirements="none",
    prefetch=dict(PATIENT_PREFETCH),
    required_keys=("patient", "conditions", "observations"),
    handle=echo_handle,
)

ECHO_ORDERS = ServiceDefinition(
    id="echo-orders",
    hook="order-sign",
    title="Echo orders",
    description="Test service",
    usage_requirements="none",
    prefetch=dict(PATIENT_PREFETCH),
    required_keys=(),
    handle=echo_handle,
)


def patient_view_body(patient_id: str = "pat-1", **extra) -> dict:
    body = {
        "hook": "patient-view",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {"userId": "Practitioner/example", "patientId": patient_id},
    }
    body.update(extra)
    return body


def searchset(*resources: dict, next_url: str | None = None) -> dict:
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


def load_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


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
