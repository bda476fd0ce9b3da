"""Recognize the draft orders of order-select / order-sign (DATA-CONTRACT "Orders in draftOrders").

`read_draft_orders` turns the resources of `context.draftOrders` into typed
`DraftOrder`s: iliac venous stents (with length and diameter in mm), venoplasty,
IVUS, IVC filters, thrombolysis (drug or catheter-directed) and anticoagulant /
antiplatelet drug orders. Anything else is ignored.

The input is untrusted JSON, read as far as it goes and never validated against
the FHIR models: an order that is not perfect FHIR is still an order the
clinician is about to sign, and skipping it would silence its safety checks.
A value that cannot be read stays `None` (unknown), never a guess: a stent whose
length is in an unknown unit has `length_mm = None`; a thrombolytic whose dose
or number of doses cannot be read has `thrombolytic_dose_mg` / `thrombolytic_doses`
None and is therefore never a catheter-clearance order (the order rules decide
that with `PathwaySettings`).
"""
from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from cds_service.fhir.fhir_json import (
    as_dict,
    body_site_codings,
    codings,
    has_whole_word,
    note_texts,
    objects,
    reference_of,
    reference_target,
    string,
    texts,
)
from cds_service.fhir.medications import medications_of
from cds_service.fhir.units import LENGTH_TO_MM, MASS_TO_MG, WRITTEN_LENGTH_UNITS, convert, quantity_to
from cds_service.fhir.valuesets import ValueSets
from cds_service.pathway.facts import DraftOrder, DrugClass, Medication, OrderKind

log = logging.getLogger(__name__)

# Orders that will never be carried out: nothing to check.
IGNORED_STATUSES = frozenset({"entered-in-error", "revoked", "cancelled"})

# Whole words (case-insensitive; a hyphen also matches a space) of RULES.md "Scope".
ILIAC_WORDS = ("iliac", "CIV", "EIV", "May-Thurner")
# Words that make an order venous by themselves; "iliac" alone could be an iliac artery.
VENOUS_WORDS = ("vein", "veins", "venous", "CIV", "EIV", "May-Thurner")
ARTERIAL_WORDS = ("artery", "arteries", "arterial")
# Veins outside the iliac territory. A stent or venoplasty order whose target (code text, body site,
# order detail, reason) names one of them, and nothing iliac, is not an iliac venous order, even for a
# patient in scope: a 40 mm SVC stent must not get the iliac 60 mm minimum (docs/decisions.md, "Clinical
# audit: orders"). Not listed: the femoral veins and the IVC (iliofemoral and iliocaval stents extend
# into them), and the jugular and arm veins (access routes for iliocaval stenting). Notes are not read
# for this: "prior SVC stent" in a note says nothing about the order's target.
OTHER_VEIN_WORDS = (
    "SVC", "superior vena cava", "subclavian", "brachiocephalic", "innominate", "axillary", "cephalic arch",
    "renal vein", "renal veins", "portal vein", "hepatic vein", "hepatic veins", "mesenteric vein", "splenic vein",
)
STENT_WORDS = ("stent", "stents", "stenting")
# A thrombolytic's reason written in words that is an indication outside this pathway (RULES
# THROMBOLYSIS-NOT-INDICATED: acute ischemic stroke, myocardial infarction, acute arterial limb ischemia).
# Words name the acute event only: "history of stroke" is no indication (it is a contraindication).
THROMBOLYSIS_REASON_WORDS = (
    "acute ischemic stroke", "acute ischaemic stroke", "acute stroke", "STEMI", "acute myocardial infarction",
    "acute limb ischemia", "acute limb ischaemia", "acute arterial occlusion", "arterial embolism",
)

# DATA-CONTRACT Orders, catheter clearance (R2): a thrombolytic "instilled into a catheter or device (route or
# method intracatheter / instillation, or a reason of catheter occlusion)". The contract names no codes: the
# words are read in the route's and method's text and displays, and in the reason's (docs/decisions.md,
# "Revision 2: orders").
CATHETER_ROUTE_WORDS = ("intracatheter", "intra-catheter", "instillation", "instill", "instilled")
CATHETER_OCCLUSION = re.compile(
    r"\bcatheters?\b.*\b(?:occlu\w*|obstruct\w*|blocked|blockage)|\b(?:occlu\w*|obstruct\w*|blocked)\b.*\bcatheters?\b",
    re.IGNORECASE,
)

