"""Imaging done, venous study reports and stents (DATA-CONTRACT "Imaging done", "Observations and reports").

- ImagingStudy: status available, dated by `started`; codes in `procedureCode`, `modality`, `series.modality`.
- DiagnosticReport: final / amended / corrected / appended (FINAL), preliminary / partial (PRELIMINARY);
  dated by effectiveDateTime (or effectivePeriod.start), else issued. A duplex or pelvic venography
  report is also a result, read from `conclusionCode`; with no coded conclusion it is UNREADABLE.
- Procedure: status completed, dated by performedDateTime or performedPeriod.start. A stent
  procedure (CPT 37238 / 37239, SNOMED 103716009) counts with an iliac context only.
"""
from __future__ import annotations

from cds_service.fhir.dates import first_date, period_start
from cds_service.fhir.extract_conditions import is_iliac_context, side_in_words
from cds_service.fhir.extract_context import ExtractionContext, evidence
from cds_service.fhir.extract_observations import (
    duplex_extent_of_study,
    effective_date,
    result_status,
    thrombus_result_of,
)
from cds_service.fhir.fhir_json import (
    all_codings,
    body_site_codings,
    codings,
    label,
    note_texts,
    objects,
    side_of,
    texts,
)
from cds_service.pathway.facts import (
    ClinicalFacts,
    ImagingDone,
    ImagingKind,
    ResultStatus,
    Side,
    StentRecord,
    VenousStudy,
)

IMAGING_SETS = (
    ("imaging-leg-duplex", ImagingKind.LEG_DUPLEX),
    ("imaging-iliocaval-duplex", ImagingKind.ILIOCAVAL_DUPLEX),
    ("imaging-ct-venography-pelvis", ImagingKind.CT_VENOGRAPHY_PELVIS),
    ("imaging-mr-venography-pelvis", ImagingKind.MR_VENOGRAPHY_PELVIS),
    ("imaging-leg-ct-mr-venography", ImagingKind.LEG_CT_MR_VENOGRAPHY),
    ("imaging-contrast-ct-mri-abdomen-pelvis", ImagingKind.CONTRAST_CT_MRI_ABDOMEN_PELVIS),
    ("imaging-ivus", ImagingKind.IVUS),
    ("imaging-mass-study-in-pregnancy", ImagingKind.MASS_STUDY_IN_PREGNANCY),
)
PELVIC_VENOGRAPHY_METHODS = {
    ImagingKind.CT_VENOGRAPHY_PELVIS: "ct-venography",
    ImagingKind.MR_VENOGRAPHY_PELVIS: "mr-venography",
}
# "appended" is a final report with an addendum; "partial" is the R4 parent of "preliminary".
REPORT_FINAL = {"final", "amended", "corrected", "appended"}
REPORT_PRELIMINARY = {"preliminary", "partial"}


def imaging_kinds(context: ExtractionContext, codings_: list[dict]) -> list[ImagingKind]:
    return [kind for value_set_id, kind in IMAGING_SETS if context.match(value_set_id, codings_)]


# ---------------------------------------------------------------- ImagingStudy

def read_imaging_studies(context: ExtractionContext, facts: ClinicalFacts) -> None:
    for resource in context.resources("ImagingStudy"):
        procedure = all_codings(objects(resource.get("procedureCode")))
        series = objects(resource.get("series"))
        modalities = [c for m in objects(resource.get("modality")) + [s.get("modality") for s in series]
                      for c in codings(m)]
        kinds = imaging_kinds(context, procedure + modalities)
        if not kinds or resource.get("status") != "available" or not context.validator.is_valid(resource):
            continue
        site = [c for s in series for k in ("bodySite", "laterality") for c in codings(s.get(k))]
        side = side_of(procedure + site, context.value_sets)
        when = first_date(resource.get("started"))
        concept = (objects(resource.get("procedureCode")) or [{"text": resource.get("description") or ""}])[0]
        for kind in kinds:
            facts.imaging.append(ImagingDone(evidence(resource, concept, when), kind, side))


# ---------------------------------------------------------------- DiagnosticReport

def report_status(resource: dict) -> ResultStatus | None:
    return result_status(resource, REPORT_FINAL, REPORT_PRELIMINARY)


def read_diagnostic_reports(context: ExtractionContext, facts: ClinicalFacts) -> None:
    for resource in context.resources("DiagnosticReport"):
        code = codings(resource.get("code"))
        kinds = imaging_kinds(context, code)
        is_duplex = bool(context.match("venous-duplex-study", code))
        if not (kinds or is_duplex):
            continue
        status = report_status(resource)
        if status is None or not context.validator.is_valid(resource):
            continue
        when = effective_date(resource)
        side = side_of(code, context.value_sets)
        for kind in kinds:
            facts.imaging.append(ImagingDone(evidence(resource, resource.get("code"), when), kind, side))
        conclusion = all_codings(objects(resource.get("conclusionCode")))
        result = thrombus_result_of(context, conclusion)
        shown = _report_display(resource, conclusion)
        if is_duplex:
            facts.duplex_results.append(VenousStudy(
                evidence(resource, {"text": shown}, when), result, status, side,
                extent=duplex_extent_of_study(context, code),
            ))
        for kind, method in PELVIC_VENOGRAPHY_METHODS.items():
            if kind in kinds:
                facts.pelvic_venography.append(VenousStudy(
                    evidence(resource, {"text": shown}, when), result, status, side, method=method,
                ))


def _report_display(resource: dict, conclusion: list[dict]) -> str:
    name = label(resource.get("code")) or "report"
    concluded = next((c["display"] for c in conclusion if isinstance(c.get("display"), str)), None)
    concluded = concluded or (conclusion[0].get("code") if conclusion else None)
    return f"{name}: {concluded}" if concluded else f"{name}: result not coded"


# ---------------------------------------------------------------- Procedure

def read_procedures(context: ExtractionContext, facts: ClinicalFacts) -> None:
    swelling_on_record = bool(facts.swellings or facts.past_swellings or facts.persisting_swelling)
    for resource in context.resources("Procedure"):
        code = codings(resource.get("code"))
        kinds = imaging_kinds(context, code)
        stent = context.match("iliac-stent-procedure", code)
        if not (kinds or stent):
            continue
        if resource.get("status") != "completed" or not context.validator.is_valid(resource):
            continue
        when = first_date(resource.get("performedDateTime"), period_start(resource.get("performedPeriod")))
        site = body_site_codings(resource.get("bodySite"))
        side = side_of(code + site, context.value_sets)
        for kind in kinds:
            facts.imaging.append(ImagingDone(evidence(resource, resource.get("code"), when), kind, side))
        if stent and is_iliac_context(context, site, _procedure_words(resource), swelling_on_record):
            stent_side = side_of(site, context.value_sets)
            if stent_side == Side.UNKNOWN:
                stent_side = side_in_words(_stent_side_words(resource))
            facts.stents.append(
                StentRecord(evidence(resource, resource.get("code"), when, stent), placed=when, side=stent_side)
            )


def _stent_side_words(resource: dict) -> list[str]:
    """Where a stent's side may be written: the code's and the body sites' texts (not free notes)."""
    return texts(resource.get("code")) + [t for site in objects(resource.get("bodySite")) for t in texts(site)]


def _procedure_words(resource: dict) -> list[str]:
    found = texts(resource.get("code")) + note_texts(resource)
    for element in ("bodySite", "reasonCode"):
        found += [t for concept in objects(resource.get(element)) for t in texts(concept)]
    return found
