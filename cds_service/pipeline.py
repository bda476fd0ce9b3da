"""One hook call, start to end, without Flask: parse → prefetch → service → response → card log.

`app` and `cli evaluate` both run this, so the offline tool answers exactly as the service.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Callable

from cds_service.config import Settings
from cds_service.errors import DataUnavailable
from cds_service.fhir.prefetch import PrefetchResolver, resource_type_of
from cds_service.fhir.valuesets import ValueSets
from cds_service.governance import Decision, Governance, returned
from cds_service.metrics import Metrics
from cds_service.pathway.settings import PathwaySettings
from cds_service.protocol.cards import response_json
from cds_service.protocol.feedback import parse_feedback
from cds_service.protocol.request import parse_request
from cds_service.services.base import HookCall, ServiceDefinition
from cds_service.store.repository import Store, hash_patient

log = logging.getLogger(__name__)


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
        governance: Governance | None = None,
    ):
        self.settings = settings
        self.resolver = resolver
        self.store = store
        self.value_sets = value_sets
        self.pathway = pathway
        self.metrics = metrics
        self.card_writer = card_writer or store.record_cards
        self.governance = governance or Governance()  # no site file: every card returned, as before
        self._fixed_now = (
            datetime.fromisoformat(settings.fixed_now.replace("Z", "+00:00")) if settings.fixed_now else None
        )

    def now(self) -> datetime:
        if self.settings.clock is not None:
            return self.settings.clock()
        return self._fixed_now or datetime.now(timezone.utc)

    def run(self, service: ServiceDefinition, body: object, base_url: str) -> dict:
        request = parse_request(body, service.hook)
        record = self.resolver.resolve(request, service.prefetch)
        for key in service.required_keys:
            resource_type = resource_type_of(service.prefetch[key])
            if resource_type in record.unreadable:
                raise DataUnavailable(
                    f"The {resource_type} data this hook needs could not be obtained from the prefetch "
                    "or the FHIR server."
                )
        call = HookCall(
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
            rules_off=self.governance.rules_off,
        )
        cards = service.handle(call)
        # Site governance (issue 13): silent and suppressed cards are logged, never returned.
        patient_hash = hash_patient(request.patient_id, self.settings.patient_hash_salt)
        decisions = self.governance.apply(service.hook, patient_hash, cards, call.now)
        response = response_json(returned(decisions))
        self._log_cards(service, request.hook_instance, patient_hash, decisions)
        return response

    def _log_cards(self, service: ServiceDefinition, hook_instance: str, patient_hash: str,
                   decisions: list[Decision]) -> None:
        issued_at = datetime.now(timezone.utc)
        rows = []
        for decision in decisions:
            card = decision.card
            self.metrics.count_card(card.rule_id or "none", card.indicator, decision.status)
            rows.append(
                {
                    "card_uuid": card.uuid,
                    "rule_id": card.rule_id,
                    "indicator": card.indicator,
                    "service_id": service.id,
                    "hook_instance": hook_instance,
                    "patient_hash": patient_hash,
                    "issued_at": issued_at,
                    **decision.log_fields(),
                }
            )
        if rows:
            self.card_writer(rows)
        log.info(
            "cards issued",
            extra={"service": service.id, "cards": len(rows), "rules": sorted({d.card.rule_id for d in decisions}),
                   "patient_hash": patient_hash[:16]},
        )

    def feedback(self, service: ServiceDefinition, body: object) -> int:
        entries = parse_feedback(body)
        stored = self.store.store_feedback(service.id, entries)
        for entry in entries:
            self.metrics.feedback.labels(entry.outcome).inc()
        self.governance.record_feedback(service.id, service.hook, entries, self.now())  # lockouts (issue 13)
        return stored
