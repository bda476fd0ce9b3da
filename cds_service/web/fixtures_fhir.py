"""Dev mode only: the bundled fixture patients as a read-only FHIR R4 endpoint at /fixtures-fhir.

With it, the CDS Hooks sandbox (or curl) can be pointed at
`?fhirServiceUrl=http://127.0.0.1:8080/fixtures-fhir&patientId=<fixture>` and show the real cards.
"""
from __future__ import annotations

import logging
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, request

from cds_service.fixtures import FixtureStore, all_fixtures

log = logging.getLogger(__name__)
FHIR_JSON = "application/fhir+json"
SEARCHABLE = (
    "Patient", "Condition", "Observation", "ImagingStudy", "DiagnosticReport", "Procedure",
    "MedicationRequest", "MedicationStatement", "Medication", "ServiceRequest", "DeviceRequest",
)


def capability_statement(base: str) -> dict:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-26",
        "kind": "instance",
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "implementation": {"description": "Iliac vein CDS fixture patients (read-only, dev mode)", "url": base},
        "rest": [{
            "mode": "server",
            "resource": [
                {"type": t, "interaction": [{"code": "read"}, {"code": "search-type"}],
                 "searchParam": [{"name": "patient", "type": "reference"}, {"name": "_id", "type": "token"}]}
                for t in SEARCHABLE
            ],
        }],
    }


def register_fixtures_fhir(app: Flask) -> None:
    store = FixtureStore(all_fixtures())
    if not store.resources("Patient"):
        log.warning("dev mode: NO FIXTURE PATIENTS FOUND: /fixtures-fhir answers 404", extra={"reason": "no-fixtures"})

    def base() -> str:
        return request.host_url.rstrip("/") + "/fixtures-fhir"

    def answer(status: int, body: dict) -> Response:
        response = jsonify(body)
        response.status_code = status
        response.content_type = FHIR_JSON
        return response

    @app.get("/fixtures-fhir/metadata")
    def fixtures_metadata():
        return answer(200, capability_statement(base()))

    @app.get("/fixtures-fhir/<resource_type>/<resource_id>")
    def fixtures_read(resource_type: str, resource_id: str):
        return answer(*store.read(resource_type, resource_id))

    @app.get("/fixtures-fhir/<resource_type>")
    def fixtures_search(resource_type: str):
        query = urlencode(list(request.args.items(multi=True)))
        return answer(*store.respond(f"{resource_type}?{query}", base()))

    @app.post("/fixtures-fhir/<resource_type>/_search")
    def fixtures_post_search(resource_type: str):
        params = list(request.form.items(multi=True)) + list(request.args.items(multi=True))
        return answer(*store.respond(f"{resource_type}?{urlencode(params)}", base()))
