"""Fixes to draft orders, as CDS Hooks suggestions: `update` the order that carries the error, or
`delete` an order that is not indicated. An order rule whose finding proposes a fix (`UpdateOrder`,
`DeleteOrder`) declares `suggest=order_suggestions`.

An update carries a deep copy of the draft resource with only the named thing changed: the
stent length or diameter (a `DeviceRequest.parameter` valueQuantity, or the number in the
order's own words), or the enoxaparin dose and frequency. A procedure ServiceRequest whose size
was read from a DeviceRequest based on it gets the update on that DeviceRequest. When several
cards correct one order (STENT-LENGTH and STENT-DIAMETER), each update carries every correction
(`UpdateOrder.together`), applied in one order (SIZES), so that both cards offer the same resource.
Labels name the change, never a resource id (the id is in the action).
"""
from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, replace

from cds_service.fhir import orders as order_reading
from cds_service.fhir.fhir_json import as_dict, reference_of
from cds_service.fhir.valuesets import RXNORM, UCUM, ValueSets
from cds_service.pathway.dosing import PREFILLED_SYRINGES
from cds_service.pathway.findings import CreateEnoxaparin, DeleteOrder, Finding, Proposal, UpdateOrder
from cds_service.protocol.cards import Action, Suggestion
from cds_service.rules.framework import SuggestContext
from cds_service.rules.order_context import OrderFinding
from cds_service.rules.suggested_orders import enoxaparin_text, medication_request

GTS_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
TIMING_CODES = {2: ("Q12H", "every 12 hours"), 1: ("Q24H", "every 24 hours")}
SIZES = ("length", "diameter")  # the order in which size corrections are applied, whichever card carries them


@dataclass(frozen=True)
class DraftSet:
    """The draftOrders resources, by "Type/id", with the value sets that read them."""

    resources: tuple[dict, ...]
    value_sets: ValueSets

    def find(self, ref: str) -> dict | None:
        return next((r for r in self.resources if isinstance(r, dict) and reference_of(r) == ref), None)

    def with_updated(self, updated: Iterable[dict]) -> DraftSet:
        """The draft set as it would be once `updated` resources replace theirs."""
        by_ref = {reference_of(r): r for r in updated}
        return replace(self, resources=tuple(by_ref.get(reference_of(r), r) if isinstance(r, dict) else r
                                             for r in self.resources))


def order_suggestions(finding: Finding, ctx: SuggestContext) -> list[Suggestion]:
    """A suggestion per proposal of the finding that can be made into a valid action on the drafts."""
    display = finding.order_display if isinstance(finding, OrderFinding) else ""
    found = [_suggestion(proposal, ctx.drafts, display) for proposal in finding.proposals]
    return [s for s in found if s is not None]


def _suggestion(proposal: Proposal, drafts: DraftSet, display: str) -> Suggestion | None:
    if isinstance(proposal, DeleteOrder):
        return delete_suggestion(proposal.order_ref, display)
    if isinstance(proposal, UpdateOrder):
        return update_suggestion(proposal, drafts)
    return None


# -- delete ---------------------------------------------------------------------------------------------
def delete_suggestion(order_ref: str, display: str = "") -> Suggestion | None:
    """`delete` with `resourceId` "Type/id" (CDS Hooks 2.0); an order without an id cannot be named.
    The label names the order as it was written, the id stays in the action."""
    if "/" not in order_ref:
        return None
    label = f"Remove the draft order: {display}" if display else "Remove the draft order"
    return Suggestion(label=label, actions=[Action(type="delete", description=label, resource_id=order_ref)])


# -- update ---------------------------------------------------------------------------------------------
def update_suggestion(proposal: UpdateOrder, drafts: DraftSet) -> Suggestion | None:
    order = drafts.find(proposal.order_ref)
    if order is None:
        return None
    if _sizes(proposal):
        return _size_update(proposal, drafts)
    if proposal.dose_mg is not None and proposal.per_day is not None:
        updated = with_enoxaparin_regimen(order, proposal.dose_mg, proposal.per_day)
        label = "Change to " + enoxaparin_text(CreateEnoxaparin(int(proposal.dose_mg), proposal.per_day)).lower()
        return _update(label, updated)
    return None


def _sizes(update: UpdateOrder) -> dict[str, float]:
    return {which: mm for which, mm in (("length", update.length_mm), ("diameter", update.diameter_mm)) if mm is not None}


