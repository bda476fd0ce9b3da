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

Each hook call reads on a thread pool of its own (at most CDS_FHIR_MAX_WORKERS threads), so a
slow server holds only the threads of the calls that named it. The call waits for its reads
until its budget ends, then goes on without the ones still running: those end at their next
socket timeout, which the budget also bounds (docs/operations.md, "FHIR budget").
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_futures
from dataclasses import dataclass
from urllib.parse import quote

import requests

from cds_service.config import Settings
from cds_service.fhir.client import CallBudget, FhirClient, FhirError, is_allowed, next_link
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
GRACE = 0.2  # seconds past the budget a call waits for reads that are finishing


# Why a prefetch key could not be had, in words for the 412 OperationOutcome (no PHI: no URL, id or token).
_WHY_UNAVAILABLE = {
    "no-fhir-server": "it was not prefetched and the request names no fhirServer",
    "fhir-server-not-allowed": "it was not prefetched and the fhirServer is not on this service's allowlist "
    "(CDS_FHIR_ALLOWLIST), so it was not contacted",
    "no-access-token": "it was not prefetched, the request carries no fhirAuthorization access token, and the "
    "fhirServer is not an open server (CDS_FHIR_OPEN_SERVERS)",
    "unfillable-template": "it was not prefetched and the context lacks what its query needs",
    "time-budget-exhausted": "it was not prefetched and the fhirServer did not answer within this call's time "
    "budget (CDS_FHIR_TOTAL_BUDGET)",
    "timeout": "it was not prefetched and the fhirServer did not answer in time (CDS_FHIR_CONNECT_TIMEOUT, "
    "CDS_FHIR_READ_TIMEOUT)",
    "call-byte-cap-exceeded": "it was not prefetched and the fhirServer's answers for this call went over its byte "
    "budget (CDS_FHIR_MAX_CALL_BYTES)",
}


def why_unavailable(failure: str) -> str:
    """The reason of a failed prefetch key (`KeyResult.failure`), in plain words."""
    if failure in _WHY_UNAVAILABLE:
        return _WHY_UNAVAILABLE[failure]
    if failure.startswith("prefetch-"):
        return f"the prefetch the EHR sent for it is not usable ({failure})"
    return f"fetching it from the fhirServer failed ({failure or 'unknown'})"


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


def belongs_to(resource: dict, patient_id: str) -> bool:
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


def call_budget(settings: Settings) -> CallBudget:
    """A fresh budget for one hook call (or one SMART app request): CDS_FHIR_TOTAL_BUDGET seconds and
    CDS_FHIR_MAX_CALL_BYTES bytes, shared by every read made with it."""
    return CallBudget.after(settings.fhir_total_budget, settings.fhir_max_call_bytes)


class PrefetchResolver:
    """Resolves a service's prefetch for one request. One instance per app (pooled HTTP session)."""

    def __init__(
        self,
        settings: Settings,
        session: requests.Session,
        on_fetch: Callable[[str, str], None] | None = None,
    ):
        self.settings = settings
        self.session = session
        self.on_fetch = on_fetch or (lambda resource_type, outcome: None)

    def client_for(self, request: HookRequest, deadline: CallBudget) -> tuple[FhirClient | None, str]:
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
        deadline = call_budget(self.settings)
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
            answers = self._read_all(client, [query for _, _, query in to_fetch], deadline)
            for (key, resource_type, _), (document, failure) in zip(to_fetch, answers, strict=True):
                results.append(KeyResult(key, resource_type, document=document, failure=failure))
                self.on_fetch(resource_type, failure or "ok")
        record = self._assemble(request, results)
        self._resolve_medications(record, client, deadline)
        return record

    def _read_all(self, client: FhirClient, queries: list[str], deadline: CallBudget) -> list[tuple[dict | None, str]]:
        """Run `queries` on this call's own threads; each is (document, "") or (None, failure)."""
        pool = ThreadPoolExecutor(max_workers=max(1, min(len(queries), self.settings.fhir_max_workers)),
                                  thread_name_prefix="fhir-call")
        try:
            futures = [pool.submit(client.query, query) for query in queries]
            wait_for_futures(futures, timeout=max(0.0, deadline.remaining()) + GRACE)
            return [_outcome(future) for future in futures]
        finally:
            pool.shutdown(wait=False, cancel_futures=True)  # reads still running end at their socket timeout

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
                record.failures.setdefault(result.resource_type, result.failure)
                record.notes.append(f"{result.resource_type} could not be read ({result.failure})")
                log.info("prefetch key unavailable", extra={"key": result.key, "reason": result.failure})
                continue
            for resource in _entries(result.document):
                if resource.get("resourceType") == "OperationOutcome":
                    continue
                if not belongs_to(resource, patient_id):
                    foreign += 1
                    continue
                if resource.get("resourceType") == "Patient":
                    record.patient = resource
                record.resources.setdefault(resource.get("resourceType", ""), []).append(resource)
        if foreign:
            log.warning("resources of another patient ignored", extra={"count": foreign})
        return record

    def _resolve_medications(self, record: PatientRecord, client: FhirClient | None, deadline: CallBudget) -> None:
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
        answers = self._read_all(client, [f"Medication/{m}" for m in sorted(wanted)[:50]], deadline)
        for medication, _failure in answers:  # a failed one: the request's medicationReference.display is still read
            if medication is not None and medication.get("resourceType") == "Medication":
                record.resources.setdefault("Medication", []).append(medication)


def _outcome(future: Future) -> tuple[dict | None, str]:
    if not future.done():
        future.cancel()
        return None, "time-budget-exhausted"
    try:
        return future.result(), ""
    except FhirError as error:
        return None, error.reason
    except Exception as error:  # a bug in a read must cost that key, not the hook call
        log.error("fhir read failed unexpectedly", extra={"error_type": type(error).__name__})
        return None, "read-failed"
