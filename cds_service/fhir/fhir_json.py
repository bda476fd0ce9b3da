"""Small readers over raw FHIR R4 JSON, shared by the extractors.

The extractors filter raw JSON first (cheap dict lookups) and validate only
what they keep (`is_valid`), so that thousands of irrelevant resources cost
almost nothing and a malformed one never fails the request.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from pydantic import ValidationError

from cds_service.fhir.validation import NARROW_TYPES, narrow_outcome
from cds_service.fhir.valuesets import ValueSets
from cds_service.pathway.facts import Side

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- tolerant access: untrusted JSON never raises

def as_dict(value: object) -> dict:
    """An element that must be a JSON object; anything else reads as an empty one."""
    return value if isinstance(value, dict) else {}


def string(value: object) -> str:
    """An element that must be a JSON string; anything else reads as ""."""
    return value if isinstance(value, str) else ""


# ---------------------------------------------------------------- codings and text

def codings(concept: object) -> list[dict]:
    """The codings of a CodeableConcept (JSON); a bare Coding counts as its own single coding.

    EHRs are sloppy: a numeric code is read as text, and a system or code that is not text is
    dropped (the coding's display still counts for words).
    """
    if not isinstance(concept, dict):
        return []
    if "coding" in concept:
        found = concept.get("coding")
        return [_clean(c) for c in (found if isinstance(found, list) else ()) if isinstance(c, dict)]
    if "code" in concept and "system" in concept:
        return [_clean(concept)]  # a Coding (ImagingStudy.modality, series.bodySite, series.laterality)
    return []


def _clean(coding: dict) -> dict:
    system, code = coding.get("system"), coding.get("code")
    if isinstance(system, (str, type(None))) and isinstance(code, (str, type(None))):
        return coding
    cleaned = {k: v for k, v in coding.items() if k not in ("system", "code")}
    if isinstance(system, str):
        cleaned["system"] = system
    if isinstance(code, int) and not isinstance(code, bool):
        cleaned["code"] = str(code)
    elif isinstance(code, str):
        cleaned["code"] = code
    return cleaned


def all_codings(concepts: Iterable[object]) -> list[dict]:
    return [coding for concept in concepts for coding in codings(concept)]


def objects(value: object) -> list[dict]:
    """A 0..* element (CodeableConcepts, Annotations, References...) as a list of JSON objects.

    Whether the EHR sent a list or one object; anything that is not an object is dropped.
    """
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return [value] if isinstance(value, dict) else []


def texts(concept: object) -> list[str]:
    """`text` and every coding `display` of a CodeableConcept: what a name or a word can appear in."""
    if not isinstance(concept, dict):
        return []
    found = [concept["text"]] if isinstance(concept.get("text"), str) else []
    found += [c["display"] for c in codings(concept) if isinstance(c.get("display"), str)]
    return found


def label(concept: object, matched: dict | None = None) -> str:
    """What a person would call the concept: its text, else the matched coding's display, else any display."""
    if isinstance(concept, dict) and isinstance(concept.get("text"), str) and concept["text"].strip():
        return concept["text"].strip()
    for coding in ([matched] if matched else []) + codings(concept):
        if coding and isinstance(coding.get("display"), str) and coding["display"].strip():
            return coding["display"].strip()
    if matched and matched.get("code"):
        return str(matched["code"])
    first = codings(concept)
    return str(first[0].get("code", "")) if first else ""


@lru_cache(maxsize=64)
def _whole_words(words: tuple[str, ...]) -> re.Pattern:
    alternatives = "|".join(re.escape(w).replace(r"\-", "[- ]") for w in words)
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])", re.IGNORECASE)


def has_whole_word(strings: Iterable[str], words: tuple[str, ...]) -> bool:
    """True when one of `words` appears as a whole word (case-insensitive) in one of `strings`.

    A hyphen in a word also matches a space ("May-Thurner" / "May Thurner").
    """
    pattern = _whole_words(words)
    return any(isinstance(s, str) and pattern.search(s) for s in strings)


def note_texts(resource: dict) -> list[str]:
    return [n["text"] for n in objects(resource.get("note")) if isinstance(n.get("text"), str)]


# ---------------------------------------------------------------- references

def reference_of(resource: dict) -> str:
    """"Type/id" of a resource. One without an id (or whose id is not a string) has no reference:
    it reads as its bare type, which names no resource. A made-up id ("Condition/unidentified")
    could name a real resource, and an `update` or `delete` suggestion aimed at it would act on
    that one; a bare type cannot be acted on (`"/" not in ref`) and is still a citable kind."""
    resource_type = string(resource.get("resourceType")) or "Resource"
    resource_id = string(resource.get("id"))
    return f"{resource_type}/{resource_id}" if resource_id else resource_type


