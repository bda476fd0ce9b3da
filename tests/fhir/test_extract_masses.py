"""Iliac / pelvic masses and their nature (DATA-CONTRACT mass rows and the mass-nature paragraph)."""
from __future__ import annotations

import pytest

from cds_service.fhir.valuesets import ICD10CM, LOCAL, SNOMED
from cds_service.pathway.facts import MassNature, Verification

PELVIS = {"coding": [{"system": SNOMED, "code": "12921003"}]}
RETROPERITONEUM = {"coding": [{"system": SNOMED, "code": "82849001"}]}
INGUINAL_NODE = {"coding": [{"system": SNOMED, "code": "8928004"}]}
NECK = {"coding": [{"system": SNOMED, "code": "45048000", "display": "Neck structure"}]}


def c(system: str, code: str) -> dict:
    return {"system": system, "code": code}


SCT, ICD, LOC = (lambda code: c(SNOMED, code)), (lambda code: c(ICD10CM, code)), (lambda code: c(LOCAL, code))


@pytest.mark.parametrize("code", [SCT("74285003"), SCT("69559004"), SCT("127154008"), ICD("R19.00"), ICD("R19.04"),
                                  ICD("R19.09"), LOC("iliac-mass")])
def test_mass_codes(fhir, facts_of, code):
    mass = fhir.condition(code, onset=None, recorded="2025-01-20")
    assert [m.evidence.ref for m in facts_of(mass).masses] == [f"Condition/{mass['id']}"]


def test_only_active_confirmed_masses_count(fhir, facts_of):
    facts = facts_of(fhir.condition(SCT("74285003"), clinical="resolved"),
                     fhir.condition(SCT("74285003"), verification="provisional"))
    assert facts.masses == []


@pytest.mark.parametrize("code, nature", [
    (ICD("C77.5"), MassNature.MALIGNANCY), (SCT("422853008"), MassNature.MALIGNANCY), (ICD("C56.9"), MassNature.MALIGNANCY),
    (ICD("C85.96"), MassNature.MALIGNANCY), (ICD("C61"), MassNature.MALIGNANCY),
    (ICD("K68.12"), MassNature.ABSCESS), (SCT("266463007"), MassNature.ABSCESS),
    (ICD("K68.3"), MassNature.HEMATOMA),
    (LOC("iliopsoas-bursitis"), MassNature.ILIOPSOAS_BURSITIS),
    (LOC("disc-bulge-compression"), MassNature.DISC_BULGE),
    (ICD("D25.9"), MassNature.BENIGN_COMPRESSIVE), (ICD("I72.3"), MassNature.BENIGN_COMPRESSIVE),
    (LOC("benign-compressive-lesion"), MassNature.BENIGN_COMPRESSIVE),
])
def test_site_specific_nature_characterizes_the_only_mass(fhir, facts_of, code, nature):
    mass = fhir.condition(SCT("74285003"))
    cause = fhir.condition(code)
    facts = facts_of(mass, cause)
    assert [(m.nature, m.nature_evidence.ref) for m in facts.masses] == [(nature, f"Condition/{cause['id']}")]
    assert [(f.kind, f.evidence.ref) for f in facts.mass_natures] == [(nature.value, f"Condition/{cause['id']}")]


def test_a_site_specific_nature_is_listed_even_with_no_mass(fhir, facts_of):
    facts = facts_of(fhir.condition(ICD("C77.5")))
    assert facts.masses == []
    assert [f.kind for f in facts.mass_natures] == ["malignancy"]


@pytest.mark.parametrize("code, nature", [
    (SCT("128477000"), MassNature.ABSCESS), (SCT("385494008"), MassNature.HEMATOMA),
    (SCT("81498004"), MassNature.ILIOPSOAS_BURSITIS), (ICD("M70.72"), MassNature.ILIOPSOAS_BURSITIS),
    (ICD("M51.369"), MassNature.DISC_BULGE), (SCT("26538006"), MassNature.DISC_BULGE),
    (ICD("C85.90"), MassNature.MALIGNANCY), (ICD("C79.9"), MassNature.MALIGNANCY),
    (SCT("118601006"), MassNature.MALIGNANCY),
])
def test_generic_nature_counts_with_a_pelvic_site_or_a_link_only(fhir, facts_of, code, nature):
    mass = fhir.condition(SCT("74285003"), id="mass")
    unlinked = facts_of(mass, fhir.condition(code))
    assert unlinked.mass_natures == [] and unlinked.masses[0].nature is None
    elsewhere = facts_of(mass, fhir.condition(code, body_site=[NECK]))
    assert elsewhere.mass_natures == [] and elsewhere.masses[0].nature is None
    for site in (PELVIS, RETROPERITONEUM):
        by_site = facts_of(mass, fhir.condition(code, body_site=[site]))
        assert by_site.masses[0].nature is nature
    linked = facts_of(mass, fhir.condition(code, evidence_detail=["Condition/mass"]))
    assert linked.masses[0].nature is nature
    assert [f.kind for f in linked.mass_natures] == [nature.value]


