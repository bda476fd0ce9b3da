"""FHIR R4 JSON → `ClinicalFacts`: the one place where the patient's record is read (DATA-CONTRACT.md).

    facts = extract_facts(record, now, value_sets)

Each resource type is filtered on its raw JSON first (type, code: cheap dict lookups), and only
what is kept is validated (the elements read, `validation.py`); an invalid resource is skipped with a
warning and never fails the request. No time window is applied here: every item is kept with its
date, lists are sorted newest first, and the pathway applies the windows of `PathwaySettings`.

Side: each fact carries the side its own resource states (a left and a right coding in one resource
is Side.BOTH). Combining several facts (a left and a right swelling = bilateral) is the pathway's job;
`fhir_json.combine_sides` shows the rule.
"""
from __future__ import annotations

from datetime import datetime

from cds_service.fhir.dates import first_date, period_start
from cds_service.fhir.extract_conditions import add_condition_facts, add_contextual_condition_facts, read_conditions
from cds_service.fhir.extract_context import ExtractionContext
from cds_service.fhir.extract_imaging import read_diagnostic_reports, read_imaging_studies, read_procedures
from cds_service.fhir.extract_masses import add_masses, mass_readings, nature_candidates_from_conditions
from cds_service.fhir.extract_observations import read_observations
from cds_service.fhir.fhir_json import reference_of
from cds_service.fhir.medications import medications_of
from cds_service.fhir.record import PatientRecord
from cds_service.fhir.valuesets import ValueSets
from cds_service.pathway.facts import ClinicalFacts

CURRENT_THERAPY_STATUS = "active"


def extract_facts(record: PatientRecord, now: datetime, value_sets: ValueSets) -> ClinicalFacts:
    context = ExtractionContext(record, value_sets)
    facts = ClinicalFacts(now=now, unreadable=frozenset(record.unreadable))
    _patient(record.patient, facts)

    conditions = read_conditions(context)
    add_condition_facts(context, conditions, facts)
    masses = mass_readings(context, conditions)
    observed_natures = read_observations(context, facts, {m.ref for m in masses})
    read_diagnostic_reports(context, facts)
    read_imaging_studies(context, facts)
    read_procedures(context, facts)
    add_contextual_condition_facts(context, conditions, facts)
    add_masses(masses, nature_candidates_from_conditions(context, conditions, masses) + observed_natures, facts)
    _medications(context, facts)

    _note_skipped(record, context.validator.failed_types)
    _sort_newest_first(facts)
    return facts


def _patient(patient: dict | None, facts: ClinicalFacts) -> None:
    if isinstance(patient, dict):
        facts.patient_ref = reference_of({**patient, "resourceType": "Patient"})
        facts.gender = str(patient.get("gender") or "")


def _medications(context: ExtractionContext, facts: ClinicalFacts) -> None:
    readers = (("MedicationRequest", _request_date), ("MedicationStatement", _statement_date))
    for resource_type, date_of in readers:
        for resource in context.resources(resource_type):
            if resource.get("status") != CURRENT_THERAPY_STATUS:
                continue
            found = medications_of(
                resource, reference_of(resource), date_of(resource), context.value_sets,
                find_medication=context.find_valid, find_condition=context.find,
            )
            if found and context.validator.is_valid(resource):
                facts.medications.extend(found)


def _request_date(resource: dict) -> datetime | None:
    return first_date(resource.get("authoredOn"))


def _statement_date(resource: dict) -> datetime | None:
    return first_date(resource.get("effectiveDateTime"), period_start(resource.get("effectivePeriod")),
                      resource.get("dateAsserted"))


def _note_skipped(record: PatientRecord, failed_types: set[str]) -> None:
    """Tell the reader of the record (PHI-free) that some resources were not valid FHIR and were skipped."""
    for resource_type in sorted(failed_types):
        note = f"Some {resource_type} resources were not valid FHIR R4 and were skipped."
        if note not in record.notes:
            record.notes.append(note)


def _newest_first(item: object) -> tuple[bool, float]:
    evidence = item[0] if isinstance(item, tuple) else getattr(item, "evidence", item)
    when = getattr(evidence, "when", None)
    return (when is None, -when.timestamp() if when else 0.0)


def _sort_newest_first(facts: ClinicalFacts) -> None:
    for value in vars(facts).values():
        if isinstance(value, list):
            value.sort(key=_newest_first)
