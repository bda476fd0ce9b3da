"""What drug a MedicationRequest / MedicationStatement is about, and how it is dosed (DATA-CONTRACT "Medications").

The drug is `medicationCodeableConcept`, or the Medication that
`medicationReference` points to (contained `#id`, or one of the record's
Medication resources), or at least the reference's display. An ingredient
matches by its RxNorm code (value sets `medication-<class>`, which a site can
extend) or by its name as a whole word in a coding display or the text
(`valuesets/ingredients.json`). A product whose text says "flush" or "lock" is
never therapy.

`medications_of` does not check the status: the caller decides what is current
therapy (the record) or an order (draftOrders).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources

from cds_service.fhir.fhir_json import (
    all_codings,
    codings,
    has_whole_word,
    label,
    objects,
    reference_target,
    texts,
)
from cds_service.fhir.units import TIME_TO_DAYS
from cds_service.fhir.valuesets import RXNORM, SNOMED, ValueSets
from cds_service.pathway.facts import DrugClass, Evidence, Medication

NEVER_THERAPY_WORDS = ("flush", "flushes", "lock")
# Names in ingredients.json that name the LMWH class, not an ingredient.
LMWH_CLASS_NAMES = ("low molecular weight heparin", "lmwh")
INFUSION_WORDS = ("infusion", "infuse", "drip", "continuous")
# Administrations per day of the HL7 v3 GTSAbbreviation timing codes.
TIMING_CODES_PER_DAY = {
    "QD": 1.0, "Q24H": 1.0, "AM": 1.0, "PM": 1.0, "BED": 1.0, "QOD": 0.5,
    "BID": 2.0, "Q12H": 2.0, "TID": 3.0, "Q8H": 3.0, "QID": 4.0, "Q6H": 4.0, "Q4H": 6.0,
}
ROUTE_NAMES = {  # SNOMED route codes EHRs send without text
    "47625008": "intravenous", "34206005": "subcutaneous", "26643006": "oral", "78421000": "intramuscular",
}
CLASS_ORDER = (
    DrugClass.LMWH, DrugClass.ANTICOAGULANT, DrugClass.ANTIPLATELET,
    DrugClass.THROMBOLYTIC, DrugClass.VASOPRESSOR, DrugClass.EDEMA_CAUSING,
)


@dataclass(frozen=True)
class Ingredient:
    name: str  # lower case
    drug_class: DrugClass
    rxnorm: str | None


class IngredientCatalogue:
    """Ingredient names and RxNorm codes by drug class."""

    def __init__(self, ingredients: Iterable[Ingredient]):
        self.ingredients = tuple(ingredients)
        self.by_code = {i.rxnorm: i for i in self.ingredients if i.rxnorm}

    @classmethod
    def from_document(cls, document: dict) -> IngredientCatalogue:
        table = document.get("ingredients", document)
        return cls(
            Ingredient(name.lower(), DrugClass(klass), str(code) if code else None)
            for klass, names in table.items()
            for name, code in names.items()
        )

    def named_in(self, strings: list[str]) -> list[Ingredient]:
        return [i for i in self.ingredients if has_whole_word(strings, (i.name,))]


@lru_cache(maxsize=1)
def shipped_ingredients() -> IngredientCatalogue:
    text = (resources.files("cds_service.fhir") / "valuesets" / "ingredients.json").read_text(encoding="utf-8")
    return IngredientCatalogue.from_document(json.loads(text))


MedicationLookup = Callable[[str], "dict | None"]  # "Medication/id" -> a Medication resource (JSON)


@dataclass(frozen=True)
class Product:
    """The drug of one request / statement: its concepts and what people called it."""

    concepts: tuple[dict, ...]
    names: tuple[str, ...]  # texts and displays (and the reference display)
    display: str


def product_of(resource: dict, find_medication: MedicationLookup | None = None) -> Product:
    if isinstance(resource.get("medicationCodeableConcept"), dict):
        concept = resource["medicationCodeableConcept"]
        return Product((concept,), tuple(texts(concept)), label(concept))
    reference = resource.get("medicationReference")
    medication = _referenced_medication(resource, reference, find_medication)
    reference_display = reference.get("display") if isinstance(reference, dict) else None
    concepts: list[dict] = []
    if medication:
        concepts += objects(medication.get("code"))
        concepts += [i["itemCodeableConcept"] for i in objects(medication.get("ingredient"))
                     if isinstance(i.get("itemCodeableConcept"), dict)]
    names = [n for c in concepts for n in texts(c)]
    if isinstance(reference_display, str):
        names.append(reference_display)
    display = label(concepts[0]) if concepts and label(concepts[0]) else (reference_display or "")
    return Product(tuple(concepts), tuple(names), display)


def _referenced_medication(resource: dict, reference: object, find: MedicationLookup | None) -> dict | None:
    target = reference_target(reference)
    if not target:
        return None
    if target.startswith("#"):
        return next((c for c in objects(resource.get("contained"))
                     if c.get("resourceType") == "Medication" and c.get("id") == target[1:]),
                    None)
    return find(target) if find else None


def is_never_therapy(product: Product) -> bool:
    """Flushes and line locks carry heparin but are never anticoagulation."""
    return has_whole_word(product.names, NEVER_THERAPY_WORDS)


def ingredients_of(product: Product, value_sets: ValueSets, catalogue: IngredientCatalogue) -> list[Ingredient]:
    """Every ingredient of the drug classes that the product matches, by code or by name."""
    product_codings = all_codings(product.concepts)
    named = catalogue.named_in(list(product.names))
    found: dict[str, Ingredient] = {}
    for coding in product_codings:
        known = catalogue.by_code.get(str(coding.get("code"))) if coding.get("system") == RXNORM else None
        if known:
            found[known.name] = known
    for ingredient in named:
        found.setdefault(ingredient.name, ingredient)
    for drug_class in CLASS_ORDER:
        coded_in_class = value_sets.match(f"medication-{drug_class.value}", product_codings)
        if coded_in_class and not any(i.drug_class is drug_class for i in found.values()):
            # A site's own code (e.g. a clinical drug) in the class, with no ingredient name: class known only.
            found[f"{drug_class.value}:"] = Ingredient("", drug_class, None)
    return _without_class_words(list(found.values()))


def _without_class_words(ingredients: list[Ingredient]) -> list[Ingredient]:
    """Drop names that only name the class when the product says more.

    "heparin" inside an LMWH product ("enoxaparin, a low molecular weight heparin") is not
    unfractionated heparin; "LMWH" beside "enoxaparin" adds nothing.
    """
    any_lmwh = any(i.drug_class is DrugClass.LMWH for i in ingredients)
    specific_lmwh = any(i.drug_class is DrugClass.LMWH and i.name and i.name not in LMWH_CLASS_NAMES
                        for i in ingredients)
    kept = [
        i for i in ingredients
        if not (i.name == "heparin" and any_lmwh) and not (i.name in LMWH_CLASS_NAMES and specific_lmwh)
    ]
    return sorted(kept, key=lambda i: (CLASS_ORDER.index(i.drug_class), i.name))


# ---------------------------------------------------------------- dosage

@dataclass(frozen=True)
class Dosing:
    dose: float | None = None
    dose_unit: str = ""
    per_day: float | None = None
    route: str = ""
    is_infusion: bool = False


def dosing_of(dosage: object, product: Product) -> Dosing:
    """Dose, frequency, route and infusion flag of one Dosage (JSON): dosageInstruction[0] / dosage[0]."""
    if not isinstance(dosage, dict):
        return Dosing(is_infusion=has_whole_word(product.names, INFUSION_WORDS))
    dose_and_rate = objects(dosage.get("doseAndRate"))
    dose, unit = _dose(dose_and_rate[0].get("doseQuantity") if dose_and_rate else None)
    route = _route(dosage.get("route"))
    words = list(product.names) + texts(dosage.get("method")) + texts(dosage.get("route"))
    if isinstance(dosage.get("text"), str):
        words.append(dosage["text"])
    has_rate = any(isinstance(key, str) and key.startswith("rate") for d in dose_and_rate for key in d)
    return Dosing(
        dose=dose,
        dose_unit=unit,
        per_day=per_day_of(dosage.get("timing")),
        route=route,
        is_infusion=has_rate or has_whole_word(words, INFUSION_WORDS),
    )


def _dose(quantity: object) -> tuple[float | None, str]:
    if not isinstance(quantity, dict):
        return None, ""
    value = quantity.get("value")
    unit = next((u for u in (quantity.get("code"), quantity.get("unit")) if isinstance(u, str) and u), "")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, unit
    return float(value), unit


def per_day_of(timing: object) -> float | None:
    """Administrations per day from `timing.repeat` (frequency per period), else `timing.code`; None unknown."""
    if not isinstance(timing, dict):
        return None
    from_repeat = _per_day_from_repeat(timing.get("repeat"))
    if from_repeat is not None:
        return from_repeat
    for coding in codings(timing.get("code")):
        if str(coding.get("code", "")).upper() in TIMING_CODES_PER_DAY:
            return TIMING_CODES_PER_DAY[str(coding["code"]).upper()]
    text = timing.get("code", {}).get("text") if isinstance(timing.get("code"), dict) else None
    if isinstance(text, str) and text.strip().upper() in TIMING_CODES_PER_DAY:
        return TIMING_CODES_PER_DAY[text.strip().upper()]
    return None


def _per_day_from_repeat(repeat: object) -> float | None:
    if not isinstance(repeat, dict):
        return None
    period, unit = _positive(repeat.get("period")), repeat.get("periodUnit")
    frequency = _positive(repeat.get("frequency", 1))
    if period is None or frequency is None or not isinstance(unit, str) or unit not in TIME_TO_DAYS:
        return None
    return frequency / (period * TIME_TO_DAYS[unit])


def _positive(value: object) -> float | None:
    """A positive JSON number as a float; None for anything else (a string, a boolean, zero)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def _route(route: object) -> str:
    if not isinstance(route, dict):
        return ""
    if isinstance(route.get("text"), str) and route["text"].strip():
        return route["text"].strip().lower()
    for coding in codings(route):
        if coding.get("system") == SNOMED and str(coding.get("code")) in ROUTE_NAMES:
            return ROUTE_NAMES[str(coding["code"])]
        if isinstance(coding.get("display"), str) and coding["display"].strip():
            return coding["display"].strip().lower()
    first = codings(route)
    return str(first[0].get("code", "")).lower() if first else ""


