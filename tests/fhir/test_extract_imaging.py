"""Imaging done, venous study reports and iliac venous stents (DATA-CONTRACT "Imaging done")."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from cds_service.fhir.valuesets import CPT, ICD10CM, LOCAL, LOINC, SNOMED
from cds_service.pathway.facts import DuplexExtent, ImagingKind, ResultStatus, Side, ThrombusResult


def c(system: str, code: str) -> dict:
    return {"system": system, "code": code}


LN, SCT, LOC, CP = (lambda x: c(LOINC, x)), (lambda x: c(SNOMED, x)), (lambda x: c(LOCAL, x)), (lambda x: c(CPT, x))
ICD = lambda x: c(ICD10CM, x)  # noqa: E731

IMAGING_ROWS = [
    (CP("93970"), ImagingKind.LEG_DUPLEX), (CP("93971"), ImagingKind.LEG_DUPLEX), (LN("39432-0"), ImagingKind.LEG_DUPLEX),
    (CP("93978"), ImagingKind.ILIOCAVAL_DUPLEX), (CP("93979"), ImagingKind.ILIOCAVAL_DUPLEX),
    (LN("39497-3"), ImagingKind.ILIOCAVAL_DUPLEX),
    (CP("74174"), ImagingKind.CT_VENOGRAPHY_PELVIS), (CP("72191"), ImagingKind.CT_VENOGRAPHY_PELVIS),
    (SCT("431676002"), ImagingKind.CT_VENOGRAPHY_PELVIS), (SCT("709767008"), ImagingKind.CT_VENOGRAPHY_PELVIS),
    (CP("72198"), ImagingKind.MR_VENOGRAPHY_PELVIS), (CP("74185"), ImagingKind.MR_VENOGRAPHY_PELVIS),
    (LN("36789-6"), ImagingKind.MR_VENOGRAPHY_PELVIS),
    (CP("73706"), ImagingKind.LEG_CT_MR_VENOGRAPHY), (CP("73725"), ImagingKind.LEG_CT_MR_VENOGRAPHY),
    (SCT("772247005"), ImagingKind.LEG_CT_MR_VENOGRAPHY), (LN("36416-6"), ImagingKind.LEG_CT_MR_VENOGRAPHY),
    (CP("74177"), ImagingKind.CONTRAST_CT_MRI_ABDOMEN_PELVIS), (CP("72197"), ImagingKind.CONTRAST_CT_MRI_ABDOMEN_PELVIS),
    (CP("74183"), ImagingKind.CONTRAST_CT_MRI_ABDOMEN_PELVIS), (SCT("433138001"), ImagingKind.CONTRAST_CT_MRI_ABDOMEN_PELVIS),
    (CP("37252"), ImagingKind.IVUS), (CP("37253"), ImagingKind.IVUS), (SCT("241466007"), ImagingKind.IVUS),
]
IDS = [f"{row[0]['code']}->{row[1].value}" for row in IMAGING_ROWS]


@pytest.mark.parametrize("code, kind", IMAGING_ROWS, ids=IDS)
def test_imaging_study_procedure_codes(fhir, facts_of, code, kind):
    study = fhir.imaging_study(code, started="2025-02-12T09:00:00Z")
    assert [(i.kind, i.evidence.ref, i.evidence.when) for i in facts_of(study).imaging] == [
        (kind, f"ImagingStudy/{study['id']}", datetime(2025, 2, 12, 9, 0, tzinfo=timezone.utc))]


@pytest.mark.parametrize("code, kind", IMAGING_ROWS, ids=IDS)
def test_completed_procedure_codes(fhir, facts_of, code, kind):
    done = fhir.procedure(code, performed=None, performed_period_start="2024-12-01T08:00:00Z")
    assert [(i.kind, i.evidence.when) for i in facts_of(done).imaging] == [
        (kind, datetime(2024, 12, 1, 8, 0, tzinfo=timezone.utc))]


@pytest.mark.parametrize("code, kind", IMAGING_ROWS, ids=IDS)
def test_diagnostic_report_codes(fhir, facts_of, code, kind):
    assert [i.kind for i in facts_of(fhir.report(code)).imaging] == [kind]


@pytest.mark.parametrize("status", ["registered", "unknown", "cancelled", "entered-in-error"])
def test_imaging_study_must_be_available(fhir, facts_of, status):
    assert facts_of(fhir.imaging_study(CP("74174"), status=status)).imaging == []


@pytest.mark.parametrize("status", ["preparation", "in-progress", "not-done", "stopped", "entered-in-error"])
def test_procedure_must_be_completed(fhir, facts_of, status):
    assert facts_of(fhir.procedure(CP("37252"), status=status)).imaging == []


def test_ivus_modality_alone_is_ivus(fhir, facts_of):
    assert [i.kind for i in facts_of(fhir.imaging_study(modality="IVUS")).imaging] == [ImagingKind.IVUS]
    assert [i.kind for i in facts_of(fhir.imaging_study(series_modality="IVUS")).imaging] == [ImagingKind.IVUS]


def test_a_plain_venogram_is_not_ivus(fhir, facts_of):
    assert facts_of(fhir.procedure(CP("75820")), fhir.imaging_study(modality="XA")).imaging == []


def test_imaging_study_side_from_series_laterality(fhir, facts_of):
    study = fhir.imaging_study(CP("93971"), series_modality="US", series_laterality=SCT("7771000"))
    assert [i.side for i in facts_of(study).imaging] == [Side.LEFT]


# ---------------------------------------------------------------- duplex and pelvic venography reports

@pytest.mark.parametrize("conclusion, expected", [
    ([LOC("thrombus-present")], ThrombusResult.PRESENT), ([SCT("128053003")], ThrombusResult.PRESENT),
    ([LOC("thrombus-absent")], ThrombusResult.ABSENT), ([LOC("thrombus-chronic")], ThrombusResult.CHRONIC),
    (None, ThrombusResult.UNREADABLE), ([SCT("17621005")], ThrombusResult.UNREADABLE),
])
def test_duplex_report_result_from_its_conclusion_code(fhir, facts_of, conclusion, expected):
    facts = facts_of(fhir.report(LN("39432-0"), conclusion=conclusion))
    assert [(s.result, s.side, s.extent) for s in facts.duplex_results] == [(expected, Side.LEFT, DuplexExtent.WHOLE_LEG)]
    assert [i.kind for i in facts.imaging] == [ImagingKind.LEG_DUPLEX]


def test_unreadable_duplex_report_says_so(fhir, facts_of):
    [duplex] = facts_of(fhir.report(CP("93971"))).duplex_results
    assert duplex.result is ThrombusResult.UNREADABLE
    assert duplex.extent is DuplexExtent.UNKNOWN  # 93971 alone: unilateral or limited
    assert "not coded" in duplex.evidence.display


@pytest.mark.parametrize("code, extent", [(LN("69399-4"), DuplexExtent.LIMITED), (CP("93970"), DuplexExtent.WHOLE_LEG),
                                          (LN("39420-5"), DuplexExtent.WHOLE_LEG)])
def test_duplex_report_extent_from_its_code(fhir, facts_of, code, extent):
    facts = facts_of(fhir.report(code, conclusion=[LOC("thrombus-absent")]))
    assert [s.extent for s in facts.duplex_results] == [extent]


@pytest.mark.parametrize("status, expected", [
    ("final", ResultStatus.FINAL), ("amended", ResultStatus.FINAL), ("corrected", ResultStatus.FINAL),
    ("appended", ResultStatus.FINAL), ("preliminary", ResultStatus.PRELIMINARY), ("partial", ResultStatus.PRELIMINARY),
    ("registered", None), ("cancelled", None), ("entered-in-error", None),
])
def test_report_status(fhir, facts_of, status, expected):
    facts = facts_of(fhir.report(LN("39432-0"), status=status, conclusion=[LOC("thrombus-absent")]))
    assert [s.status for s in facts.duplex_results] == ([expected] if expected else [])


def test_report_date_effective_else_issued(fhir, facts_of):
    facts = facts_of(fhir.report(LN("39432-0"), effective=None, issued="2025-02-14T16:00:00Z",
                                 conclusion=[LOC("thrombus-absent")]))
    assert [s.evidence.when for s in facts.duplex_results] == [datetime(2025, 2, 14, 16, 0, tzinfo=timezone.utc)]


@pytest.mark.parametrize("code, method", [(CP("74174"), "ct-venography"), (SCT("431676002"), "ct-venography"),
                                          (CP("72198"), "mr-venography"), (LN("36789-6"), "mr-venography")])
def test_pelvic_venography_report(fhir, facts_of, code, method):
    readable = facts_of(fhir.report(code, conclusion=[LOC("thrombus-absent")]))
    assert [(s.result, s.method) for s in readable.pelvic_venography] == [(ThrombusResult.ABSENT, method)]
    unreadable = facts_of(fhir.report(code))
    assert [s.result for s in unreadable.pelvic_venography] == [ThrombusResult.UNREADABLE]


@pytest.mark.parametrize("code", [CP("74177"), CP("73706"), CP("93979")])
def test_mass_ct_leg_venography_and_iliocaval_duplex_are_not_pelvic_venography_results(fhir, facts_of, code):
    facts = facts_of(fhir.report(code, conclusion=[LOC("thrombus-absent")]))
    assert facts.pelvic_venography == [] and facts.duplex_results == [] and len(facts.imaging) == 1


# ---------------------------------------------------------------- iliac venous stent placed

@pytest.mark.parametrize("code", [CP("37238"), CP("37239"), SCT("103716009")])
def test_stent_procedure_with_an_iliac_context(fhir, facts_of, code):
    assert facts_of(fhir.procedure(code)).stents == []
    assert facts_of(fhir.procedure(code, text="SVC stent placement")).stents == []
    for text in ("Left CIV stent", "EIV stenting", "Stent for May-Thurner syndrome", "Iliac vein stent"):
        stents = facts_of(fhir.procedure(code, text=text, performed="2024-11-05T10:00:00Z")).stents
        assert [s.placed for s in stents] == [datetime(2024, 11, 5, 10, 0, tzinfo=timezone.utc)], text
    by_site = facts_of(fhir.procedure(code, body_site=[{"coding": [SCT("63507001")]}])).stents
    assert len(by_site) == 1
    with_swelling = facts_of(fhir.procedure(code), fhir.condition(ICD("R22.42"))).stents
    assert len(with_swelling) == 1


def test_civ_must_be_a_whole_word(fhir, facts_of):
    assert facts_of(fhir.procedure(CP("37238"), text="Stent, civilian hospital")).stents == []


def test_a_stent_procedure_not_completed_is_not_a_stent(fhir, facts_of):
    assert facts_of(fhir.procedure(CP("37238"), text="iliac stent", status="in-progress")).stents == []