def test_a_mass_that_names_its_cause_in_its_evidence_is_linked(fhir, facts_of):
    cause = fhir.condition(SCT("385494008"), id="hematoma")
    mass = fhir.condition(SCT("74285003"), evidence_detail=["Condition/hematoma"])
    assert facts_of(mass, cause).masses[0].nature is MassNature.HEMATOMA


def test_r59_lymphadenopathy_needs_a_node_site(fhir, facts_of):
    mass = fhir.condition(SCT("74285003"))
    assert facts_of(mass, fhir.condition(ICD("R59.0"))).masses[0].nature is None
    assert facts_of(mass, fhir.condition(ICD("R59.0"), body_site=[NECK])).masses[0].nature is None
    for site in (PELVIS, RETROPERITONEUM, INGUINAL_NODE):
        assert facts_of(mass, fhir.condition(ICD("R59.0"), body_site=[site])).masses[0].nature is MassNature.LYMPHADENOPATHY


def test_a_mass_coded_with_its_own_nature(fhir, facts_of):
    facts = facts_of(fhir.condition(SCT("127154008"), id="nodes"))
    assert [(m.nature, m.nature_evidence.ref) for m in facts.masses] == [(MassNature.LYMPHADENOPATHY, "Condition/nodes")]


def test_with_two_masses_only_a_linked_nature_characterizes(fhir, facts_of):
    first = fhir.condition(SCT("74285003"), id="m1")
    second = fhir.condition(SCT("69559004"), id="m2")
    unlinked = facts_of(first, second, fhir.condition(ICD("C77.5")))
    assert [m.nature for m in unlinked.masses] == [None, None]
    assert [f.kind for f in unlinked.mass_natures] == ["malignancy"]
    linked = facts_of(first, second, fhir.condition(ICD("C77.5"), evidence_detail=["Condition/m2"]))
    assert {m.evidence.ref: m.nature for m in linked.masses} == {"Condition/m1": None,
                                                                 "Condition/m2": MassNature.MALIGNANCY}


def test_a_provisional_or_resolved_nature_does_not_characterize_but_is_listed(fhir, facts_of):
    mass = fhir.condition(SCT("74285003"))
    facts = facts_of(mass, fhir.condition(ICD("C77.5"), verification="provisional"),
                     fhir.condition(ICD("K68.12"), clinical="resolved"))
    assert facts.masses[0].nature is None
    assert sorted((f.kind, f.verification, f.active) for f in facts.mass_natures) == [
        ("abscess", Verification.CONFIRMED, False), ("malignancy", Verification.PROVISIONAL, True)]


def test_the_newest_linked_nature_wins(fhir, facts_of):
    mass = fhir.condition(SCT("74285003"), id="m")
    facts = facts_of(mass, fhir.condition(ICD("K68.3"), onset="2025-01-01"),
                     fhir.condition(ICD("C77.5"), onset="2025-02-01"))
    assert facts.masses[0].nature is MassNature.MALIGNANCY


# ---------------------------------------------------------------- the mass-nature Observation

@pytest.mark.parametrize("value", [n.value for n in MassNature])
def test_mass_nature_observation_with_focus(fhir, facts_of, value):
    first = fhir.condition(SCT("74285003"), id="m1")
    second = fhir.condition(SCT("74285003"), id="m2")
    nature = fhir.observation(fhir.local("mass-nature"), focus=["Condition/m1"],
                              value_concept={"coding": [LOC(value)]})
    facts = facts_of(first, second, nature)
    assert {m.evidence.ref: m.nature for m in facts.masses} == {"Condition/m1": MassNature(value), "Condition/m2": None}
    assert [f.kind for f in facts.mass_natures] == [value]


def test_non_compressive_is_recorded(fhir, facts_of):
    mass = fhir.condition(SCT("74285003"), id="m1")
    nature = fhir.observation(fhir.local("mass-nature"), focus=["Condition/m1"],
                              value_concept={"coding": [LOC("non-compressive")]})
    assert facts_of(mass, nature).masses[0].nature is MassNature.NON_COMPRESSIVE


def test_preliminary_mass_nature_observation_does_not_characterize(fhir, facts_of):
    mass = fhir.condition(SCT("74285003"), id="m1")
    nature = fhir.observation(fhir.local("mass-nature"), status="preliminary", focus=["Condition/m1"],
                              value_concept={"coding": [LOC("malignancy")]})
    facts = facts_of(mass, nature)
    assert facts.masses[0].nature is None
    assert [f.verification for f in facts.mass_natures] == [Verification.PROVISIONAL]


def test_mass_nature_observation_with_an_unknown_value_is_ignored(fhir, facts_of):
    mass = fhir.condition(SCT("74285003"), id="m1")
    nature = fhir.observation(fhir.local("mass-nature"), focus=["Condition/m1"], value_concept={"text": "cyst?"})
    facts = facts_of(mass, nature)
    assert facts.masses[0].nature is None and facts.mass_natures == []
