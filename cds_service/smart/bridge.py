"""The app's two doors into the hook machinery, kept here so they can be re-pointed in one place.

- `read_record`: the patient's record from the EHR's FHIR server with the app's access token, read
  exactly as the patient-view hook reads a missing prefetch (the service's FHIR client: allowlist,
  time budget, size and page caps, concurrent queries).
- `open_cards`: the cards the patient-view hook would answer now, from that record. They are shown
  in the app, not issued to the EHR, so they are not written to the card log.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from cds_service.fhir.client import Deadline, FhirError
from cds_service.fhir.orders import read_draft_orders
from cds_service.fhir.prefetch import _belongs_to, resource_type_of
from cds_service.pathway.facts import DraftOrder, OrderKind
from cds_service.pipeline import HookPipeline
from cds_service.protocol.cards import response_json
from cds_service.protocol.request import FhirAuthorization, HookRequest
from cds_service.services.base import HookCall, PatientRecord, ServiceDefinition

PATIENT_VIEW = "patient-view"
APP_USER = "Practitioner/smart-app-user"  # the app reads no user; the hook context requires one


def patient_view_service(services: dict[str, ServiceDefinition]) -> ServiceDefinition | None:
    return next((s for s in services.values() if s.hook == PATIENT_VIEW), None)


def _request(iss: str, access_token: str, patient_id: str, scope: str) -> HookRequest:
    return HookRequest(
        hook=PATIENT_VIEW,
        hook_instance=str(uuid.uuid4()),
        context={"userId": APP_USER, "patientId": patient_id},
        fhir_server=iss.rstrip("/"),
        fhir_authorization=FhirAuthorization(access_token=access_token, scope=scope, patient=patient_id),
    )


def read_record(pipeline: HookPipeline, service: ServiceDefinition, iss: str, access_token: str,
                patient_id: str, scope: str = "") -> PatientRecord:
    return pipeline.resolver.resolve(_request(iss, access_token, patient_id, scope), service.prefetch)


def missing_required(service: ServiceDefinition, record: PatientRecord) -> list[str]:
    """Resource types without which the hook answers 412: then no card list can be trusted."""
    types = [resource_type_of(service.prefetch[key]) for key in service.required_keys]
    return [t for t in types if t in record.unreadable]


def open_cards(pipeline: HookPipeline, service: ServiceDefinition, record: PatientRecord, patient_id: str,
               rule_url: Callable[[str], str]) -> list[dict] | None:
    """The cards (CDS Hooks JSON) of the patient-view hook now; None when the hook could not answer."""
    if missing_required(service, record):
        return None
    call = HookCall(
        service_id=service.id,
        hook=service.hook,
        hook_instance=str(uuid.uuid4()),
        context={"userId": APP_USER, "patientId": patient_id},
        record=record,
        now=pipeline.now(),
        rule_url=rule_url,
        value_sets=pipeline.value_sets,
        pathway=pipeline.pathway,
    )
    return response_json(service.handle(call))["cards"]


ORDER_TYPES = ("DeviceRequest", "ServiceRequest")
DRAFT_ID = re.compile(r"(?:(DeviceRequest|ServiceRequest)/)?([A-Za-z0-9\-.]{1,64})")


def read_draft_stent_order(pipeline: HookPipeline, iss: str, access_token: str, patient_id: str, draft_id: str,
                           record: PatientRecord) -> tuple[DraftOrder | None, str]:
    """The stent order the card was about (appContext `<rule>;<draft order id>`), read from the FHIR
    server; (None, why) when it cannot be read or is not an iliac stent order."""
    match = DRAFT_ID.fullmatch(draft_id)
    if not match:
        return None, "The draft order named by the launch is not a FHIR id."
    types = (match.group(1),) if match.group(1) else ORDER_TYPES
    request = _request(iss, access_token, patient_id, "")
    client, _ = pipeline.resolver.client_for(request, Deadline.after(pipeline.settings.fhir_total_budget))
    if client is None:
        return None, "The draft order could not be read from the FHIR server."
    for resource_type in types:
        try:
            resource = client.query(f"{resource_type}/{match.group(2)}")
        except FhirError:
            continue
        if resource.get("resourceType") != resource_type or not _belongs_to(resource, patient_id):
            continue
        stents = [o for o in read_draft_orders([resource], pipeline.value_sets, _all(record)) if o.kind is OrderKind.STENT]
        if stents:
            return stents[0], ""
        return None, "The draft order named by the launch is not a stent order."
    return None, "The draft order could not be read from the FHIR server (it may not be saved yet)."


def _all(record: PatientRecord) -> list[dict]:
    return [resource for resources in record.resources.values() for resource in resources]
