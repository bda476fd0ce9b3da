"""What every CDS service is: a discovery entry, and a runner for the rules that declare its hook.

The pipeline (`cds_service.pipeline`) calls a runner's three steps in order: `select` (what this
call asks about; None: nothing to look at, no facts are read), `evaluate` (facts and axes, already
built by the pipeline, through the hook's rules into findings), `render` (findings into cards).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from cds_service.fhir.record import PatientRecord
from cds_service.fhir.valuesets import ValueSets
from cds_service.pathway.assessment import Assessment
from cds_service.pathway.facts import ClinicalFacts
from cds_service.pathway.settings import PathwaySettings
from cds_service.protocol.cards import Card
from cds_service.rules.framework import Fired

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
class HookCall:
    """One validated hook call, with its data, handed to a service's runner."""

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
    public_base_url: str = ""  # this service's public URL: a card's smart link opens the app under it
    rules_off: frozenset[str] = frozenset()  # rule IDs the site switched off: never evaluated (issue 13)
    subjects: Any = None  # what `select` picked for the rules to look at (order hooks: the draft orders)

    @property
    def patient_id(self) -> str:
        if self.context.get("patientId"):
            return str(self.context["patientId"])
        patient = self.record.patient or {}
        return str(patient.get("id", ""))


class HookRunner(Protocol):
    def select(self, call: HookCall) -> HookCall | None: ...

    def evaluate(self, call: HookCall, facts: ClinicalFacts, assessment: Assessment) -> list[Fired]: ...

    def render(self, call: HookCall, fired: Sequence[Fired]) -> list[Card]: ...


@dataclass(frozen=True)
class CallRunner:
    """A runner from one function of the call, for services that look at the record, not at rules (tests)."""

    handle: Callable[[HookCall], list[Card]]

    def select(self, call: HookCall) -> HookCall | None:
        return call

    def evaluate(self, call: HookCall, facts: ClinicalFacts, assessment: Assessment) -> list[Fired]:
        return []

    def render(self, call: HookCall, fired: Sequence[Fired]) -> list[Card]:
        return self.handle(call)


Text = str | Callable[[PathwaySettings], str]


@dataclass(frozen=True)
class ServiceDefinition:
    id: str
    hook: str
    title: str
    description: Text  # may name thresholds: then built from the settings
    usage_requirements: str
    prefetch: dict[str, str]
    # Resource types (prefetch keys) without which this hook cannot answer at all: 412.
    required_keys: tuple[str, ...]
    runner: HookRunner

    def description_for(self, settings: PathwaySettings) -> str:
        return self.description(settings) if callable(self.description) else self.description

    def discovery_json(self, settings: PathwaySettings | None = None) -> dict:
        return {
            "id": self.id,
            "hook": self.hook,
            "title": self.title,
            "description": self.description_for(settings or PathwaySettings()),
            "usageRequirements": self.usage_requirements,
            "prefetch": dict(self.prefetch),
        }