def _size_update(proposal: UpdateOrder, drafts: DraftSet) -> Suggestion | None:
    """The stent with this card's size correction and every other card's for the same order. None when
    this card's own correction cannot be written (another card's that cannot be is left out)."""
    own = _sizes(proposal)
    wanted = dict(own)
    for other in proposal.together:
        for which, mm in _sizes(other).items():
            wanted.setdefault(which, mm)
    changed: dict[str, dict] = {}
    made = []
    for which in (w for w in SIZES if w in wanted):
        order = drafts.find(proposal.order_ref)
        resources = _resized(order, which, wanted[which], drafts) if order is not None else None
        if resources:
            made.append(which)
            changed.update((reference_of(r), r) for r in resources)
            drafts = drafts.with_updated(resources)
    if not set(own) <= set(made):
        return None
    label = "Change the stent " + " and ".join(f"{which} to {wanted[which]:g} mm" for which in made)
    return Suggestion(label=label, actions=[Action(type="update", description=label, resource=r) for r in changed.values()])


def _resized(order: dict, which: str, new_mm: float, drafts: DraftSet) -> list[dict] | None:
    """The draft resources of this stent with its `which` set to `new_mm`: the one that states the size,
    and the procedure / device that states the same size in its words. None: it cannot be written."""
    carrier = size_carrier(order, which, drafts)
    if carrier is None:
        return None
    updated = with_stent_size(carrier, which, new_mm, drafts.value_sets)
    if updated is None:
        return None
    # The procedure and its device are one stent: where the other one states the same size in its
    # words, it changes too, so that the order signed never says two sizes.
    stated = order_reading.stent_dimension(carrier, which, drafts.value_sets)
    carrier_ref = reference_of(carrier)
    others = [r for r in _one_stent(order, drafts) if reference_of(r) != carrier_ref]
    old_mm = stated.mm if stated is not None else None
    return [updated] + [r for r in (with_size_in_text(o, which, old_mm, new_mm) for o in others) if r]


def _update(label: str, resource: dict) -> Suggestion:
    return Suggestion(label=label, actions=[Action(type="update", description=label, resource=resource)])


def _one_stent(order: dict, drafts: DraftSet) -> list[dict]:
    """The stent procedure and the device orders based on it (or just the order)."""
    if order.get("resourceType") != "ServiceRequest":
        return [order]
    return [order] + order_reading.devices_based_on(reference_of(order), drafts.resources)


def with_size_in_text(resource: dict, which: str, old_mm: float | None, new_mm: float) -> dict | None:
    """A copy of `resource` whose words stating the size `old_mm` say `new_mm`; None when none does."""
    updated = copy.deepcopy(resource)
    return updated if _rewrite_texts(updated, which, old_mm, new_mm) else None


def size_carrier(order: dict, which: str, drafts: DraftSet) -> dict | None:
    """The draft resource the stent's size was read from: the order, or its basedOn DeviceRequest."""
    devices = order_reading.devices_based_on(reference_of(order), drafts.resources)
    if order.get("resourceType") != "ServiceRequest":
        devices = []
    dimension = order_reading.stent_dimension(order, which, drafts.value_sets, devices)
    return drafts.find(dimension.source_ref) if dimension is not None else None


def with_stent_size(resource: dict, which: str, new_mm: float, value_sets: ValueSets) -> dict | None:
    """A deep copy of the stent order with its length / diameter set to `new_mm`, nothing else changed."""
    updated = copy.deepcopy(resource)
    dimension = order_reading.stent_dimension(resource, which, value_sets)
    if dimension is not None and dimension.where == "parameter":
        _set_quantity(updated["parameter"][dimension.parameter_index], new_mm)  # read from this very list
        # The same size in the order's words changes too: a parameter at 60 mm under a text that
        # still says "14 x 50 mm" would leave the team two sizes to choose from.
        _rewrite_texts(updated, which, dimension.mm, new_mm)
        return updated
    if dimension is not None and dimension.where == "text":
        return updated if _rewrite_texts(updated, which, dimension.mm, new_mm) else None
    return None


