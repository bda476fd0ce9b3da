"""Dev mode only: the bundled fixture patients as a read-only FHIR R4 endpoint at /fixtures-fhir.

With it, the CDS Hooks sandbox (or curl) can be pointed at
`?fhirServiceUrl=http://127.0.0.1:8080/fixtures-fhir&patientId=<fixture>` and show the real cards.
"""
from __future__ import annotations

import logging
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState

from cds_service.fixtures import FixtureStore, all_fixtures
from cds_service.smart.dev_server import security_extension

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
            "security": security_extension(base),
            "resource": [
                {"type": t, "interaction": [{"code": "read"}, {"code": "search-type"}],
                 "searchParam": [{"name": "patient", "type": "reference"}, {"name": "_id", "type": "token"}]}
                for t in SEARCHABLE
            ],
        }],
    }


FIXTURES_PREFIX = "/fixtures-fhir"
fixtures_fhir = Blueprint("fixtures_fhir", __name__, url_prefix=FIXTURES_PREFIX)


@fixtures_fhir.record_once
def _load_fixtures(setup: BlueprintSetupState) -> None:
    store = FixtureStore(all_fixtures())
    if not store.resources("Patient"):
        log.warning("dev mode: NO FIXTURE PATIENTS FOUND: /fixtures-fhir answers 404", extra={"reason": "no-fixtures"})
    setup.app.extensions["fixtures_fhir"] = store


def _store() -> FixtureStore:
    store: FixtureStore = current_app.extensions["fixtures_fhir"]
    return store


def fixtures_base() -> str:
    return request.host_url.rstrip("/") + FIXTURES_PREFIX


def _answer(status: int, body: dict) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.content_type = FHIR_JSON
    return response


@fixtures_fhir.get("/metadata")
def metadata() -> Response:
    return _answer(200, capability_statement(fixtures_base()))


@fixtures_fhir.get("/<resource_type>/<resource_id>")
def read(resource_type: str, resource_id: str) -> Response:
    return _answer(*_store().read(resource_type, resource_id))


@fixtures_fhir.get("/<resource_type>")
def search(resource_type: str) -> Response:
    query = urlencode(list(request.args.items(multi=True)))
    return _answer(*_store().respond(f"{resource_type}?{query}", fixtures_base()))


@fixtures_fhir.post("/<resource_type>/_search")
def post_search(resource_type: str) -> Response:
    params = list(request.form.items(multi=True)) + list(request.args.items(multi=True))
    return _answer(*_store().respond(f"{resource_type}?{urlencode(params)}", fixtures_base()))