# ---------------------------------------------------------------- reasons

def reasons_of(resource: dict, find_condition: Callable[[str], dict | None] | None = None) -> tuple[tuple[str, ...], str]:
    """("system|code" of reasonCode and of the Conditions in reasonReference, the reason texts joined by "; ")."""
    concepts = objects(resource.get("reasonCode"))
    reason_texts = [t for c in concepts for t in texts(c)]
    for reference in objects(resource.get("reasonReference")):
        target = reference_target(reference)
        condition = find_condition(target) if find_condition and target else None
        if condition:
            concepts += objects(condition.get("code"))
            reason_texts += texts(condition.get("code"))
        if isinstance(reference, dict) and isinstance(reference.get("display"), str):
            reason_texts.append(reference["display"])
    reason_codes = tuple(dict.fromkeys(
        f"{c.get('system')}|{c.get('code')}" for c in all_codings(concepts) if c.get("system") and c.get("code")
    ))
    return reason_codes, "; ".join(dict.fromkeys(t.strip() for t in reason_texts if t.strip()))


# ---------------------------------------------------------------- the whole reading

def medications_of(
    resource: dict,
    evidence_ref: str,
    when: datetime | None,
    value_sets: ValueSets,
    *,
    catalogue: IngredientCatalogue | None = None,
    find_medication: MedicationLookup | None = None,
    find_condition: Callable[[str], dict | None] | None = None,
) -> list[Medication]:
    """One `Medication` fact per matched ingredient of a MedicationRequest / MedicationStatement (JSON).

    Empty when the drug is of no class the pathway knows, or is a flush / lock.
    """
    product = product_of(resource, find_medication)
    if is_never_therapy(product):
        return []
    ingredients = ingredients_of(product, value_sets, catalogue or shipped_ingredients())
    if not ingredients:
        return []
    dosages = resource.get("dosageInstruction") if "dosageInstruction" in resource else resource.get("dosage")
    first_dosage = dosages[0] if isinstance(dosages, list) and dosages else None
    dosing = dosing_of(first_dosage, product)
    reason_codes, reason_text = reasons_of(resource, find_condition)
    evidence = Evidence(ref=evidence_ref, display=product.display or "medication", when=when)
    return [
        Medication(
            evidence=evidence,
            drug_class=ingredient.drug_class,
            ingredient=ingredient.name,
            dose=dosing.dose,
            dose_unit=dosing.dose_unit,
            per_day=dosing.per_day,
            route=dosing.route,
            is_infusion=dosing.is_infusion,
            reason_codes=reason_codes,
            reason_text=reason_text,
        )
        for ingredient in ingredients
    ]
