"""One hook call, start to end, without Flask: parse → prefetch → extract facts → assess the axes →
evaluate the hook's rules → render cards → one card per action → respond → log the cards.

`app` and `cli evaluate` both run this, so the offline tool answers exactly as the service.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from cds_service.config import Settings
from cds_service.errors import DataUnavailable
from cds_service.fhir.extract import extract_facts
from cds_service.fhir.prefetch import PrefetchResolver, resource_type_of
from cds_service.fhir.record import PatientRecord
from cds_service.fhir.valuesets import ValueSets
from cds_service.metrics import Metrics
from cds_service.pathway.assessment import Assessment, assess
from cds_service.pathway.facts import ClinicalFacts
from cds_service.pathway.settings import PathwaySettings
from cds_service.protocol.cards import Card, response_json
from cds_service.protocol.feedback import parse_feedback
from cds_service.protocol.request import HookRequest, parse_request
from cds_service.rules.cards import one_card_per_action
from cds_service.services.base import HookCall, ServiceDefinition
from cds_service.store.repository import Store, hash_patient

log = logging.getLogger(__name__)


def clinical_cards(service: ServiceDefinition, call: HookCall) -> list[Card]:
    """The clinical steps: what the call asks about, its facts, the three axes, the hook's rules, the cards,
    each order asked for by one card."""
    runner = service.runner
    selected = runner.select(call)
    if selected is None:  # nothing for this hook to look at (order hooks: no order it checks)
        return []
    facts = extract(selected)
    assessment = assess_axes(facts, selected.pathway)
    fired = runner.evaluate(selected, facts, assessment)
    return one_card_per_action(runner.render(selected, fired))


def extract(call: HookCall) -> ClinicalFacts:
    """FHIR: the record as typed facts, each with the references it came from."""
    return extract_facts(call.record, call.now, call.value_sets)


def assess_axes(facts: ClinicalFacts, settings: PathwaySettings) -> Assessment:
    """Pathway: the three axes (DVT, lesion, stent), windows and safety facts applied."""
    return assess(facts, settings)


class HookPipeline:
    def __init__(
        self,
        settings: Settings,
        resolver: PrefetchResolver,
        store: Store,
        value_sets: ValueSets,
        pathway: PathwaySettings,
        metrics: Metrics,
        card_writer: Callable[[list[dict]], None] | None = None,
    ):
        self.settings = settings
        self.resolver = resolver
        self.store = store
        self.value_sets = value_sets
        self.pathway = pathway
        self.metrics = metrics
        self.card_writer = card_writer or store.record_cards
        self._fixed_now = (
            datetime.fromisoformat(settings.fixed_now.replace("Z", "+00:00")) if settings.fixed_now else None
        )

    def now(self) -> datetime:
        if self.settings.clock is not None:
            return self.settings.clock()
        return self._fixed_now or datetime.now(UTC)

    def run(self, service: ServiceDefinition, body: object, base_url: str) -> dict:
        """One hook call, step by step."""
        request = self.parse(service, body)
        record = self.prefetch(service, request)
        call = self.hook_call(service, request, record, base_url)
        cards = clinical_cards(service, call)  # select → facts → axes → rules → cards → one card per action
        response = self.respond(cards)
        self.log_cards(service, request.hook_instance, request.patient_id, cards)
        return response

    # -- the steps ------------------------------------------------------------------------------------------
    def parse(self, service: ServiceDefinition, body: object) -> HookRequest:
        """Protocol: the wire format in, validated (BadRequest on bad input)."""
        return parse_request(body, service.hook)

    def prefetch(self, service: ServiceDefinition, request: HookRequest) -> PatientRecord:
        """FHIR: the prefetch as sent, the missing keys fetched; DataUnavailable (412) without what the hook needs."""
        record = self.resolver.resolve(request, service.prefetch)
        for key in service.required_keys:
            resource_type = resource_type_of(service.prefetch[key])
            if resource_type in record.unreadable:
                raise DataUnavailable(
                    f"The {resource_type} data this hook needs could not be obtained from the prefetch "
                    "or the FHIR server."
                )
        return record

    def hook_call(self, service: ServiceDefinition, request: HookRequest, record: PatientRecord, base_url: str) -> HookCall:
        return HookCall(
            service_id=service.id,
            hook=service.hook,
            hook_instance=request.hook_instance,
            context=request.context,
            record=record,
            now=self.now(),
            rule_url=lambda rule_id: f"{base_url}/rules/{rule_id}",
            value_sets=self.value_sets,
            pathway=self.pathway,
            draft_orders=request.draft_order_resources,
            selections=request.selections,
        )

    def respond(self, cards: list[Card]) -> dict:
        """Protocol: invariants enforced, nulls and empties dropped."""
        return response_json(cards)

    def log_cards(self, service: ServiceDefinition, hook_instance: str, patient_id: str, cards) -> None:
        issued_at = datetime.now(UTC)
        patient_hash = hash_patient(patient_id, self.settings.patient_hash_salt)
        rows = []
        for card in cards:
            self.metrics.cards.labels(card.rule_id or "none", card.indicator).inc()
            rows.append(
                {
                    "card_uuid": card.uuid,
                    "rule_id": card.rule_id,
                    "indicator": card.indicator,
                    "service_id": service.id,
                    "hook_instance": hook_instance,
                    "patient_hash": patient_hash,
                    "issued_at": issued_at,
                }
            )
        if rows:
            self.card_writer(rows)
        log.info(
            "cards issued",
            extra={"service": service.id, "cards": len(cards), "rules": sorted({c.rule_id for c in cards}),
                   "patient_hash": patient_hash[:16]},
        )

    def feedback(self, service: ServiceDefinition, body: object) -> int:
        entries = parse_feedback(body)
        stored = self.store.store_feedback(service.id, entries)
        for entry in entries:
            self.metrics.feedback.labels(entry.outcome).inc()
        return stored
