"""Prefetch resolution: the patient's data for one hook call, from the prefetch or the FHIR server.

Per prefetch key (CDS Hooks 2.0 §Prefetch, `../shared/reference/cds-hooks-spec.md` item 15):

| key state                      | action                                                   |
| ------------------------------ | -------------------------------------------------------- |
| a resource or a Bundle         | used                                                     |
| `null`                         | no data; never re-queried                                |
| an OperationOutcome            | that key failed: its resource type is unreadable         |
| missing                        | fetched from `fhirServer` (allowlisted only), concurrently |

A key whose data cannot be had makes its resource type *unreadable* (unknown,
not absent). The caller decides whether that is fatal (patient-view: 412).
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from urllib.parse import quote

import requests

from cds_service.config import Settings
from cds_service.fhir.client import Deadline, FhirClient, FhirError, is_allowed, next_link
from cds_service.fhir.record import PatientRecord
from cds_service.protocol.request import HookRequest

log = logging.getLogger(__name__)

TOKEN = re.compile(r"\{\{\s*([A-Za-z.]+)\s*\}\}")
USER_TOKENS = {
    "userPractitionerId": "Practitioner",
    "userPractitionerRoleId": "PractitionerRole",
    "userPatientId": "Patient",
    "userRelatedPersonId": "RelatedPerson",
}
PATIENT_REFERENCING = ("subject", "patient")


def resource_type_of(template: str) -> str:
    return re.split(r"[/?]", template, maxsplit=1)[0]


def fill_template(template: str, context: dict) -> str | None:
    """Replace the 2.0 prefetch tokens; None when a token has no value in this call."""
    missing = False

    def replace(match: re.Match) -> str:
        nonlocal missing
        name = match.group(1)
        value = None
        if name.startswith("context."):
            value = context.get(name[len("context."):])
        elif name in USER_TOKENS:
            user = context.get("userId")
            prefix = USER_TOKENS[name] + "/"
            if isinstance(user, str) and user.startswith(prefix):
                value = user[len(prefix):]
        if not isinstance(value, str) or not value:
            missing = True
            return ""
        return quote(value, safe="/")

    filled = TOKEN.sub(replace, template)
    return None if missing else filled


def _is_resource(value: object) -> bool:
    return isinstance(value, dict) and isinstance(value.get("resourceType"), str)


def _entries(document: dict) -> list[dict]:
    """The resources of a Bundle (or the resource itself); anything that is not a resource is dropped."""
    if document.get("resourceType") == "Bundle":
        entries = document.get("entry")
        if not isinstance(entries, list):
            return []
        return [e["resource"] for e in entries if isinstance(e, dict) and _is_resource(e.get("resource"))]
    return [document]


def _belongs_to(resource: dict, patient_id: str) -> bool:
    """A resource that names another patient is never used (wrong-patient data)."""
    if resource.get("resourceType") == "Patient":
        return resource.get("id") == patient_id
    for key in PATIENT_REFERENCING:
        ref = resource.get(key)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            reference = ref["reference"]
            return reference == f"Patient/{patient_id}" or reference.endswith(f"/Patient/{patient_id}")
    return True  # no patient reference (e.g. a Medication): nothing contradicts it


@dataclass
class KeyResult:
    key: str
    resource_type: str
    document: dict | None = None
    failure: str = ""  # PHI-free reason slug


class PrefetchResolver:
    """Resolves a service's prefetch for one request. One instance per app (pooled HTTP session)."""

    def __init__(
        self,
        settings: Settings,
        session: requests.Session,
        executor: Executor,
        on_fetch: Callable[[str, str], None] | None = None,
    ):
        self.settings = settings
        self.session = session
        self.executor = executor
        self.on_fetch = on_fetch or (lambda resource_type, outcome: None)

    def client_for(self, request: HookRequest, deadline: Deadline) -> tuple[FhirClient | None, str]:
        """A client for the request's FHIR server, or (None, why not)."""
        server = request.fhir_server
        if not server:
            return None, "no-fhir-server"
        if not is_allowed(server, self.settings.fhir_allowlist):
            log.warning("fhir server not on the allowlist: not contacted", extra={"reason": "fhir-server-not-allowed"})
            return None, "fhir-server-not-allowed"
        token = request.fhir_authorization.access_token if request.fhir_authorization else None
        if not token and not is_allowed(server, self.settings.fhir_open_servers):
            return None, "no-access-token"
        return (
            FhirClient(
                self.session,
                server,
                token,
                self.settings.fhir_connect_timeout,
                self.settings.fhir_read_timeout,
                self.settings.fhir_max_response_bytes,
                self.settings.fhir_max_pages,
                deadline,
            ),
            "",
        )

    def resolve(self, request: HookRequest, templates: dict[str, str]) -> PatientRecord:
        deadline = Deadline.after(self.settings.fhir_total_budget)
        client, no_client_reason = self.client_for(request, deadline)
        results: list[KeyResult] = []
        to_fetch: list[tuple[str, str, str]] = []
        for key, template in templates.items():
            resource_type = resource_type_of(template)
            if key in request.prefetch:
                results.append(self._from_prefetch(key, resource_type, request.prefetch[key], client))
                continue
            query = fill_template(template, request.context)
            if query is None:
                results.append(KeyResult(key, resource_type, failure="unfillable-template"))
            elif client is None:
                results.append(KeyResult(key, resource_type, failure=no_client_reason))
            else:
                to_fetch.append((key, resource_type, query))
        if to_fetch and client is not None:
            futures = [(k, t, self.executor.submit(client.query, q)) for k, t, q in to_fetch]
            for key, resource_type, future in futures:
                try:
                    results.append(KeyResult(key, resource_type, document=future.result()))
                    self.on_fetch(resource_type, "ok")
                except FhirError as error:
                    results.append(KeyResult(key, resource_type, failure=error.reason))
                    self.on_fetch(resource_type, error.reason)
        record = self._assemble(request, results)
        self._resolve_medications(record, client)
        return record

    def _from_prefetch(self, key: str, resource_type: str, value, client: FhirClient | None) -> KeyResult:
        if value is None:
            return KeyResult(key, resource_type, document={"resourceType": "Bundle", "entry": []})
        if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
            return KeyResult(key, resource_type, failure="prefetch-not-a-resource")
        if value["resourceType"] == "OperationOutcome":
            return KeyResult(key, resource_type, failure="prefetch-operation-outcome")
        if value["resourceType"] == "Bundle" and next_link(value):
            if client is None:
                return KeyResult(key, resource_type, failure="prefetch-incomplete-page")
            try:
                value = client.follow_pages(value)
            except FhirError as error:
                return KeyResult(key, resource_type, failure=error.reason)
        return KeyResult(key, resource_type, document=value)

    def _assemble(self, request: HookRequest, results: list[KeyResult]) -> PatientRecord:
        record = PatientRecord()
        patient_id = request.patient_id
        foreign = 0
        for result in results:
            if result.failure or result.document is None:
                record.unreadable.add(result.resource_type)
                record.notes.append(f"{result.resource_type} could not be read ({result.failure})")
                log.info("prefetch key unavailable", extra={"key": result.key, "reason": result.failure})
                continue
            for resource in _entries(result.document):
                if resource.get("resourceType") == "OperationOutcome":
                    continue
                if not _belongs_to(resource, patient_id):
                    foreign += 1
                    continue
                if resource.get("resourceType") == "Patient":
                    record.patient = resource
                record.resources.setdefault(resource.get("resourceType", ""), []).append(resource)
        if foreign:
            log.warning("resources of another patient ignored", extra={"count": foreign})
        return record

    def _resolve_medications(self, record: PatientRecord, client: FhirClient | None) -> None:
        """Fetch Medications that requests reference by id, when a FHIR server is available."""
        known = {m.get("id") for m in record.of_type("Medication")}
        wanted: set[str] = set()
        for resource_type in ("MedicationRequest", "MedicationStatement"):
            for resource in record.of_type(resource_type):
                medication = resource.get("medicationReference")
                reference = medication.get("reference") if isinstance(medication, dict) else None
                if isinstance(reference, str) and reference.startswith("Medication/"):
                    medication_id = reference.split("/", 1)[1]
                    if medication_id and medication_id not in known and re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", medication_id):
                        wanted.add(medication_id)
        if not wanted or client is None:
            return
        futures = [self.executor.submit(client.query, f"Medication/{m}") for m in sorted(wanted)[:50]]
        for future in futures:
            try:
                medication = future.result()
            except FhirError:
                continue  # the request's medicationReference.display is still read
            if medication.get("resourceType") == "Medication":
                record.resources.setdefault("Medication", []).append(medication)