DRUG_ORDER_KINDS = {
    DrugClass.LMWH: OrderKind.ANTICOAGULANT,
    DrugClass.ANTICOAGULANT: OrderKind.ANTICOAGULANT,
    DrugClass.ANTIPLATELET: OrderKind.ANTIPLATELET,
    DrugClass.THROMBOLYTIC: OrderKind.THROMBOLYSIS,
}

# --- stent dimensions in free text ---------------------------------------------------------------
# A number with a decimal comma ("5,9") is matched whole, so that its "9" is never read alone; it is
# then unreadable (see `_from_text`), never a guess.
_NUMBER = r"(?<![\d.])(?<!\d,)(\d+(?:[.,]\d+)?)"
_UNIT = r"(mm|cm|inches|inch|\[in_i\])"
_END = r"(?![A-Za-z])"
# "14 x 60 mm", "14x60mm", "14 mm x 6 cm": diameter x length; a trailing unit alone applies to both.
DIAMETER_BY_LENGTH = re.compile(rf"{_NUMBER}\s*(?:{_UNIT}{_END})?\s*[x×*]\s*{_NUMBER}\s*{_UNIT}{_END}", re.IGNORECASE)
SINGLE_DIMENSION = {
    "length": (
        re.compile(rf"\blength\s*(?:of\s*)?[:=]?\s*{_NUMBER}\s*{_UNIT}{_END}", re.IGNORECASE),
        re.compile(rf"{_NUMBER}\s*{_UNIT}\s*(?:long|length)\b", re.IGNORECASE),
    ),
    "diameter": (
        re.compile(rf"\b(?:diameter|diam|dia)\.?\s*(?:of\s*)?[:=]?\s*{_NUMBER}\s*{_UNIT}{_END}", re.IGNORECASE),
        re.compile(rf"{_NUMBER}\s*{_UNIT}\s*(?:in\s+)?(?:diameter|diam)\b", re.IGNORECASE),
    ),
}


# The JSON shape each element of the orders (and what they point to) must have to be read at all.
STRING_KEYS = frozenset({"resourceType", "id", "status", "intent", "system", "display", "text", "unit", "periodUnit",
                         "reference"})
LIST_KEYS = frozenset({"coding", "note", "dosageInstruction", "doseAndRate", "parameter", "contained", "reasonCode",
                       "reasonReference", "basedOn", "bodySite", "orderDetail", "ingredient"})
OBJECT_KEYS = frozenset({"medicationCodeableConcept", "medicationReference", "codeCodeableConcept", "codeReference",
                         "timing", "repeat", "doseQuantity", "valueQuantity", "route", "method", "itemCodeableConcept",
                         "severity"})
CODE_IS_STRING = frozenset({"coding", "valueQuantity", "doseQuantity", "rateQuantity"})


def sanitized(value: Any, key: str = "") -> Any:
    """A copy of untrusted FHIR JSON in which every element has the shape FHIR gives it: an element
    of the wrong type is dropped (a list item of the wrong type becomes {} so that indices stay
    valid). The readers, and the shared helpers they call, can then never meet a list where a
    string belongs."""
    if isinstance(value, dict):
        shaped = {name: _as_list(name, item) for name, item in value.items()}
        return {name: sanitized(item, name) for name, item in shaped.items() if _fits(name, item, key)}
    if isinstance(value, list):
        return [sanitized(item, key) if isinstance(item, dict) else {} for item in value]
    return value


def _as_list(name: Any, item: Any) -> Any:
    """A repeating element sent as one object (EHRs do) is a list of one."""
    return [item] if name in LIST_KEYS and isinstance(item, dict) else item


def _fits(name: Any, item: Any, parent: str) -> bool:
    if not isinstance(name, str):
        return False
    if name in STRING_KEYS:
        return isinstance(item, str)
    if name in LIST_KEYS:
        return isinstance(item, list)
    if name in OBJECT_KEYS:
        return isinstance(item, dict)
    if name == "code":  # a Coding's or Quantity's code is a string; a resource's code a CodeableConcept
        return isinstance(item, str) if parent in CODE_IS_STRING else isinstance(item, (str, dict))
    return True