def reference_target(reference: object) -> str:
    """The "Type/id" (or "#id") a FHIR Reference (JSON) points to; a full URL keeps its last two parts."""
    if not isinstance(reference, dict) or not isinstance(reference.get("reference"), str):
        return ""
    target = reference["reference"].strip()
    if target.startswith("#"):
        return target
    parts = [p for p in target.split("/_history/")[0].split("/") if p]
    return "/".join(parts[-2:]) if len(parts) >= 2 else target


# ---------------------------------------------------------------- side

SIDE_SETS = (("side-left", Side.LEFT), ("side-right", Side.RIGHT), ("side-both", Side.BOTH))


def side_of(codings_: Iterable[dict], value_sets: ValueSets) -> Side:
    """The side that a resource's codings state (code, bodySite, laterality qualifier, LOINC study code).

    Left and right together are bilateral; nothing stated is Side.UNKNOWN (counts for either leg).
    """
    found: set[Side] = set()
    for coding in codings_:
        for value_set_id, side in SIDE_SETS:
            if value_sets.contains(value_set_id, coding.get("system"), coding.get("code")):
                found.add(side)
    return combine_sides(found)


def combine_sides(sides: Iterable[Side]) -> Side:
    """One side for several findings: left + right (or any "both") is bilateral."""
    known = {s for s in sides if s is not Side.UNKNOWN}
    if Side.BOTH in known or {Side.LEFT, Side.RIGHT} <= known:
        return Side.BOTH
    if known:
        return known.pop()
    return Side.UNKNOWN


def extension_codings(element: object) -> Iterator[dict]:
    """Codings held in the extensions (and modifierExtensions) of an element, at any depth.

    Sites put a laterality qualifier there (R4 has no bodySite.laterality).
    """
    if not isinstance(element, dict):
        return
    for key in ("extension", "modifierExtension"):
        for extension in element.get(key) or ():
            if not isinstance(extension, dict):
                continue
            if isinstance(extension.get("valueCodeableConcept"), dict):
                yield from codings(extension["valueCodeableConcept"])
            if isinstance(extension.get("valueCoding"), dict):
                yield extension["valueCoding"]
            yield from extension_codings(extension)


def body_site_codings(body_sites: object) -> list[dict]:
    """Codings of `bodySite` (one CodeableConcept or a list), including those in its extensions."""
    found: list[dict] = []
    for site in objects(body_sites):
        found += codings(site)
        found += list(extension_codings(site))
    return found


# ---------------------------------------------------------------- validation

@lru_cache(maxsize=32)
def _model(resource_type: str):
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(resource_type)


# A validation outcome: None = not valid FHIR R4; a tuple = valid once these top-level elements,
# sent as a single object where R4 wants an array, are wrapped in one (empty: valid as sent).
Outcome = tuple[str, ...] | None


class Validator:
    """Validates the kept resources: the elements the extractors read (`validation.py`), or else the full
    fhir.resources R4B model of their type.

    A resource that fails is skipped with a warning (type and error kinds only: never
    ids or content) and its resource type is remembered as not fully read.
    """

    def __init__(self) -> None:
        self.failed_types: set[str] = set()

    def is_valid(self, resource: dict) -> bool:
        """Validate (R4B types). EHR sloppiness R4 can absorb (an object where an array belongs,
        as the CDS Hooks sandbox sends MedicationRequest.category) is repaired in place first."""
        resource_type = resource.get("resourceType")
        if not isinstance(resource_type, str):
            return False
        outcome = self._validate(resource, resource_type)
        if outcome is None:
            self.failed_types.add(resource_type)
            return False
        for element in outcome:
            if isinstance(resource.get(element), dict):
                resource[element] = [resource[element]]
        return True

    def _validate(self, resource: dict, resource_type: str) -> Outcome:
        if resource_type in NARROW_TYPES:  # every type the extractors keep: the elements they read
            return narrow_outcome(resource, resource_type)
        try:
            model = _model(resource_type)
            model.model_validate(resource)
            return ()
        except ValidationError as error:
            problems = error.errors()
            wrappable = {str(e["loc"][0]) for e in problems if e.get("type") == "list_type" and len(e.get("loc", ())) == 1
                         and isinstance(resource.get(e["loc"][0]), dict)}
            if wrappable and len(wrappable) == len(problems):
                repaired = {k: [v] if k in wrappable else v for k, v in resource.items()}
                try:
                    model.model_validate(repaired)
                    log.info("repaired a %s: single objects where R4 wants arrays (%s)", resource_type,
                             ", ".join(sorted(wrappable)))
                    return tuple(sorted(wrappable))
                except ValidationError as second:
                    problems = second.errors()
            kinds = sorted({e.get("type", "?") for e in problems})
            log.warning("skipped a %s that is not valid FHIR R4 (%s: %s)", resource_type,
                        type(error).__name__, ", ".join(kinds))
        except (KeyError, TypeError, ValueError, RecursionError) as error:
            log.warning("skipped a %s that could not be validated (%s)", resource_type, type(error).__name__)
        return None
