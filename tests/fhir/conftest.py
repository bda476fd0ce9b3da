"""Builders of small FHIR R4 JSON resources, and a one-call way to read them into ClinicalFacts.

Test modules get the builders through the `fhir` fixture (`fhir.condition(...)`), never by importing
this file: every test directory has its own conftest.py, so "import conftest" would be ambiguous.
"""
from __future__ import annotations

import itertools
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from cds_service.fhir.extract import extract_facts
from cds_service.fhir.record import PatientRecord
from cds_service.fhir.valuesets import CPT, DICOM, ICD10CM, LOCAL, LOINC, RXNORM, SNOMED, UCUM, load_value_sets

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
PATIENT_ID = "pat-secret-4711"
_ids = itertools.count(1)


def coding(system: str, code: str, display: str | None = None) -> dict:
    found = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


def sct(code: str, display: str | None = None) -> dict:
    return coding(SNOMED, code, display)


def icd(code: str, display: str | None = None) -> dict:
    return coding(ICD10CM, code, display)


def loinc(code: str, display: str | None = None) -> dict:
    return coding(LOINC, code, display)


def cpt(code: str, display: str | None = None) -> dict:
    return coding(CPT, code, display)


def local(code: str, display: str | None = None) -> dict:
    return coding(LOCAL, code, display)


def rxnorm(code: str, display: str | None = None) -> dict:
    return coding(RXNORM, code, display)


def concept(*codings_: dict, text: str | None = None) -> dict:
    found: dict = {}
    if codings_:
        found["coding"] = list(codings_)
    if text:
        found["text"] = text
    return found


def quantity(value, unit: str | None = "mm") -> dict:
    found = {"value": value}
    if unit is not None:
        found.update({"unit": unit, "system": UCUM, "code": unit})
    return found


def _id(prefix: str) -> str:
    return f"{prefix}{next(_ids)}"


def _subject() -> dict:
    return {"reference": f"Patient/{PATIENT_ID}"}