def _words(concept: Any) -> list[str]:
    """The text and every coding display of a CodeableConcept, blanks left out."""
    return [text for text in texts(concept) if text.strip()]


def _names(reference: str, target_ref: str) -> bool:
    """A reference string ("ServiceRequest/x", or a full URL ending in it) names `target_ref`."""
    return reference == target_ref or reference.endswith("/" + target_ref)


# --- what an order says ---------------------------------------------------------------------------
def order_code(resource: dict) -> dict:
    """The order's CodeableConcept: ServiceRequest.code, DeviceRequest.codeCodeableConcept."""
    if resource.get("resourceType") == "DeviceRequest":
        return as_dict(resource.get("codeCodeableConcept"))
    return as_dict(resource.get("code"))


def order_texts(resource: dict) -> list[str]:
    """Where an order's words live (DATA-CONTRACT): code text and displays, notes, order details."""
    found = _words(order_code(resource))
    if resource.get("resourceType") == "DeviceRequest":
        found.append(string(as_dict(resource.get("codeReference")).get("display")))
    found += note_texts(resource)
    for detail in objects(resource.get("orderDetail")):
        found += _words(detail)
    return [text for text in found if text.strip()]


def _target_texts(resource: dict) -> list[str]:
    """The words that name what is ordered, where: the order's texts without its notes."""
    notes = set(note_texts(resource))
    return [text for text in order_texts(resource) if text not in notes]


def _reason_texts(resource: dict) -> list[str]:
    found = [t for concept in objects(resource.get("reasonCode")) for t in _words(concept)]
    found += [string(ref.get("display")) for ref in objects(resource.get("reasonReference"))]
    return [text for text in found if text.strip()]


def _site_texts(resource: dict) -> list[str]:
    return [t for site in objects(resource.get("bodySite")) for t in _words(site)]


def order_display(resource: dict) -> str:
    """What was ordered, as the clinician wrote it: the code's text, else its first display."""
    found = order_texts(resource)
    return found[0] if found else string(resource.get("resourceType")) or "order"


# --- the draft set and the record an order may point at -------------------------------------------
@dataclass
class _Lookup:
    value_sets: ValueSets
    draft_orders: list[dict] = field(default_factory=list)
    by_ref: dict[str, dict] = field(default_factory=dict)

    def find(self, target: str) -> dict | None:
        """A draft order or record resource by "Type/id" (Medication of a medicationReference, Condition of a reason)."""
        found = self.by_ref.get(target)
        return sanitized(found) if found is not None else None

    def in_set(self, value_set_id: str, concepts: Iterable[Any]) -> bool:
        return any(self.value_sets.match(value_set_id, codings(concept)) for concept in concepts)

    def in_optional_set(self, value_set_id: str, concepts: Iterable[Any]) -> bool:
        """A value set of the record's extraction (conditions.json): absent in a stripped-down deployment."""
        return value_set_id in self.value_sets and self.in_set(value_set_id, concepts)


def _build_lookup(resources: Any, value_sets: ValueSets, record_resources: Iterable[Any]) -> _Lookup:
    drafts = [sanitized(r) for r in resources if isinstance(r, dict)] if isinstance(resources, list) else []
    lookup = _Lookup(value_sets=value_sets, draft_orders=drafts)
    for resource in list(record_resources or ()):
        if isinstance(resource, dict) and string(resource.get("resourceType")) and string(resource.get("id")):
            lookup.by_ref[reference_of(resource)] = resource
    for resource in drafts:
        if string(resource.get("resourceType")) and string(resource.get("id")):
            lookup.by_ref[reference_of(resource)] = resource
    return lookup


# --- public entry point --------------------------------------------------------------------------
def read_draft_orders(
    resources: list[dict], value_sets: ValueSets, record_resources: Iterable[dict] = ()
) -> list[DraftOrder]:
    """Every recognized order of `resources` (the draftOrders), in their order.

    `record_resources` are the patient's resources: an order's `reasonReference` or
    `medicationReference` may point at them. One resource can give more than one DraftOrder
    (a ServiceRequest coded for both a stent and IVUS is both).
    """
    lookup = _build_lookup(resources, value_sets, record_resources)
    orders: list[DraftOrder] = []
    for resource in lookup.draft_orders:
        orders += _read_safely(resource, lookup)
    return _link_stent_devices(orders)


