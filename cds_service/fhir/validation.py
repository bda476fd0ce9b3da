"""Narrow validation of the resources the extractors keep: every element they read has its FHIR R4B type.

A full `fhir.resources` model builds a pydantic model for every element of a resource, down to each
Coding, and runs Python validators on each of them (about 0.1 ms per resource): on a record of new
patients it was half of a hook call (docs/performance.md). The extractors read few elements,
so each resource type here has one `TypeAdapter`, compiled once per worker, over exactly the
elements that `extract_*.py` and `medications.py` read (and the references that tie a resource to
its patient), with the FHIR primitive types of `fhir_core` (the same string / code / dateTime /
decimal rules as the full models). Elements nobody reads are not checked: they cannot mislead a
rule. What the full model checks and this keeps:

- each read element's type, complex or primitive, down to every Coding of every CodeableConcept;
- only element names R4B defines, at the top level and inside every read datatype;
- a null inside a list of complex elements is invalid, and so is a missing required element that is
  read (Observation.status and .code, MedicationRequest.medication[x], ...);
- a choice element (value[x], effective[x], onset[x]...) has at most one of its types (and one when
  required), for every choice element of the resource (the groups come from the full model).

Deliberate differences: a JSON string where an object belongs is invalid here (the full model parses
such a string as JSON), and so is a primitive of another JSON type (`_json`: the full model reads 7
as a dateTime). Types without a narrow schema are validated with the full model.
`tests/fhir/test_validation.py` compares the verdicts of both on every fixture resource and on
mutated copies.
"""
from __future__ import annotations

import importlib
import logging
import typing
from functools import cache, lru_cache
from typing import Annotated, Any, Required

from fhir_core.types import (
    BooleanType,
    CodeType,
    DateTimeType,
    DecimalType,
    IdType,
    InstantType,
    MarkdownType,
    PositiveIntType,
    StringType,
    UriType,
)
from pydantic import BeforeValidator, ConfigDict, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict

__all__ = ["NARROW_TYPES", "ValidationError", "list_elements", "narrow_adapter", "narrow_outcome", "validate_narrow"]

log = logging.getLogger(__name__)


def _one_of(prefix: str, required: bool = False) -> BeforeValidator:
    """A choice element `prefix[x]` of a datatype: at most one `prefixType` with a value (one if required)."""

    def check(value: Any) -> Any:
        if isinstance(value, dict):
            found = [k for k, v in value.items()
                     if v is not None and k.startswith(prefix) and k[len(prefix):][:1].isupper()]
            if len(found) > 1 or (required and not found):
                raise PydanticCustomError("one_of_many", "one value of {prefix}[x] expected", {"prefix": prefix})
        return value

    return BeforeValidator(check)


def _json(*types: type) -> BeforeValidator:
    """The JSON type FHIR gives a primitive. fhir_core alone would read 7 as a dateTime (a Unix timestamp),
    "5" as a decimal, true as a positiveInt and "yes" as a boolean: no extractor reads those forms."""

    def check(value: Any) -> Any:
        if value is not None and (not isinstance(value, types) or isinstance(value, bool) and bool not in types):
            raise PydanticCustomError("json_type", "a JSON {kind} expected", {"kind": types[0].__name__})
        return value

    return BeforeValidator(check)


Boolean = Annotated[BooleanType, _json(bool)]
Decimal = Annotated[DecimalType, _json(int, float)]
PositiveInt = Annotated[PositiveIntType, _json(int)]
DateTime = Annotated[DateTimeType, _json(str)]
Instant = Annotated[InstantType, _json(str)]


def _defined(model_path: str) -> BeforeValidator:
    """Only the element names that R4B defines for this datatype (`fhir.resources.R4B.<model_path>`), as the
    full model has it (extra="forbid"); their own types are checked only where an extractor reads them."""
    module, name = model_path.rsplit(".", 1)
    names = _element_names(getattr(importlib.import_module(f"fhir.resources.R4B.{module}"), name))

    def check(value: Any) -> Any:
        if isinstance(value, dict) and not names.issuperset(value):
            raise PydanticCustomError("extra_forbidden", "an element {model} does not define", {"model": name})
        return value

    return BeforeValidator(check)


def _element_names(model: Any) -> frozenset[str]:
    return frozenset({field.alias or name for name, field in model.model_fields.items()} | {"resourceType"})


class _Element(TypedDict, total=False):
    __pydantic_config__ = ConfigDict(extra="ignore")  # type: ignore[misc]


class _Coding(_Element, total=False):
    system: UriType | None
    version: StringType | None
    code: CodeType | None
    display: StringType | None
    userSelected: Boolean | None
    extension: list[Extension] | None


class _Extension(_Element, total=False):
    """Read for the codings sites put in bodySite extensions (laterality qualifiers), at any depth."""

    url: Required[UriType]
    valueCodeableConcept: CodeableConcept | None
    valueCoding: Coding | None
    extension: list[Extension] | None


