"""What every CDS service module provides, and what it is handed per call."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from cds_service.fhir.valuesets import ValueSets
from cds_service.pathway.settings import PathwaySettings
from cds_service.protocol.cards import Card

# Prefetch templates shared by the three services: CDS Hooks 2.0 tokens only, within the
# spec's recommended query subset (no _include). Keys are the resource types they fetch.
PATIENT_PREFETCH: dict[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
    "imagingStudies": "ImagingStudy?patient={{context.patientId}}",
    "diagnosticReports": "DiagnosticReport?patient={{context.patientId}}",
    "procedures": "Procedure?patient={{context.patientId}}",
    "medicationRequests": "MedicationRequest?patient={{context.patientId}}",
    "medicationStatements": "MedicationStatement?patient={{context.patientId}}",
}


@dataclass
class PatientRecord:
    """The patient's FHIR data for one call, however it was obtained (prefetch or FHIR server).

    `resources` holds raw FHIR JSON by resourceType; `unreadable` names the
    resource types that could not be read (a failed key: unknown, not absent);
    `notes` are plain-language, PHI-free descriptions of what could not be read.
    """

    patient: dict | None = None
    resources: dict[str, list[dict]] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)

    def of_type(self, resource_type: str) -> list[dict]:
        return self.resources.get(resource_type, [])


@dataclass
class HookCall:
    """One validated hook call, with its data, handed to a service's `handle`."""

    service_id: str
    hook: str
    hook_instance: str
    context: dict
    record: PatientRecord
    now: datetime
    rule_url: Callable[[str], str]  # rule ID -> absolute URL of the rule's page
    value_sets: ValueSets
    pathway: PathwaySettings = field(default_factory=PathwaySettings)
    draft_orders: list[dict] = field(default_factory=list)  # resources of context.draftOrders
    selections: list[str] = field(default_factory=list)  # order-select: "Type/id"
    rules_off: frozenset[str] = frozenset()  # rule IDs the site switched off: never evaluated (issue 13)


@dataclass(frozen=True)
class ServiceDefinition:
    id: str
    hook: str
    title: str
    description: str
    usage_requirements: str
    prefetch: dict[str, str]
    # Resource types (prefetch keys) without which this hook cannot answer at all: 412.
    required_keys: tuple[str, ...]
    handle: Callable[[HookCall], list[Card]]

    def discovery_json(self) -> dict:
        return {
            "id": self.id,
            "hook": self.hook,
            "title": self.title,
            "description": self.description,
            "usageRequirements": self.usage_requirements,
            "prefetch": dict(self.prefetch),
        }