def _read_safely(resource: dict, lookup: _Lookup) -> list[DraftOrder]:
    # The readers tolerate any JSON shape; this guard only keeps a bug in one order from costing
    # the checks of the others. Only the resource type is logged (no PHI).
    try:
        return _read_order(resource, lookup)
    except Exception as error:
        # No traceback and no message: either could carry the order's content.
        log.warning("a draft %s could not be read (%s)", string(resource.get("resourceType")) or "resource",
                    type(error).__name__)
        return []


def _read_order(resource: dict, lookup: _Lookup) -> list[DraftOrder]:
    if string(resource.get("status")) in IGNORED_STATUSES:
        return []
    readers = {
        "DeviceRequest": _read_device_request,
        "ServiceRequest": _read_service_request,
        "MedicationRequest": _read_medication_request,
    }
    reader = readers.get(string(resource.get("resourceType")))
    return reader(resource, lookup) if reader else []


def _base_order(resource: dict, kind: OrderKind, lookup: _Lookup) -> DraftOrder:
    reasons = _reason_concepts(resource, lookup)
    reason_codes = tuple(dict.fromkeys(
        f"{c['system']}|{c['code']}" for r in reasons for c in codings(r) if string(c.get("system")) and string(c.get("code"))
    ))
    reason_words = [t for r in reasons for t in _words(r)] + _reason_reference_displays(resource)
    reason_text = "; ".join(dict.fromkeys(reason_words))
    return DraftOrder(
        ref=reference_of(resource),
        resource_type=string(resource.get("resourceType")),
        display=order_display(resource),
        kind=kind,
        iliac=is_iliac(resource, lookup.value_sets),
        reason_codes=reason_codes,
        reason_text=reason_text.lower(),
        status=string(resource.get("status")) or "draft",
        based_on=tuple(t for t in (reference_target(r) for r in objects(resource.get("basedOn"))) if t),
        reason_kinds=_reason_kinds(reasons, reason_words, lookup),
    )


def _reason_reference_displays(resource: dict) -> list[str]:
    return [string(ref.get("display")) for ref in objects(resource.get("reasonReference")) if string(ref.get("display"))]


def _reason_kinds(reasons: list[dict], words: list[str], lookup: _Lookup) -> tuple[str, ...]:
    """What the order is for, as far as the value sets (and, for thrombolysis, plain words) tell."""
    kinds = []
    if lookup.in_set("order-leg-dvt-reason", reasons):
        kinds.append("leg-dvt")
    if lookup.in_optional_set("other-thrombolysis-indication", reasons) or has_whole_word(words, THROMBOLYSIS_REASON_WORDS):
        kinds.append("thrombolysis-indication")
    if lookup.in_optional_set("acute-pe", reasons) and not lookup.in_optional_set("acute-pe-septic", reasons):
        kinds.append("pulmonary-embolism")
    return tuple(kinds)


# --- iliac and venous context (RULES.md Scope) ------------------------------------------------------
def is_iliac(resource: dict, value_sets: ValueSets) -> bool:
    """Clearly iliac venous: an iliac vein body site, the whole words iliac / CIV / EIV /
    May-Thurner in its text (order, reason or site), or the local `venous-stent` code."""
    if value_sets.match("order-iliac-vein-body-site", body_site_codings(resource.get("bodySite"))):
        return True
    if value_sets.match("order-venous-stent-device", codings(order_code(resource))):
        return True
    return has_whole_word(order_texts(resource) + _reason_texts(resource) + _site_texts(resource), ILIAC_WORDS)


def _venous_context(resource: dict) -> bool:
    """Venous by its words: vein / venous / CIV / EIV / May-Thurner, or "iliac" with no artery named."""
    words = order_texts(resource) + _reason_texts(resource) + _site_texts(resource)
    if has_whole_word(words, VENOUS_WORDS):
        return True
    return has_whole_word(words, ("iliac",)) and not has_whole_word(words, ARTERIAL_WORDS)


def names_another_vein(resource: dict, value_sets: ValueSets) -> bool:
    """The order's target is a vein outside the iliac territory (SVC, subclavian...), and nothing is iliac."""
    words = _target_texts(resource) + _reason_texts(resource) + _site_texts(resource)
    return has_whole_word(words, OTHER_VEIN_WORDS) and not is_iliac(resource, value_sets)


