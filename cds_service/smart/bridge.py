"""The app's doors into the hook pipeline (`cds_service.pipeline`): the app reads and judges a patient
with the pipeline's own steps, so the page can never disagree with the cards.

- `read_record`: the pipeline's prefetch step without a prefetch: the patient's record from the EHR's
  FHIR server with the app's access token (the service's FHIR client: allowlist, time budget, size and
  page caps, concurrent queries). A record read in part is returned as it is; the page names the gaps.
- `view_call`: the patient-view hook call the page is built from (`smart.view_model.pathway_view`).
- `open_cards`: the cards the patient-view hook would answer now (the pipeline's select → extract →
  assess → evaluate → render → respond). Shown in the app, not issued to the EHR: not in the card log.
- `read_draft_stent_order`: the draft order an order card was about, read as the order hooks read one.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import replace

from cds_service.fhir.client import FhirError
from cds_service.fhir.orders import read_draft_orders
from cds_service.fhir.prefetch import belongs_to, call_budget
from cds_service.fhir.record import PatientRecord
from cds_service.pathway.facts import DraftOrder, OrderKind
from cds_service.pipeline import HookPipeline, clinical_cards, missing_required
from cds_service.protocol.request import FhirAuthorization, HookRequest
from cds_service.services.base import HookCall, ServiceDefinition
from cds_service.services.orders import record_resources

PATIENT_VIEW = "patient-view"
APP_USER = "Practitioner/smart-app-user"  # the app reads no user; the hook context requires one


def patient_view_service(services: dict[str, ServiceDefinition]) -> ServiceDefinition | None:
    return next((s for s in services.values() if s.hook == PATIENT_VIEW), None)


def hook_request(iss: str, access_token: str, patient_id: str, scope: str = "") -> HookRequest:
    """A patient-view request as an EHR would send it without prefetch, carrying the app's token."""
    return HookRequest(
        hook=PATIENT_VIEW,
        hook_instance=str(uuid.uuid4()),
        context={"userId": APP_USER, "patientId": patient_id},
        fhir_server=iss.rstrip("/"),
        fhir_authorization=FhirAuthorization(access_token=access_token, scope=scope, patient=patient_id),
    )


def read_record(pipeline: HookPipeline, service: ServiceDefinition, request: HookRequest) -> PatientRecord:
    return pipeline.read_record(service, request)


def view_call(pipeline: HookPipeline, service: ServiceDefinition, request: HookRequest, record: PatientRecord,
              base_url: str) -> HookCall:
    """The patient-view hook call for this record, as the pipeline builds it (rule pages at `base_url`)."""
    return pipeline.hook_call(service, request, record, base_url)


def open_cards(pipeline: HookPipeline, service: ServiceDefinition, call: HookCall) -> list[dict] | None:
    """The cards (CDS Hooks JSON) of the patient-view hook now; None when the hook would answer 412."""
    if missing_required(service, call.record):
        return None
    cards: list[dict] = pipeline.respond(clinical_cards(service, call))["cards"]
    return cards


ORDER_TYPES = ("DeviceRequest", "ServiceRequest")
DRAFT_ID = re.compile(r"(?:(DeviceRequest|ServiceRequest)/)?([A-Za-z0-9\-.]{1,64})")


def read_draft_stent_order(pipeline: HookPipeline, call: HookCall, request: HookRequest,
                           draft_id: str) -> tuple[DraftOrder | None, str]:
    """The stent order the card was about (appContext `<rule>;<draft order id>`), read from the FHIR
    server; (None, why) when it cannot be read or is not an iliac stent order."""
    match = DRAFT_ID.fullmatch(draft_id)
    if not match:
        return None, "The draft order named by the launch is not a FHIR id."
    types = (match.group(1),) if match.group(1) else ORDER_TYPES
    client, _ = pipeline.resolver.client_for(request, call_budget(pipeline.settings))
    if client is None:
        return None, "The draft order could not be read from the FHIR server."
    for resource_type in types:
        try:
            resource = client.query(f"{resource_type}/{match.group(2)}")
        except FhirError:
            continue
        if resource.get("resourceType") != resource_type or not belongs_to(resource, call.patient_id):
            continue
        order_call = replace(call, draft_orders=[resource])
        orders = read_draft_orders(order_call.draft_orders, order_call.value_sets, record_resources(order_call))
        stents = [o for o in orders if o.kind is OrderKind.STENT]
        if stents:
            return stents[0], ""
        return None, "The draft order named by the launch is not a stent order."
    return None, "The draft order could not be read from the FHIR server (it may not be saved yet)."
