"""The patient-view service: its discovery entry, and the rules that declare the hook patient-view.

Cards come critical, warning, info; within that in pathway order (the registry's order).
A patient out of scope (RULES.md "Scope") gets no card.
"""
from __future__ import annotations

from typing import Sequence

from cds_service.pathway.assessment import Assessment
from cds_service.pathway.facts import ClinicalFacts
from cds_service.protocol.cards import Card
from cds_service.rules.cards import by_urgency
from cds_service.rules.framework import Fired, SuggestContext
from cds_service.rules.registry import rules_for
from cds_service.services.base import PATIENT_PREFETCH, HookCall, ServiceDefinition

HOOK = "patient-view"


class PatientViewRunner:
    def select(self, call: HookCall) -> HookCall | None:
        return call

    def evaluate(self, call: HookCall, facts: ClinicalFacts, assessment: Assessment) -> list[Fired]:
        if not assessment.in_scope:
            return []
        fired = []
        for rule in rules_for(call.hook):
            finding = rule.run(facts, assessment, call.pathway)
            if finding is not None:
                fired.append(Fired(rule, finding))
        return fired

    def render(self, call: HookCall, fired: Sequence[Fired]) -> list[Card]:
        ctx = SuggestContext(call.patient_id)
        position = {rule: index for index, rule in enumerate(rules_for(call.hook))}
        cards = [(f.rule.card(f.finding, call.pathway, call.rule_url, ctx), position[f.rule]) for f in fired]
        return by_urgency(cards)


SERVICE = ServiceDefinition(
    id="iliac-vein-patient-view",
    hook=HOOK,
    title="Iliac vein compression pathway",
    description=(
        "Guides the work-up of leg swelling with an iliac mass or iliac vein compression: rule out DVT (and "
        "image the pelvis when the leg ultrasound cannot), anticoagulate a confirmed DVT, characterize the mass, "
        "confirm NIVL / May-Thurner with IVUS, and follow up iliac venous stents."
    ),
    usage_requirements=(
        "Needs the patient's Conditions and Observations (prefetch or FHIR server access); imaging studies, "
        "diagnostic reports, procedures and medications make the advice complete. Silent for patients out of "
        "scope (no leg swelling, iliac vein compression, iliac stent or DVT)."
    ),
    prefetch=dict(PATIENT_PREFETCH),
    required_keys=("patient", "conditions", "observations"),
    runner=PatientViewRunner(),
)
