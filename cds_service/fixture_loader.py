"""`cds-service load-fixtures`: post the fixture patients into a FHIR server as transaction Bundles."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

import requests

from cds_service.fixtures import DEFAULT_DIRECTORY

DRAFT_ORDER_TYPES = ("MedicationRequest", "ServiceRequest", "DeviceRequest")


def is_draft_order(resource: dict) -> bool:
    return resource.get("resourceType") in DRAFT_ORDER_TYPES and resource.get("status") == "draft"


def transaction_for(fixture: dict) -> dict:
    """The fixture's record (not its draft orders) as a transaction of PUTs, so reloading is idempotent."""
    entries = []
    for entry in fixture.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not resource.get("id") or is_draft_order(resource):
            continue
        reference = f"{resource['resourceType']}/{resource['id']}"
        entries.append({"fullUrl": reference, "resource": resource, "request": {"method": "PUT", "url": reference}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def fixture_files(directory: str | Path | None = None) -> list[Path]:
    return sorted(Path(directory or DEFAULT_DIRECTORY).glob("*.json"))


def load_fixtures_into(
    fhir_server: str, token: str | None, directory: str | Path | None, progress: TextIO, session=None
) -> int:
    """Post every fixture; returns a process exit code (0 when all were accepted)."""
    session = session or requests.Session()
    headers = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    files = fixture_files(directory)
    if not files:
        print("no fixture files found", file=progress)
        return 1
    failures = 0
    for number, path in enumerate(files, start=1):
        bundle = transaction_for(json.loads(path.read_text(encoding="utf-8")))
        try:
            response = session.post(fhir_server.rstrip("/"), json=bundle, headers=headers, timeout=(5, 60))
            ok = response.status_code in (200, 201)
            status = str(response.status_code)
        except requests.RequestException as error:
            ok, status = False, type(error).__name__
        failures += 0 if ok else 1
        print(f"[{number}/{len(files)}] {path.stem}: {len(bundle['entry'])} resources, {'ok' if ok else 'FAILED ' + status}",
              file=progress)
    print(f"loaded {len(files) - failures} of {len(files)} fixtures", file=progress)
    return 0 if failures == 0 else 1