def _is_text_stent(resource: dict) -> bool:
    """A venous stent named only in words ("Venous stent 14 x 60 mm", "Left CIV stent 14x50mm")."""
    return has_whole_word(order_texts(resource), STENT_WORDS) and _venous_context(resource)


# --- DeviceRequest ---------------------------------------------------------------------------------
def _read_device_request(resource: dict, lookup: _Lookup) -> list[DraftOrder]:
    code = order_code(resource)
    if lookup.in_set("order-ivc-filter-device", [code]):
        return [_base_order(resource, OrderKind.IVC_FILTER, lookup)]
    if _is_device_stent(resource, lookup) and not _for_another_vein(resource, lookup):
        return [_with_size(_base_order(resource, OrderKind.STENT, lookup), resource, lookup.value_sets)]
    return []


def _for_another_vein(device: dict, lookup: _Lookup) -> bool:
    """A stent device that names another vein, or whose procedure (basedOn) does."""
    if names_another_vein(device, lookup.value_sets):
        return True
    if is_iliac(device, lookup.value_sets):
        return False
    procedures = [lookup.find(reference_target(ref)) for ref in objects(device.get("basedOn"))]
    return any(p and names_another_vein(p, lookup.value_sets) for p in procedures)


def _is_device_stent(resource: dict, lookup: _Lookup) -> bool:
    code = order_code(resource)
    if lookup.in_set("order-venous-stent-device", [code]):
        return True
    if lookup.in_set("order-generic-stent-device", [code]):
        return _venous_context(resource)
    return _is_text_stent(resource)


# --- ServiceRequest --------------------------------------------------------------------------------
def _read_service_request(resource: dict, lookup: _Lookup) -> list[DraftOrder]:
    orders = []
    for kind in _service_request_kinds(resource, lookup):
        order = _base_order(resource, kind, lookup)
        if kind is OrderKind.STENT:
            order = _with_size(order, resource, lookup.value_sets, devices_based_on(order.ref, lookup.draft_orders))
        orders.append(order)
    return orders


def _service_request_kinds(resource: dict, lookup: _Lookup) -> list[OrderKind]:
    code = [order_code(resource)]
    kinds = []
    if _is_procedure_stent(resource, lookup):
        kinds.append(OrderKind.STENT)
    if lookup.in_set("order-venoplasty", code):
        kinds.append(OrderKind.VENOPLASTY)
    if lookup.in_set("order-ivus", code):
        kinds.append(OrderKind.IVUS)
    if lookup.in_set("order-ivc-filter-procedure", code):
        kinds.append(OrderKind.IVC_FILTER)
    if _is_thrombolysis_procedure(resource, lookup):
        kinds.append(OrderKind.THROMBOLYSIS)
    if not kinds and _is_text_stent(resource):
        kinds.append(OrderKind.STENT)
    if names_another_vein(resource, lookup.value_sets):
        kinds = [kind for kind in kinds if kind not in (OrderKind.STENT, OrderKind.VENOPLASTY)]
    return kinds


def _is_procedure_stent(resource: dict, lookup: _Lookup) -> bool:
    code = [order_code(resource)]
    if lookup.in_set("order-venous-stent-procedure", code):
        return True
    if lookup.in_set("order-stent-placement-procedure", code):
        # "Placement of stent" is any stent: venous only on an iliac vein site or in venous words.
        on_iliac_vein = lookup.value_sets.match("order-iliac-vein-body-site", body_site_codings(resource.get("bodySite")))
        return bool(on_iliac_vein) or _venous_context(resource)
    return False


def _is_thrombolysis_procedure(resource: dict, lookup: _Lookup) -> bool:
    code = [order_code(resource)]
    if lookup.in_set("order-venous-thrombolysis-procedure", code):
        return True
    if lookup.in_set("order-arterial-thrombolysis-procedure", code):
        return _has_leg_dvt_reason(resource, lookup)
    return False


def _has_leg_dvt_reason(resource: dict, lookup: _Lookup) -> bool:
    """CPT 37211 is venous thrombolysis only for a leg DVT: a reasonCode, or a reasonReference Condition."""
    return lookup.in_set("order-leg-dvt-reason", _reason_concepts(resource, lookup))


