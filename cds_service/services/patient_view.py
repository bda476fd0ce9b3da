"""The patient-view service: its discovery entry, and the rules that declare the hook patient-view.

Cards come critical, warning, info; within that in pathway order (the registry's order).
A patient out of scope (RULES.md "Scope") gets no card.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from cds_service.pathway.assessment import Assessment
from cds_service.pathway.facts import ClinicalFacts
from cds_service.pathway.settings import PathwaySettings
from cds_service.protocol.cards import Card
from cds_service.rules.cards import by_urgency
from cds_service.rules.framework import Fired, SuggestContext
from cds_service.rules.registry import rules_for
from cds_service.services.base import PATIENT_PREFETCH, HookCall, ServiceDefinition

HOOK = "patient-view"


def evaluate(
    facts: ClinicalFacts, assessment: Assessment, settings: PathwaySettings, off: Collection[str] = ()
) -> list[Fired]:
    """Every rule of the hook that fires, in pathway order; nothing for a patient out of scope.
    `off`: rule IDs the site switched off, not evaluated at all."""
    if not assessment.in_scope:
        return []
    fired = []
    for rule in rules_for(HOOK, off):
        finding = rule.run(facts, assessment, settings)
        if finding is not None:
            fired.append(Fired(rule, finding))
    return fired


def render(fired: Sequence[Fired], patient_id: str, rule_url: Callable[[str], str], settings: PathwaySettings,
           public_base_url: str = "") -> list[Card]:
    """Each finding's card (suggestions for this patient), critical first, then in pathway order."""
    ctx = SuggestContext(patient_id)
    position = {rule: index for index, rule in enumerate(rules_for(HOOK))}
    cards = [(f.rule.card(f.finding, settings, rule_url, ctx, public_base_url=public_base_url), position[f.rule])
             for f in fired]
    return by_urgency(cards)


class PatientViewRunner:
    def select(self, call: HookCall) -> HookCall | None:
        return call

    def evaluate(self, call: HookCall, facts: ClinicalFacts, assessment: Assessment) -> list[Fired]:
        return evaluate(facts, assessment, call.pathway, call.rules_off)

    def render(self, call: HookCall, fired: Sequence[Fired]) -> list[Card]:
        return render(fired, call.patient_id, call.rule_url, call.pathway, call.public_base_url)


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
