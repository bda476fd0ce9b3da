"""One hook call, start to end, without Flask: parse → prefetch → extract facts → assess the axes →
evaluate the hook's rules → render cards → one card per action → govern (the site's modes and lockouts) →
respond → log the cards.

`app` and `cli evaluate` both run this, so the offline tool answers exactly as the service.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from cds_service.config import Settings
from cds_service.errors import DataUnavailable
from cds_service.fhir.extract import extract_facts
from cds_service.fhir.prefetch import PrefetchResolver, resource_type_of, why_unavailable
from cds_service.fhir.record import PatientRecord
from cds_service.fhir.valuesets import ValueSets
from cds_service.governance import Decision, Governance, returned
from cds_service.metrics import Metrics
from cds_service.pathway.assessment import Assessment, assess
from cds_service.pathway.facts import ClinicalFacts
from cds_service.pathway.settings import PathwaySettings
from cds_service.protocol.cards import Card, response_json
from cds_service.protocol.feedback import parse_feedback
from cds_service.protocol.request import HookRequest, parse_request
from cds_service.rules.cards import one_card_per_action
from cds_service.services.base import HookCall, ServiceDefinition
from cds_service.site_config import SiteConfig
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


def missing_required(service: ServiceDefinition, record: PatientRecord) -> list[str]:
    """The resource types the hook cannot answer without (412) that could not be read."""
    types = [resource_type_of(service.prefetch[key]) for key in service.required_keys]
    return [resource_type for resource_type in types if resource_type in record.unreadable]


class HookPipeline:
    def __init__(
        self,
        settings: Settings,
        resolver: PrefetchResolver,
        store: Store,
        value_sets: ValueSets,
        metrics: Metrics,
        card_writer: Callable[[list[dict]], None] | None = None,
        governance: Governance | None = None,
    ):
        self.settings = settings
        self.resolver = resolver
        self.store = store
        self.value_sets = value_sets
        self.metrics = metrics
        self.card_writer = card_writer or store.record_cards
        self.governance = governance or Governance()  # no site file: guideline values, every card returned
        self._fixed_now = (
            datetime.fromisoformat(settings.fixed_now.replace("Z", "+00:00")) if settings.fixed_now else None
        )

    @property
    def site(self) -> SiteConfig:
        """The site's configuration (CDS_SITE_CONFIG): the one source of the values, modes and lockouts in force."""
        return self.governance.site

    @property
    def pathway(self) -> PathwaySettings:
        """The pathway values in force: the site's, else the guideline's. Cards, discovery and rule pages read these."""
        return self.site.pathway

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
        patient_hash = hash_patient(request.patient_id, self.settings.patient_hash_salt)
        decisions = self.govern(service, patient_hash, cards, call.now)
        response = self.respond(returned(decisions))
        self.log_cards(service, request.hook_instance, patient_hash, decisions)
        return response

    # -- the steps ------------------------------------------------------------------------------------------
    def parse(self, service: ServiceDefinition, body: object) -> HookRequest:
        """Protocol: the wire format in, validated (BadRequest on bad input)."""
        return parse_request(body, service.hook)

    def prefetch(self, service: ServiceDefinition, request: HookRequest) -> PatientRecord:
        """FHIR: the prefetch as sent, the missing keys fetched; DataUnavailable (412) without what the hook needs."""
        record = self.read_record(service, request)
        missing = missing_required(service, record)
        if missing:
            raise DataUnavailable(
                f"The {missing[0]} data this hook needs could not be obtained from the prefetch or the FHIR server: "
                f"{why_unavailable(record.failures.get(missing[0], ''))}."
            )
        return record

    def read_record(self, service: ServiceDefinition, request: HookRequest) -> PatientRecord:
        """The prefetch as sent, the missing keys fetched; what could not be read is named in the record."""
        return self.resolver.resolve(request, service.prefetch)

    def hook_call(self, service: ServiceDefinition, request: HookRequest, record: PatientRecord, base_url: str) -> HookCall:
        return HookCall(
            service_id=service.id,
            hook=service.hook,
            hook_instance=request.hook_instance,
            context=request.context,
            record=record,
            now=self.now(),
            rule_url=lambda rule_id: f"{base_url}/rules/{rule_id}",
            public_base_url=base_url,
            value_sets=self.value_sets,
            pathway=self.pathway,
            draft_orders=request.draft_order_resources,
            selections=request.selections,
            rules_off=self.site.rules_off,
        )

    def govern(self, service: ServiceDefinition, patient_hash: str, cards: list[Card], now: datetime) -> list[Decision]:
        """Site governance (issue 13): each card returned, silent (its rule's mode) or suppressed (a lockout
        after a clinician's answer on the same evidence). Silent and suppressed cards are logged, never returned."""
        return self.governance.apply(service.hook, patient_hash, cards, now)

    def respond(self, cards: list[Card]) -> dict:
        """Protocol: invariants enforced, nulls and empties dropped."""
        return response_json(cards)

    def log_cards(self, service: ServiceDefinition, hook_instance: str, patient_hash: str,
                  decisions: list[Decision]) -> None:
        """Store: every card with its status, the references it used and their fingerprint; counted by status."""
        issued_at = datetime.now(UTC)
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