def _reason_concepts(resource: dict, lookup: _Lookup) -> list[dict]:
    """reasonCode, and the code of each Condition that reasonReference points to (contained or known)."""
    reasons = objects(resource.get("reasonCode"))
    for reference in objects(resource.get("reasonReference")):
        target = reference_target(reference)
        condition = _contained(resource, target[1:]) if target.startswith("#") else lookup.find(target)
        if condition:
            reasons += objects(condition.get("code"))
    return reasons


def _contained(resource: dict, resource_id: str) -> dict | None:
    return next((c for c in objects(resource.get("contained")) if c.get("id") == resource_id), None)


def devices_based_on(service_ref: str, draft_orders: Iterable[dict]) -> list[dict]:
    """The DeviceRequests of the draft set whose `basedOn` names this ServiceRequest."""
    return [
        device
        for device in draft_orders
        if isinstance(device, dict)
        and device.get("resourceType") == "DeviceRequest"
        and any(_names(reference_target(ref), service_ref) for ref in objects(device.get("basedOn")))
    ]


# --- MedicationRequest -----------------------------------------------------------------------------
def _read_medication_request(resource: dict, lookup: _Lookup) -> list[DraftOrder]:
    orders = []
    for medication in _medications(resource, lookup):
        kind = DRUG_ORDER_KINDS.get(medication.drug_class)
        if kind is None:
            continue
        order = replace(_base_order(resource, kind, lookup), display=_drug_display(medication), medication=medication)
        if kind is OrderKind.THROMBOLYSIS:
            dose_mg, doses = thrombolytic_dosing(resource)
            order = replace(order, thrombolytic_dose_mg=dose_mg, thrombolytic_doses=doses,
                            into_catheter=instilled_into_catheter(resource, lookup))
        orders.append(order)
    return orders


def _medications(resource: dict, lookup: _Lookup) -> list[Medication]:
    """The drugs of the order. A dosage too malformed to read must not hide the drug: it is then
    read without its dosage (dose and frequency unknown)."""
    def read(request: dict) -> list[Medication]:
        return medications_of(
            request, reference_of(resource), None, lookup.value_sets, find_medication=lookup.find, find_condition=lookup.find
        )

    try:
        return read(resource)
    except (TypeError, ValueError, AttributeError, KeyError):
        log.warning("the dosage of a draft MedicationRequest could not be read; the drug is read without it")
        return read({key: value for key, value in resource.items() if key != "dosageInstruction"})


def _drug_display(medication: Medication) -> str:
    return medication.evidence.display if medication.evidence.display != "medication" else medication.ingredient


def thrombolytic_dosing(resource: dict) -> tuple[float | None, int | None]:
    """(the largest single dose in mg, the number of doses) of a drug order, over its dosage instructions.
    Either is None when any part of it cannot be read (no number, a unit that is not a mass, a rate, or
    a repeating schedule with no count): unknown is never a catheter-clearance order."""
    dosages = objects(resource.get("dosageInstruction"))
    if not dosages:
        return None, None
    parts = [(_dose_mg(dosage), _administrations(dosage)) for dosage in dosages]
    doses = [mg for mg, _ in parts]
    counts = [count for _, count in parts]
    largest = None if any(mg is None for mg in doses) else max(mg for mg in doses if mg is not None)
    total = None if any(count is None for count in counts) else sum(count for count in counts if count is not None)
    return largest, total


def _dose_mg(dosage: dict) -> float | None:
    """One administration's dose in mg; None for a rate, a range or a unit that is not a mass."""
    dose_and_rate = objects(dosage.get("doseAndRate"))
    if len(dose_and_rate) != 1 or any(key.startswith("rate") for key in dose_and_rate[0]):
        return None
    quantity = as_dict(dose_and_rate[0].get("doseQuantity"))
    value = quantity.get("value")
    factor = MASS_TO_MG.get(string(quantity.get("code")) or string(quantity.get("unit")))
    if factor is None or isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return float(value) * factor


