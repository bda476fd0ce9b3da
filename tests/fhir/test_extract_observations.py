"""Observations → facts: labs, vital signs, venous studies, waveform, compression, IVUS, lesion behaviour."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from cds_service.fhir.valuesets import LOCAL, LOINC, SNOMED
from cds_service.pathway.facts import (
    DuplexExtent,
    ImagingKind,
    LesionBehavior,
    ResultStatus,
    Side,
    ThrombusResult,
    Waveform,
)


def c(system: str, code: str) -> dict:
    return {"system": system, "code": code}


LN, SCT, LOC = (lambda code: c(LOINC, code)), (lambda code: c(SNOMED, code)), (lambda code: c(LOCAL, code))
IVUS = {"coding": [SCT("241466007")]}
CT_VENOGRAPHY = {"coding": [LOC("ct-venography")]}
MR_VENOGRAPHY = {"coding": [LOC("mr-venography")]}
EXTERNAL_ILIAC_VEIN = {"coding": [SCT("63507001")]}


def q(value, unit):
    return {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}


# ---------------------------------------------------------------- labs and vital signs

@pytest.mark.parametrize("code, value, attribute, expected", [
    ("29463-7", q(80, "kg"), "weight", 80.0),
    ("3141-9", q(80000, "g"), "weight", 80.0),
    ("29463-7", q(176, "[lb_av]"), "weight", 176 * 0.45359237),
    ("98979-8", q(29, "mL/min/{1.73_m2}"), "egfr", 29.0),
    ("33914-3", q(30, "mL/min/{1.73_m2}"), "egfr", 30.0),
    ("1751-7", q(2.5, "g/dL"), "albumin", 2.5),
    ("61152-5", q(24.9, "g/L"), "albumin", 2.49),
    ("2885-2", q(50, "g/L"), "total_protein", 5.0),
    ("2885-2", q(4.9, "g/dL"), "total_protein", 4.9),
    ("777-3", q(25, "10*3/uL"), "platelets", 25.0),
    ("26515-7", q(24900, "/uL"), "platelets", 24.9),
    ("777-3", q(50, "K/uL"), "platelets", 50.0),
    ("8480-6", q(89.9, "mm[Hg]"), "systolic_bp", 89.9),
    ("8480-6", q(90, "mm[Hg]"), "systolic_bp", 90.0),
])
def test_labs_are_converted_to_the_contract_unit(fhir, facts_of, code, value, attribute, expected):
    found = getattr(facts_of(fhir.observation(LN(code), value_quantity=value)), attribute)
    assert [m.value for m in found] == [pytest.approx(expected, rel=1e-12)]


@pytest.mark.parametrize("code, value, attribute", [
    ("29463-7", q(80, "[stone_av]"), "weight"),
    ("1751-7", q(35, "umol/L"), "albumin"),
    ("777-3", q(25, "cells"), "platelets"),
    ("8480-6", q(12, "kPa"), "systolic_bp"),
    ("98979-8", {"value": 45}, "egfr"),
    ("777-3", None, "platelets"),
])
def test_a_value_that_cannot_be_read_is_unknown_not_absent(fhir, facts_of, code, value, attribute):
    found = getattr(facts_of(fhir.observation(LN(code), value_quantity=value)), attribute)
    assert len(found) == 1 and found[0].value is None


def test_measurement_evidence_shows_the_value_as_recorded(fhir, facts_of):
    resource = fhir.observation(LN("777-3"), text="Platelets", value_quantity=q(40, "10*3/uL"))
    [platelets] = facts_of(resource).platelets
    assert platelets.evidence.display == "Platelets 40 10*3/uL"
    assert platelets.unit == "10*3/uL"
    assert platelets.evidence.ref == f"Observation/{resource['id']}"


def test_systolic_pressure_as_a_component_of_the_bp_panel(fhir, facts_of):
    panel = fhir.observation(LN("85354-9"), components=[
        {"code": {"coding": [LN("8480-6")]}, "valueQuantity": q(85, "mm[Hg]")},
        {"code": {"coding": [LN("8462-4")]}, "valueQuantity": q(50, "mm[Hg]")},
    ])
    assert [m.value for m in facts_of(panel).systolic_bp] == [85.0]


def test_an_irrelevant_observation_with_a_systolic_component_is_ignored(fhir, facts_of):
    other = fhir.observation(LN("55284-4"), components=[{"code": {"coding": [LN("8480-6")]},
                                                         "valueQuantity": q(85, "mm[Hg]")}])
    assert facts_of(other).systolic_bp == []


@pytest.mark.parametrize("status, expected", [
    ("final", ResultStatus.FINAL), ("amended", ResultStatus.FINAL), ("corrected", ResultStatus.FINAL),
    ("preliminary", ResultStatus.PRELIMINARY), ("registered", None), ("cancelled", None),
    ("entered-in-error", None),
])
def test_observation_status(fhir, facts_of, status, expected):
    found = facts_of(fhir.observation(LN("777-3"), status=status, value_quantity=q(100, "10*3/uL"))).platelets
    assert [m.status for m in found] == ([expected] if expected else [])


def test_observation_dates_and_newest_first(fhir, facts_of):
    facts = facts_of(
        fhir.observation(LN("777-3"), id="a", value_quantity=q(100, "10*3/uL"), effective="2025-02-01T10:00:00Z"),
        fhir.observation(LN("777-3"), id="b", value_quantity=q(90, "10*3/uL"), effective=None,
                         effectivePeriod={"start": "2025-02-03T10:00:00+01:00"}),
        fhir.observation(LN("777-3"), id="c", value_quantity=q(80, "10*3/uL"), effective=None,
                         issued="2025-02-02T10:00:00Z"),
        fhir.observation(LN("777-3"), id="d", value_quantity=q(70, "10*3/uL"), effective=None),
    )
    assert [(m.evidence.ref, m.evidence.when) for m in facts.platelets] == [
        ("Observation/b", datetime(2025, 2, 3, 9, 0, tzinfo=timezone.utc)),
        ("Observation/c", datetime(2025, 2, 2, 10, 0, tzinfo=timezone.utc)),
        ("Observation/a", datetime(2025, 2, 1, 10, 0, tzinfo=timezone.utc)),
        ("Observation/d", None),
    ]


# ---------------------------------------------------------------- venous duplex (Observation)

@pytest.mark.parametrize("value, expected", [
    (LOC("thrombus-present"), ThrombusResult.PRESENT), (LOC("thrombus-absent"), ThrombusResult.ABSENT),
    (LOC("thrombus-chronic"), ThrombusResult.CHRONIC), (SCT("128053003"), ThrombusResult.PRESENT),
    (SCT("404223003"), ThrombusResult.PRESENT), (SCT("17621005"), ThrombusResult.UNREADABLE),
])
def test_duplex_result(fhir, facts_of, value, expected):
    duplex = fhir.observation(LOC("venous-duplex-result"), value_concept={"coding": [value]})
    facts = facts_of(duplex)
    assert [s.result for s in facts.duplex_results] == [expected]
    assert [i.kind for i in facts.imaging] == [ImagingKind.LEG_DUPLEX]


def test_duplex_observation_without_a_value_is_unreadable(fhir, facts_of):
    assert [s.result for s in facts_of(fhir.observation(LOC("venous-duplex-result"))).duplex_results] == [
        ThrombusResult.UNREADABLE]


@pytest.mark.parametrize("extra, expected", [
    ({"method": {"coding": [LOC("whole-leg")]}}, DuplexExtent.WHOLE_LEG),
    ({"method": {"coding": [LOC("femoropopliteal")]}}, DuplexExtent.LIMITED),
    ({"components": [{"code": {"coding": [LOC("femoropopliteal")]}}]}, DuplexExtent.LIMITED),
    ({"components": [{"code": {"coding": [LOC("whole-leg")]}}]}, DuplexExtent.WHOLE_LEG),
    ({"study": LN("39432-0")}, DuplexExtent.WHOLE_LEG),
    ({"study": LN("69399-4")}, DuplexExtent.LIMITED),
    ({"study": LN("80860-0")}, DuplexExtent.LIMITED),
    ({}, DuplexExtent.UNKNOWN),
    ({"study": LN("69399-4"), "method": {"coding": [LOC("whole-leg")]}}, DuplexExtent.WHOLE_LEG),  # method wins
])
def test_duplex_extent(fhir, facts_of, extra, expected):
    extra = dict(extra)
    codes = [LOC("venous-duplex-result")] + ([extra.pop("study")] if "study" in extra else [])
    duplex = fhir.observation(*codes, value_concept={"coding": [LOC("thrombus-absent")]}, **extra)
    assert [s.extent for s in facts_of(duplex).duplex_results] == [expected]


@pytest.mark.parametrize("study, body_site, expected", [
    (LN("39432-0"), None, Side.LEFT), (LN("69392-9"), None, Side.LEFT), (LN("39443-7"), None, Side.RIGHT),
    (LN("39420-5"), None, Side.BOTH), (LN("30881-7"), None, Side.UNKNOWN),
    (None, {"coding": [SCT("32153003")]}, Side.LEFT), (None, {"coding": [SCT("62175007")]}, Side.RIGHT),
    (None, None, Side.UNKNOWN),
])
def test_duplex_side(fhir, facts_of, study, body_site, expected):
    codes = [LOC("venous-duplex-result")] + ([study] if study else [])
    duplex = fhir.observation(*codes, body_site=body_site, value_concept={"coding": [LOC("thrombus-absent")]})
    assert [s.side for s in facts_of(duplex).duplex_results] == [expected]


def test_preliminary_duplex_keeps_its_status(fhir, facts_of):
    duplex = fhir.observation(LOC("venous-duplex-result"), status="preliminary",
                              value_concept={"coding": [LOC("thrombus-present")]})
    assert [s.status for s in facts_of(duplex).duplex_results] == [ResultStatus.PRELIMINARY]


# ---------------------------------------------------------------- pelvic venography, waveform, persisting swelling

@pytest.mark.parametrize("method, name, kind", [
    (CT_VENOGRAPHY, "ct-venography", ImagingKind.CT_VENOGRAPHY_PELVIS),
    (MR_VENOGRAPHY, "mr-venography", ImagingKind.MR_VENOGRAPHY_PELVIS),
])
def test_pelvic_venography_observation(fhir, facts_of, method, name, kind):
    study = fhir.observation(LOC("pelvic-venography-result"), method=method,
                             value_concept={"coding": [LOC("thrombus-absent")]}, effective="2025-02-11")
    facts = facts_of(study)
    assert [(s.result, s.method) for s in facts.pelvic_venography] == [(ThrombusResult.ABSENT, name)]
    assert [(i.kind, i.evidence.when) for i in facts.imaging] == [(kind, datetime(2025, 2, 11, tzinfo=timezone.utc))]


def test_pelvic_venography_without_method_is_a_result_but_no_imaging_kind(fhir, facts_of):
    facts = facts_of(fhir.observation(LOC("pelvic-venography-result"), value_concept={"coding": [LOC("thrombus-present")]}))
    assert [(s.result, s.method) for s in facts.pelvic_venography] == [(ThrombusResult.PRESENT, "")]
    assert facts.imaging == []


@pytest.mark.parametrize("value, expected", [
    ("phasic", Waveform.PHASIC), ("non-phasic", Waveform.NON_PHASIC), ("absent", Waveform.ABSENT),
    ("pulsatile", Waveform.PULSATILE),
])
def test_cfv_waveform(fhir, facts_of, value, expected):
    waveform = fhir.observation(LOC("cfv-doppler-waveform"), value_concept={"coding": [LOC(value)]},
                                body_site={"coding": [SCT("397363009"), SCT("7771000")]})
    assert [(w.value, w.side) for w in facts_of(waveform).cfv_waveforms] == [(expected, Side.LEFT)]


def test_cfv_waveform_with_an_unknown_value_is_not_a_fact(fhir, facts_of):
    assert facts_of(fhir.observation(LOC("cfv-doppler-waveform"), value_concept={"text": "odd"})).cfv_waveforms == []


@pytest.mark.parametrize("value, count", [(True, 1), (False, 0), (None, 0)])
def test_persisting_swelling(fhir, facts_of, value, count):
    observation = fhir.observation(LOC("whole-leg-swelling-persistent"), value_boolean=value)
    assert len(facts_of(observation).persisting_swelling) == count


# ---------------------------------------------------------------- compression, IVUS, reference diameter

@pytest.mark.parametrize("value", [61, 61.1, 60.9])
def test_ivus_stenosis_is_passed_through_without_rounding(fhir, facts_of, value):
    facts = facts_of(fhir.observation(LOC("ivus-diameter-stenosis"), value_quantity=q(value, "%")))
    assert [m.value for m in facts.ivus_stenosis] == [float(value)]
    assert [i.kind for i in facts.imaging] == [ImagingKind.IVUS]


def test_ivus_stenosis_in_an_unknown_unit_is_unknown_but_still_ivus_evidence(fhir, facts_of):
    facts = facts_of(fhir.observation(LOC("ivus-diameter-stenosis"), value_quantity=q(0.7, "1")))
    assert [m.value for m in facts.ivus_stenosis] == [None]
    assert [i.kind for i in facts.imaging] == [ImagingKind.IVUS]


def test_snomed_diameter_stenosis_by_method(fhir, facts_of):
    stenosis = SCT("408715008")
    by_ivus = facts_of(fhir.observation(stenosis, method=IVUS, value_quantity=q(70, "%")))
    assert [m.value for m in by_ivus.ivus_stenosis] == [70.0] and by_ivus.ct_compression == []
    for method in (CT_VENOGRAPHY, MR_VENOGRAPHY):
        by_ct = facts_of(fhir.observation(stenosis, method=method, value_quantity=q(70, "%")))
        assert [m.value for m in by_ct.ct_compression] == [70.0] and by_ct.ivus_stenosis == []
    no_method = facts_of(fhir.observation(stenosis, value_quantity=q(70, "%")))
    assert no_method.ivus_stenosis == [] and no_method.ct_compression == [] and no_method.imaging == []


def test_ct_compression_local_code(fhir, facts_of):
    facts = facts_of(fhir.observation(LOC("ct-compression-percent"), value_quantity=q(55, "%")))
    assert [m.value for m in facts.ct_compression] == [55.0] and facts.ivus_stenosis == []


@pytest.mark.parametrize("value, expected", [(q(14, "mm"), 14.0), (q(1.4, "cm"), 14.0), (q(14, "px"), None)])
def test_eiv_reference_diameter_local_code(fhir, facts_of, value, expected):
    facts = facts_of(fhir.observation(LOC("eiv-reference-diameter"), value_quantity=value))
    assert [m.value for m in facts.eiv_reference_diameter] == [expected]
    assert [i.kind for i in facts.imaging] == [ImagingKind.IVUS]


def test_vessel_diameter_is_the_eiv_reference_only_at_the_eiv_by_ivus(fhir, facts_of):
    diameter = SCT("397413000")
    ok = fhir.observation(diameter, method=IVUS, body_site=EXTERNAL_ILIAC_VEIN, value_quantity=q(13, "mm"))
    assert [m.value for m in facts_of(ok).eiv_reference_diameter] == [13.0]
    no_ivus = fhir.observation(diameter, body_site=EXTERNAL_ILIAC_VEIN, value_quantity=q(13, "mm"))
    assert facts_of(no_ivus).eiv_reference_diameter == []
    other_vein = fhir.observation(diameter, method=IVUS, body_site={"coding": [SCT("46027005")]},
                                  value_quantity=q(13, "mm"))
    assert facts_of(other_vein).eiv_reference_diameter == []


@pytest.mark.parametrize("value, expected", [("fixed", LesionBehavior.FIXED), ("dynamic", LesionBehavior.DYNAMIC)])
def test_lesion_behavior(fhir, facts_of, value, expected):
    facts = facts_of(fhir.observation(LOC("lesion-behavior"), value_concept={"coding": [LOC(value)]}))
    assert [b for _, b in facts.lesion_behavior] == [expected]


@pytest.mark.parametrize("value", [{"value": 5, "code": ["mm"]}, {"value": 5, "unit": {"x": 1}}, {"value": [5], "code": "%"},
                                   "55 %", 55])
def test_a_malformed_quantity_is_skipped_and_never_raises(fhir, value_sets, value):
    from cds_service.fhir.extract import extract_facts

    resource = fhir.observation(LOC("ivus-diameter-stenosis"), valueQuantity=value)
    facts = extract_facts(fhir.record(resource), fhir.NOW, value_sets)
    assert facts.ivus_stenosis == []  # not valid FHIR: skipped by validation, and nothing raised on the way