class _CodeableConcept(_Element, total=False):
    coding: list[Coding] | None
    text: StringType | None
    extension: list[Extension] | None


class _Quantity(_Element, total=False):
    value: Decimal | None
    comparator: CodeType | None
    unit: StringType | None
    system: UriType | None
    code: CodeType | None


class _Period(_Element, total=False):
    start: DateTime | None
    end: DateTime | None


class _Reference(_Element, total=False):
    reference: StringType | None
    type: UriType | None
    display: StringType | None


class _Annotation(_Element, total=False):
    text: Required[MarkdownType]


class _TimingRepeat(_Element, total=False):
    frequency: PositiveInt | None
    period: Decimal | None
    periodUnit: CodeType | None


class _Timing(_Element, total=False):
    repeat: Annotated[_TimingRepeat, _defined("timing.TimingRepeat"), _one_of("bounds")] | None
    code: CodeableConcept | None


class _DoseAndRate(_Element, total=False):
    doseQuantity: Quantity | None


class _Dosage(_Element, total=False):
    text: StringType | None
    timing: Annotated[_Timing, _defined("timing.Timing")] | None
    route: CodeableConcept | None
    method: CodeableConcept | None
    doseAndRate: list[Annotated[_DoseAndRate, _defined("dosage.DosageDoseAndRate"), _one_of("dose"), _one_of("rate")]] | None


Coding = Annotated[_Coding, _defined("coding.Coding")]
Extension = Annotated[_Extension, _defined("extension.Extension"), _one_of("value")]
CodeableConcept = Annotated[_CodeableConcept, _defined("codeableconcept.CodeableConcept")]
Quantity = Annotated[_Quantity, _defined("quantity.Quantity")]
Period = Annotated[_Period, _defined("period.Period")]
Reference = Annotated[_Reference, _defined("reference.Reference")]
Annotation = Annotated[_Annotation, _defined("annotation.Annotation"), _one_of("author")]
Dosage = Annotated[_Dosage, _defined("dosage.Dosage"), _one_of("asNeeded")]


class _Resource(_Element, total=False):
    resourceType: Required[str]
    id: IdType | None


class _ConditionEvidence(_Element, total=False):
    detail: list[Reference] | None


class Condition(_Resource, total=False):
    clinicalStatus: CodeableConcept | None
    verificationStatus: CodeableConcept | None
    severity: CodeableConcept | None
    code: CodeableConcept | None
    bodySite: list[CodeableConcept] | None
    subject: Required[Reference | None]
    onsetDateTime: DateTime | None
    onsetPeriod: Period | None
    recordedDate: DateTime | None
    evidence: list[Annotated[_ConditionEvidence, _defined("condition.ConditionEvidence")]] | None
    note: list[Annotation] | None


class _ObservationComponent(_Element, total=False):
    code: Required[CodeableConcept | None]
    valueQuantity: Quantity | None
    valueCodeableConcept: CodeableConcept | None
    valueBoolean: Boolean | None


class Observation(_Resource, total=False):
    status: Required[CodeType]
    code: Required[CodeableConcept | None]
    subject: Reference | None
    focus: list[Reference] | None
    effectiveDateTime: DateTime | None
    effectivePeriod: Period | None
    effectiveInstant: Instant | None
    issued: Instant | None
    valueQuantity: Quantity | None
    valueCodeableConcept: CodeableConcept | None
    valueBoolean: Boolean | None
    method: CodeableConcept | None
    bodySite: CodeableConcept | None
    component: list[Annotated[_ObservationComponent, _defined("observation.ObservationComponent"), _one_of("value")]] | None


class DiagnosticReport(_Resource, total=False):
    status: Required[CodeType]
    code: Required[CodeableConcept | None]
    subject: Reference | None
    effectiveDateTime: DateTime | None
    effectivePeriod: Period | None
    issued: Instant | None
    conclusionCode: list[CodeableConcept] | None


class _ImagingStudySeries(_Element, total=False):
    modality: Required[Coding | None]
    bodySite: Coding | None
    laterality: Coding | None


class ImagingStudy(_Resource, total=False):
    status: Required[CodeType]
    subject: Required[Reference | None]
    started: DateTime | None
    description: StringType | None
    modality: list[Coding] | None
    procedureCode: list[CodeableConcept] | None
    series: list[Annotated[_ImagingStudySeries, _defined("imagingstudy.ImagingStudySeries")]] | None


class Procedure(_Resource, total=False):
    status: Required[CodeType]
    subject: Required[Reference | None]
    code: CodeableConcept | None
    performedDateTime: DateTime | None
    performedPeriod: Period | None
    bodySite: list[CodeableConcept] | None
    reasonCode: list[CodeableConcept] | None
    note: list[Annotation] | None


class _MedicationIngredient(_Element, total=False):
    itemCodeableConcept: CodeableConcept | None
    itemReference: Reference | None


