"""Fake services, request bodies and FHIR bundles shared by the API, FHIR and protocol tests."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from cds_service.pathway.findings import Finding, Indicator
from cds_service.rules.cards import make_card
from cds_service.services.base import PATIENT_PREFETCH, CallRunner, HookCall, ServiceDefinition

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
# Requests captured from the CDS Hooks sandbox (copied from ../shared/reference/cds-hooks-sandbox/)
SANDBOX_REQUESTS = REPO / "tests" / "data" / "cds-hooks-sandbox"
FHIR_BASE = "https://fhir.example.test/r4"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


def echo_handle(call: HookCall) -> list:
    """A fake service: one info card naming how many resources of each type it saw."""
    counts = ", ".join(f"{t}={len(r)}" for t, r in sorted(call.record.resources.items()))
    finding = Finding(rule_id="TEST-ECHO", indicator=Indicator.INFO)
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
    runner=CallRunner(echo_handle),
)

ECHO_ORDERS = ServiceDefinition(
    id="echo-orders",
    hook="order-sign",
    title="Echo orders",
    description="Test service",
    usage_requirements="none",
    prefetch=dict(PATIENT_PREFETCH),
    required_keys=(),
    runner=CallRunner(echo_handle),
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