def _set_quantity(parameter: dict, new_mm: float) -> None:
    quantity = as_dict(parameter.get("valueQuantity"))
    quantity.update({"value": _number(new_mm), "unit": "mm", "system": UCUM, "code": "mm"})
    parameter["valueQuantity"] = quantity


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _text_slots(resource: dict) -> Iterable[tuple[dict, str]]:
    """(holder, key) of every string the order's size may be written in (as `order_texts` reads)."""
    code_key = "codeCodeableConcept" if resource.get("resourceType") == "DeviceRequest" else "code"
    concepts = [resource.get(code_key)] + _list(resource.get("orderDetail"))
    for concept in concepts:
        if isinstance(concept, dict):
            yield concept, "text"
            for coding in _list(concept.get("coding")):
                if isinstance(coding, dict):
                    yield coding, "display"
    for note in _list(resource.get("note")):
        if isinstance(note, dict):
            yield note, "text"


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _rewrite_texts(resource: dict, which: str, old_mm: float | None, new_mm: float) -> bool:
    """Rewrite the size in every text that states the size `old_mm` (a text and its display often
    repeat); a text stating another size, or none, is left as it is."""
    changed = False
    for holder, key in _text_slots(resource):
        text = holder.get(key)
        if not isinstance(text, str):
            continue
        found = order_reading.text_dimension(text, which)
        if found is None or found.mm is None or found.mm != old_mm:
            continue
        rewritten = order_reading.rewrite_text_dimension(text, which, new_mm, at_least=which == "length")
        if rewritten is not None and rewritten != text:
            holder[key] = rewritten
            changed = True
    return changed


# -- enoxaparin ------------------------------------------------------------------------------------------
def with_enoxaparin_regimen(resource: dict, dose_mg: float, per_day: int) -> dict:
    """A deep copy of the enoxaparin order at `dose_mg` every 24 / `per_day` h; the medication code is
    replaced only when it names a syringe strength that no longer matches."""
    updated = copy.deepcopy(resource)
    dosages = updated.get("dosageInstruction")
    if not isinstance(dosages, list) or not dosages or not isinstance(dosages[0], dict):
        updated["dosageInstruction"] = dosages = [{}]
    dosage = dosages[0]
    _set_dose(dosage, dose_mg)
    _set_timing(dosage, per_day)
    proposal = CreateEnoxaparin(int(dose_mg), per_day)
    for written in ("text", "patientInstruction"):  # words that would still state the old regimen
        if written in dosage:
            dosage[written] = enoxaparin_text(proposal)
    syringe = medication_request(proposal, "x")["medicationCodeableConcept"]
    if _names_another_syringe(updated.get("medicationCodeableConcept"), dose_mg):
        updated["medicationCodeableConcept"] = syringe
    medication = _contained_medication(updated)
    if medication is not None and _names_another_syringe(medication.get("code"), dose_mg):
        medication["code"] = syringe
    return updated


def _contained_medication(request: dict) -> dict | None:
    """The contained Medication that `medicationReference` ("#id") points to (EHRs send drafts so)."""
    reference = request.get("medicationReference")
    target = reference.get("reference") if isinstance(reference, dict) else None
    if not isinstance(target, str) or not target.startswith("#"):
        return None
    return next((c for c in _list(request.get("contained"))
                 if isinstance(c, dict) and c.get("resourceType") == "Medication" and c.get("id") == target[1:]), None)


def _set_dose(dosage: dict, dose_mg: float) -> None:
    rates = dosage.get("doseAndRate")
    if not isinstance(rates, list) or not rates or not isinstance(rates[0], dict):
        dosage["doseAndRate"] = rates = [{}]
    for stale in [key for key in rates[0] if isinstance(key, str) and key.startswith("dose")]:
        del rates[0][stale]  # dose[x] is one choice: a doseRange beside the new doseQuantity is invalid FHIR
    rates[0]["doseQuantity"] = {"value": _number(dose_mg), "unit": "mg", "system": UCUM, "code": "mg"}


def _set_timing(dosage: dict, per_day: int) -> None:
    timing = as_dict(dosage.get("timing"))
    repeat = as_dict(timing.get("repeat"))
    for stale in ("frequencyMax", "periodMax", "timeOfDay", "when", "offset"):
        repeat.pop(stale, None)
    repeat.update({"frequency": per_day, "period": 1, "periodUnit": "d"})
    timing["repeat"] = repeat
    if "code" in timing:
        code, display = TIMING_CODES[per_day]
        timing["code"] = {"coding": [{"system": GTS_SYSTEM, "code": code, "display": display}]}
    dosage["timing"] = timing


def _names_another_syringe(concept: object, dose_mg: float) -> bool:
    if not isinstance(concept, dict):
        return False
    syringes = set(PREFILLED_SYRINGES.values())
    wanted = PREFILLED_SYRINGES.get(int(dose_mg)) if float(dose_mg).is_integer() else None
    for coding in _list(concept.get("coding")):
        code = coding.get("code") if isinstance(coding, dict) else None
        if isinstance(code, str) and coding.get("system") == RXNORM and code in syringes and code != wanted:
            return True
    return False