def instilled_into_catheter(resource: dict, lookup: _Lookup) -> bool:
    """Route or method intracatheter / instillation (any dosage), or a catheter-occlusion reason."""
    dosages = objects(resource.get("dosageInstruction"))
    ways = [t for d in dosages for key in ("route", "method") for t in _words(as_dict(d.get(key)))]
    if has_whole_word(ways, CATHETER_ROUTE_WORDS):
        return True
    reasons = [t for r in _reason_concepts(resource, lookup) for t in _words(r)] + _reason_reference_displays(resource)
    return any(CATHETER_OCCLUSION.search(reason) for reason in reasons)


def _administrations(dosage: dict) -> int | None:
    """How many times the dose is given: `repeat.countMax` / `count`, else once when nothing repeats.
    A schedule or an "as needed" with no count is open-ended: None."""
    timing = as_dict(dosage.get("timing"))
    repeat = as_dict(timing.get("repeat"))
    for key in ("countMax", "count"):
        count = repeat.get(key)
        if isinstance(count, int) and not isinstance(count, bool) and count >= 1:
            return count
    as_needed = dosage.get("asNeededBoolean") is True or bool(as_dict(dosage.get("asNeededCodeableConcept")))
    scheduled = any(key in repeat for key in ("frequency", "period", "periodUnit", "duration"))
    coded = bool(timing.get("code")) and not _is_once(timing.get("code"))
    return None if as_needed or scheduled or coded else 1


def _is_once(code: Any) -> bool:
    words = _words(code) + [string(c.get("code")) for c in objects(as_dict(code).get("coding"))]
    return any(word.strip().upper() in ("ONCE", "STAT", "NOW") for word in words)


# --- stent size ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Dimension:
    """One stent dimension as ordered: its value in mm (None: unreadable) and where it was read."""

    mm: float | None
    as_ordered: str  # "5.9 cm", or the text fragment "14 x 60 mm"
    source_ref: str  # the resource it was read from
    where: str  # "parameter" or "text"
    parameter_index: int | None = None  # index in DeviceRequest.parameter
    text: str = ""  # the whole text the fragment was found in
    number_span: tuple[int, int] | None = None  # span of the number in `text`
    unit_span: tuple[int, int] | None = None  # span of the unit in `text`
    unit_shared: bool = False  # "14 x 60 mm": one unit for both numbers, so it cannot be changed for one


def _with_size(order: DraftOrder, resource: dict, value_sets: ValueSets, devices: Sequence[dict] = ()) -> DraftOrder:
    length = stent_dimension(resource, "length", value_sets, devices)
    diameter = stent_dimension(resource, "diameter", value_sets, devices)
    elsewhere = sorted({d.source_ref for d in (length, diameter) if d and d.source_ref != order.ref})
    if not elsewhere and devices:
        elsewhere = [reference_of(devices[0])]  # the device holds the size, even when it is not readable
    return replace(
        order,
        length_mm=length.mm if length else None,
        length_as_ordered=length.as_ordered if length else "",
        diameter_mm=diameter.mm if diameter else None,
        diameter_as_ordered=diameter.as_ordered if diameter else "",
        size_ref=elsewhere[0] if elsewhere else "",
    )


def stent_dimension(
    resource: dict, which: str, value_sets: ValueSets, devices: Iterable[dict] = ()
) -> Dimension | None:
    """The stent's "length" or "diameter": a DeviceRequest parameter first (the order's own, else
    that of a DeviceRequest based on this ServiceRequest), then the order's text, then the device's."""
    candidates = [resource] + list(devices)
    for candidate in candidates:
        found = _parameter_dimension(candidate, which, value_sets)
        if found:
            return found
    for candidate in candidates:
        found = _text_dimension(candidate, which)
        if found:
            return found
    return None


def _parameter_dimension(resource: dict, which: str, value_sets: ValueSets) -> Dimension | None:
    if resource.get("resourceType") != "DeviceRequest":
        return None
    found = resource.get("parameter")
    parameters = found if isinstance(found, list) else []
    for index, parameter in enumerate(parameters):
        if isinstance(parameter, dict) and value_sets.match(f"order-stent-{which}-parameter", codings(parameter.get("code"))):
            quantity = as_dict(parameter.get("valueQuantity"))
            unit = string(quantity.get("code")) or string(quantity.get("unit"))
            shown = f"{_number_text(quantity.get('value'))} {unit}".strip()
            millimetres = quantity_to({"value": quantity.get("value"), "code": unit}, "mm") if unit else None
            return Dimension(millimetres, shown, reference_of(resource), "parameter", index)
    return None