def condition(
    *codes: dict,
    id: str | None = None,
    text: str | None = None,
    clinical: str | None = "active",
    verification: str | None = "confirmed",
    onset: str | None = "2025-02-01",
    recorded: str | None = None,
    body_site: list[dict] | None = None,
    severity: dict | None = None,
    evidence_detail: list[str] | None = None,
    note: str | None = None,
    **extra,
) -> dict:
    resource: dict = {"resourceType": "Condition", "id": id or _id("cond-"), "subject": _subject(),
                      "code": concept(*codes, text=text)}
    if clinical:
        resource["clinicalStatus"] = concept(coding("http://terminology.hl7.org/CodeSystem/condition-clinical", clinical))
    if verification:
        resource["verificationStatus"] = concept(
            coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", verification))
    if onset:
        resource["onsetDateTime"] = onset
    if recorded:
        resource["recordedDate"] = recorded
    if body_site is not None:
        resource["bodySite"] = body_site
    if severity:
        resource["severity"] = severity
    if evidence_detail:
        resource["evidence"] = [{"detail": [{"reference": ref} for ref in evidence_detail]}]
    if note:
        resource["note"] = [{"text": note}]
    resource.update(extra)
    return resource


def observation(
    *codes: dict,
    id: str | None = None,
    status: str = "final",
    effective: str | None = "2025-02-10T08:00:00Z",
    value_quantity: dict | None = None,
    value_concept: dict | None = None,
    value_boolean: bool | None = None,
    method: dict | None = None,
    body_site: dict | None = None,
    components: list[dict] | None = None,
    focus: list[str] | None = None,
    text: str | None = None,
    **extra,
) -> dict:
    resource: dict = {"resourceType": "Observation", "id": id or _id("obs-"), "status": status,
                      "subject": _subject(), "code": concept(*codes, text=text)}
    if effective:
        resource["effectiveDateTime"] = effective
    if value_quantity is not None:
        resource["valueQuantity"] = value_quantity
    if value_concept is not None:
        resource["valueCodeableConcept"] = value_concept
    if value_boolean is not None:
        resource["valueBoolean"] = value_boolean
    if method:
        resource["method"] = method
    if body_site:
        resource["bodySite"] = body_site
    if components:
        resource["component"] = components
    if focus:
        resource["focus"] = [{"reference": ref} for ref in focus]
    resource.update(extra)
    return resource


def report(
    *codes: dict,
    id: str | None = None,
    status: str = "final",
    effective: str | None = "2025-02-10T08:00:00Z",
    conclusion: list[dict] | None = None,
    **extra,
) -> dict:
    resource: dict = {"resourceType": "DiagnosticReport", "id": id or _id("dr-"), "status": status,
                      "subject": _subject(), "code": concept(*codes)}
    if effective:
        resource["effectiveDateTime"] = effective
    if conclusion is not None:
        resource["conclusionCode"] = [concept(c) for c in conclusion]
    resource.update(extra)
    return resource


def imaging_study(
    *procedure_codes: dict,
    id: str | None = None,
    status: str = "available",
    started: str | None = "2025-02-12T09:00:00Z",
    modality: str | None = None,
    series_modality: str | None = None,
    series_laterality: dict | None = None,
) -> dict:
    resource: dict = {"resourceType": "ImagingStudy", "id": id or _id("img-"), "status": status,
                      "subject": _subject()}
    if procedure_codes:
        resource["procedureCode"] = [concept(c) for c in procedure_codes]
    if started:
        resource["started"] = started
    if modality:
        resource["modality"] = [coding(DICOM, modality)]
    if series_modality:
        series = {"uid": "1.2.3", "modality": coding(DICOM, series_modality)}
        if series_laterality:
            series["laterality"] = series_laterality
        resource["series"] = [series]
    return resource


def procedure(
    *codes: dict,
    id: str | None = None,
    status: str = "completed",
    performed: str | None = "2024-11-05T10:00:00Z",
    performed_period_start: str | None = None,
    body_site: list[dict] | None = None,
    text: str | None = None,
) -> dict:
    resource: dict = {"resourceType": "Procedure", "id": id or _id("proc-"), "status": status,
                      "subject": _subject(), "code": concept(*codes, text=text)}
    if performed:
        resource["performedDateTime"] = performed
    if performed_period_start:
        resource["performedPeriod"] = {"start": performed_period_start}
    if body_site is not None:
        resource["bodySite"] = body_site
    return resource


def dosage(
    dose: float | None = None,
    unit: str = "mg",
    frequency: int | None = None,
    period: float | None = None,
    period_unit: str | None = None,
    timing_code: str | None = None,
    route: dict | None = None,
    rate: dict | None = None,
    text: str | None = None,
) -> dict:
    found: dict = {}
    if text:
        found["text"] = text
    repeat = {}
    if frequency is not None:
        repeat["frequency"] = frequency
    if period is not None:
        repeat["period"] = period
    if period_unit:
        repeat["periodUnit"] = period_unit
    timing: dict = {}
    if repeat:
        timing["repeat"] = repeat
    if timing_code:
        timing["code"] = concept(coding("http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation", timing_code))
    if timing:
        found["timing"] = timing
    if route:
        found["route"] = route
    dose_and_rate: dict = {}
    if dose is not None:
        dose_and_rate["doseQuantity"] = quantity(dose, unit)
    if rate:
        dose_and_rate["rateQuantity"] = rate
    if dose_and_rate:
        found["doseAndRate"] = [dose_and_rate]
    return found


def medication_request(
    medication: dict | None = None,
    *,
    reference: str | None = None,
    reference_display: str | None = None,
    id: str | None = None,
    status: str = "active",
    dosages: list[dict] | None = None,
    contained: list[dict] | None = None,
    reason: list[dict] | None = None,
    reason_reference: list[str] | None = None,
    authored: str | None = "2025-02-20T10:00:00Z",
) -> dict:
    resource: dict = {"resourceType": "MedicationRequest", "id": id or _id("mr-"), "status": status,
                      "intent": "order", "subject": _subject()}
    if medication is not None:
        resource["medicationCodeableConcept"] = medication
    else:
        resource["medicationReference"] = {"reference": reference} if reference else {}
        if reference_display:
            resource["medicationReference"]["display"] = reference_display
    if dosages is not None:
        resource["dosageInstruction"] = dosages
    if contained:
        resource["contained"] = contained
    if reason:
        resource["reasonCode"] = reason
    if reason_reference:
        resource["reasonReference"] = [{"reference": ref} for ref in reason_reference]
    if authored:
        resource["authoredOn"] = authored
    return resource


def medication_statement(medication: dict, *, id: str | None = None, status: str = "active",
                         dosages: list[dict] | None = None, effective: str | None = "2025-01-05") -> dict:
    resource: dict = {"resourceType": "MedicationStatement", "id": id or _id("ms-"), "status": status,
                      "subject": _subject(), "medicationCodeableConcept": medication}
    if dosages is not None:
        resource["dosage"] = dosages
    if effective:
        resource["effectiveDateTime"] = effective
    return resource


def medication(*codes: dict, id: str | None = None, text: str | None = None,
               ingredient: list[dict] | None = None) -> dict:
    resource: dict = {"resourceType": "Medication", "id": id or _id("med-"), "code": concept(*codes, text=text)}
    if ingredient:
        resource["ingredient"] = [{"itemCodeableConcept": concept(c)} for c in ingredient]
    return resource


def record(*resources: dict, unreadable: set[str] | None = None, patient: dict | None = None) -> PatientRecord:
    by_type: dict[str, list[dict]] = {}
    for resource in resources:
        by_type.setdefault(resource["resourceType"], []).append(resource)
    return PatientRecord(
        patient=patient if patient is not None else {"resourceType": "Patient", "id": PATIENT_ID, "gender": "female"},
        resources=by_type,
        unreadable=set(unreadable or ()),
    )


@pytest.fixture(scope="session")
def value_sets():
    return load_value_sets()


@pytest.fixture
def facts_of(value_sets):
    """facts_of(*resources, unreadable=..., value_sets=...) -> ClinicalFacts as of NOW."""

    def read(*resources: dict, unreadable: set[str] | None = None, value_sets_=None, patient=None):
        return extract_facts(record(*resources, unreadable=unreadable, patient=patient), NOW,
                             value_sets_ or value_sets)

    return read


@pytest.fixture(scope="session")
def fhir():
    """The builders above, and NOW / PATIENT_ID."""
    return SimpleNamespace(
        coding=coding, sct=sct, icd=icd, loinc=loinc, cpt=cpt, local=local, rxnorm=rxnorm, concept=concept,
        quantity=quantity, condition=condition, observation=observation, report=report,
        imaging_study=imaging_study, procedure=procedure, dosage=dosage, medication_request=medication_request,
        medication_statement=medication_statement, medication=medication, record=record,
        NOW=NOW, PATIENT_ID=PATIENT_ID,
    )
