"""Dev mode only: the bundled fixture patients as a read-only FHIR R4 endpoint at /fixtures-fhir.

With it, the CDS Hooks sandbox (or curl) can be pointed at
`?fhirServiceUrl=http://127.0.0.1:8080/fixtures-fhir&patientId=<fixture>` and show the real cards.
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState

from cds_service.fixtures import FixtureStore, all_fixtures

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


fixtures_fhir = Blueprint("fixtures_fhir", __name__, url_prefix="/fixtures-fhir")


@fixtures_fhir.record_once
def _load_fixtures(setup: BlueprintSetupState) -> None:
    setup.app.extensions["fixtures_fhir"] = FixtureStore(all_fixtures())


def _store() -> FixtureStore:
    store: FixtureStore = current_app.extensions["fixtures_fhir"]
    return store


def _base() -> str:
    return request.host_url.rstrip("/") + "/fixtures-fhir"


def _answer(status: int, body: dict) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.content_type = FHIR_JSON
    return response


@fixtures_fhir.get("/metadata")
def metadata() -> Response:
    return _answer(200, capability_statement(_base()))


@fixtures_fhir.get("/<resource_type>/<resource_id>")
def read(resource_type: str, resource_id: str) -> Response:
    return _answer(*_store().read(resource_type, resource_id))


@fixtures_fhir.get("/<resource_type>")
def search(resource_type: str) -> Response:
    query = urlencode(list(request.args.items(multi=True)))
    return _answer(*_store().respond(f"{resource_type}?{query}", _base()))


@fixtures_fhir.post("/<resource_type>/_search")
def post_search(resource_type: str) -> Response:
    params = list(request.form.items(multi=True)) + list(request.args.items(multi=True))
    return _answer(*_store().respond(f"{resource_type}?{urlencode(params)}", _base()))