def _text_dimension(resource: dict, which: str) -> Dimension | None:
    for text in order_texts(resource):
        match = DIAMETER_BY_LENGTH.search(text)
        if match:
            return _from_pair(resource, text, match, which)
    for text in order_texts(resource):
        for pattern in SINGLE_DIMENSION[which]:
            match = pattern.search(text)
            if match:
                return _from_text(resource, text, match, number_group=1, unit_group=2)
    return None


def _from_pair(resource: dict, text: str, match: re.Match, which: str) -> Dimension:
    # groups: 1 diameter, 2 its unit (optional), 3 length, 4 length unit
    shared = not match.group(2)
    if which == "length":
        dimension = _from_text(resource, text, match, number_group=3, unit_group=4)
    else:
        dimension = _from_text(resource, text, match, number_group=1, unit_group=4 if shared else 2)
    return replace(dimension, unit_shared=shared)


def _from_text(resource: dict, text: str, match: re.Match, number_group: int, unit_group: int) -> Dimension:
    ucum = WRITTEN_LENGTH_UNITS.get(match.group(unit_group).lower())
    written = match.group(number_group)
    readable = ucum in LENGTH_TO_MM and "," not in written  # "5,9": decimal comma or list? unknown
    millimetres = convert(float(written), ucum, "mm") if readable else None
    return Dimension(
        millimetres,
        match.group(0).strip(),
        reference_of(resource),
        "text",
        text=text,
        number_span=match.span(number_group),
        unit_span=match.span(unit_group),
    )


def _number_text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "?"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- a procedure and its device are one stent ------------------------------------------------------
def _link_stent_devices(orders: list[DraftOrder]) -> list[DraftOrder]:
    """A stent DeviceRequest based on a stent ServiceRequest is the device of that procedure: when
    either one is clearly iliac, both are."""
    procedures = [o.ref for o in orders if o.kind is OrderKind.STENT and o.resource_type == "ServiceRequest"]
    links = {
        o.ref: {p for p in procedures if any(_names(b, p) for b in o.based_on)}
        for o in orders
        if o.kind is OrderKind.STENT and o.resource_type == "DeviceRequest"
    }
    iliac = {o.ref for o in orders if o.kind is OrderKind.STENT and o.iliac}
    for device, targets in links.items():
        if device in iliac:
            iliac |= targets
    for device, targets in links.items():
        if targets & iliac:
            iliac.add(device)
    return [replace(o, iliac=True) if o.kind is OrderKind.STENT and o.ref in iliac else o for o in orders]


# --- rewriting a size in the order's own words (for an `update` suggestion) -----------------------
def text_dimension(text: str, which: str) -> Dimension | None:
    """The stent "length" / "diameter" that one text states, if any."""
    return _text_dimension({"note": [{"text": text}]}, which)


def rewrite_text_dimension(text: str, which: str, new_mm: float, at_least: bool = False) -> str | None:
    """`text` with its stent "length" / "diameter" changed to `new_mm`, everything else as written;
    None when the text names no such dimension. The clinician's unit is kept when the new value is a
    plain number in it (60 mm = "6 cm"); otherwise a unit of this number alone becomes "mm".
    `at_least`: never round below `new_mm` (a minimum length)."""
    dimension = text_dimension(text, which)
    if dimension is None or dimension.number_span is None or dimension.unit_span is None:
        return None
    unit = WRITTEN_LENGTH_UNITS.get(text[dimension.unit_span[0]:dimension.unit_span[1]].lower(), "")
    factor = LENGTH_TO_MM.get(unit)
    if factor is None:
        return None
    in_unit = new_mm / factor
    if round(in_unit, 1) == round(in_unit, 9):
        return _splice(text, dimension.number_span, _plain(in_unit))
    if not dimension.unit_shared:
        return _splice(text, (dimension.number_span[0], dimension.unit_span[1]), f"{_plain(new_mm)} mm")
    rounded = math.ceil(in_unit * 100) / 100 if at_least else round(in_unit, 2)
    return _splice(text, dimension.number_span, _plain(rounded))


def _splice(text: str, span: tuple[int, int], replacement: str) -> str:
    return text[: span[0]] + replacement + text[span[1]:]


def _plain(value: float) -> str:
    return f"{value:.10g}"
