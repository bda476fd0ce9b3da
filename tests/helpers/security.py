"""Helpers for the security tests: an app with authentication on, and requests an EHR would send."""
from __future__ import annotations

import uuid
from pathlib import Path

from cds_service.auth.testkit import SigningKey, cds_claims, jwks_of, write_trusted_clients
from cds_service.config import Settings
from cds_service.services.base import PATIENT_PREFETCH

PUBLIC_BASE = "http://cds.test"
SERVICE_ID = "iliac-vein-patient-view"
DISCOVERY_PATH = "/cds-services"
SERVICE_PATH = f"/cds-services/{SERVICE_ID}"
FEEDBACK_PATH = f"{SERVICE_PATH}/feedback"
EHR_ISS = "https://ehr.example.org/cds-hooks"
FHIR_BASE = "https://fhir.example.test/r4"


def auth_settings(tmp_path: Path, key: SigningKey, **changes) -> Settings:
    clients = write_trusted_clients(tmp_path / "trusted-clients.json", [{"iss": EHR_ISS, "jwks": jwks_of([key])}])
    return Settings(
        auth="required",
        trusted_clients_file=str(clients),
        public_base_url=PUBLIC_BASE,
        database_url=f"sqlite:///{tmp_path / 'cds.db'}",
        fhir_allowlist=(FHIR_BASE,),
        log_level="DEBUG",
    ).with_(**changes)


def token_for(key: SigningKey, path: str, **extra) -> str:
    return key.sign(cds_claims(EHR_ISS, PUBLIC_BASE + path, **extra))


def auth_header(key: SigningKey, path: str, **extra) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(key, path, **extra)}"}


def empty_searchset() -> dict:
    return {"resourceType": "Bundle", "type": "searchset", "total": 0, "entry": []}


def patient_view_request(patient_id: str, with_prefetch: bool = True, **extra) -> dict:
    """A patient-view call; with prefetch, the patient and empty searches (nothing for the pathway)."""
    body = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/example", "patientId": patient_id},
    }
    if with_prefetch:
        body["prefetch"] = {
            key: ({"resourceType": "Patient", "id": patient_id} if template.startswith("Patient/") else empty_searchset())
            for key, template in PATIENT_PREFETCH.items()
        }
    body.update(extra)
    return body


def feedback_body(card_uuid: str | None = None) -> dict:
    return {
        "feedback": [
            {
                "card": card_uuid or str(uuid.uuid4()),
                "outcome": "overridden",
                "overrideReason": {"userComment": "not applicable"},
                "outcomeTimestamp": "2026-01-01T10:00:00Z",
            }
        ]
    }