_Ingredient = Annotated[
    _MedicationIngredient, _defined("medication.MedicationIngredient"), _one_of("item", required=True)
]


class Medication(_Resource, total=False):
    code: CodeableConcept | None
    ingredient: list[_Ingredient] | None


def _contained_medication(value: Any) -> Any:
    """A contained item is a resource; it is read only when it is a Medication (`medicationReference` "#id")."""
    if not isinstance(value, dict) or value and not isinstance(value.get("resourceType"), str):
        raise PydanticCustomError("contained_resource", "a contained item is a resource")
    if value.get("resourceType") == "Medication":
        narrow_adapter("Medication").validate_python(value)
    return value


class _Prescription(_Resource, total=False):
    subject: Required[Reference | None]
    medicationCodeableConcept: CodeableConcept | None
    medicationReference: Reference | None
    reasonCode: list[CodeableConcept] | None
    reasonReference: list[Reference] | None
    contained: list[Annotated[dict, BeforeValidator(_contained_medication)]] | None


class MedicationRequest(_Prescription, total=False):
    status: Required[CodeType]
    intent: Required[CodeType]
    authoredOn: DateTime | None
    dosageInstruction: list[Dosage] | None


class MedicationStatement(_Prescription, total=False):
    status: Required[CodeType]
    effectiveDateTime: DateTime | None
    effectivePeriod: Period | None
    dateAsserted: DateTime | None
    dosage: list[Dosage] | None


NARROW_TYPES: dict[str, type] = {
    schema.__name__: schema
    for schema in (Condition, Observation, DiagnosticReport, ImagingStudy, Procedure, Medication,
                   MedicationRequest, MedicationStatement)
}


@cache
def narrow_adapter(resource_type: str) -> TypeAdapter:
    """The compiled validator of one resource type, its choice elements checked as the full model does."""
    model = _full_model(resource_type)
    names = _element_names(model)
    groups = _choice_groups(model)

    def resource_level(value: Any) -> Any:
        """Element names R4B defines; at most one type of each choice element (one when required)."""
        if not isinstance(value, dict):
            return value
        if not names.issuperset(value):
            raise PydanticCustomError("extra_forbidden", "an element {model} does not define", {"model": resource_type})
        for prefix, required, members in groups:
            found = [k for k in members.intersection(value) if value[k] is not None]
            if len(found) > 1 or (required and not found):
                raise PydanticCustomError("one_of_many", "one value of {prefix}[x] expected", {"prefix": prefix})
        return value

    return TypeAdapter(Annotated[NARROW_TYPES[resource_type], BeforeValidator(resource_level)])


def _full_model(resource_type: str):
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(resource_type)


def _choice_groups(model: Any) -> list[tuple[str, bool, frozenset[str]]]:
    """(prefix, required, names) of every choice element of a resource, as its full model declares them."""
    groups = model.get_one_of_many_fields(model.model_construct())
    return [(prefix, model.model_fields[names[0]].json_schema_extra.get("one_of_many_required") is True,
             frozenset(names)) for prefix, names in sorted(groups.items())]


@lru_cache(maxsize=64)
def list_elements(resource_type: str) -> frozenset[str]:
    """The top-level elements that R4B makes arrays (0..*), from the full model."""
    found = set()
    for name, field in _full_model(resource_type).model_fields.items():
        annotation = field.annotation
        args = typing.get_args(annotation) if typing.get_origin(annotation) is typing.Union else (annotation,)
        if any(typing.get_origin(a) is list for a in args):
            found.add(field.alias or name)
    return frozenset(found)


def validate_narrow(resource: dict, resource_type: str) -> None:
    """Raises pydantic's ValidationError when an element the extractors read has the wrong type."""
    narrow_adapter(resource_type).validate_python(resource)


def narrow_outcome(resource: dict, resource_type: str) -> tuple[str, ...] | None:
    """None when the resource is not valid; else the top-level elements sent as one object where R4 wants an
    array (as the CDS Hooks sandbox sends MedicationRequest.category), with which it is valid once wrapped."""
    arrays = list_elements(resource_type)
    wrapped = tuple(sorted(k for k, v in resource.items() if isinstance(v, dict) and k in arrays))
    candidate = {**resource, **{k: [resource[k]] for k in wrapped}} if wrapped else resource
    try:
        validate_narrow(candidate, resource_type)
    except ValidationError as error:
        kinds = sorted({e.get("type", "?") for e in error.errors(include_input=False, include_url=False)})
        log.warning("skipped a %s that is not valid FHIR R4 (%s: %s)", resource_type, type(error).__name__,
                    ", ".join(kinds))
        return None
    except (KeyError, TypeError, ValueError, RecursionError) as error:
        log.warning("skipped a %s that could not be validated (%s)", resource_type, type(error).__name__)
        return None
    if wrapped:
        log.info("repaired a %s: single objects where R4 wants arrays (%s)", resource_type, ", ".join(wrapped))
    return wrapped
