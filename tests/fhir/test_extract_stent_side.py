"""A stent's side (DATA-CONTRACT "Side", R2): bodySite / laterality qualifier, else "left" / "right" in its text."""
from __future__ import annotations

import pytest

from cds_service.fhir.valuesets import CPT, ICD10CM, SNOMED
from cds_service.pathway.facts import Side

CIV = {"system": SNOMED, "code": "46027005", "display": "Common iliac vein"}
STENT = {"system": CPT, "code": "37238"}
LATERALITY_EXT = "http://hl7.org/fhir/StructureDefinition/bodySite-laterality"  # any extension url is read


def civ_with(laterality: str | None) -> list[dict]:
    site: dict = {"coding": [CIV]}
    if laterality:
        site["extension"] = [{"url": LATERALITY_EXT, "valueCodeableConcept": {"coding": [
            {"system": SNOMED, "code": laterality}]}}]
    return [site]


@pytest.mark.parametrize("laterality, side", [
    ("7771000", Side.LEFT), ("24028007", Side.RIGHT), ("51440002", Side.BOTH), (None, Side.UNKNOWN),
])
def test_stent_side_from_the_laterality_qualifier(fhir, facts_of, laterality, side):
    (stent,) = facts_of(fhir.procedure(STENT, body_site=civ_with(laterality), text="Iliac vein stent")).stents
    assert stent.side == side


def test_a_laterality_coding_in_the_site_itself_counts(fhir, facts_of):
    site = [{"coding": [CIV, {"system": SNOMED, "code": "24028007"}]}]
    (stent,) = facts_of(fhir.procedure(STENT, body_site=site)).stents
    assert stent.side == Side.RIGHT


@pytest.mark.parametrize("text, side", [
    ("Left common iliac vein stent (May-Thurner), 16 x 90 mm", Side.LEFT),
    ("RIGHT EIV stent", Side.RIGHT),
    ("Iliac vein stent, left and right", Side.BOTH),
    ("Iliac vein stent (May-Thurner), 16 x 90 mm", Side.UNKNOWN),
    ("Iliac vein stent, leftover length trimmed", Side.UNKNOWN),  # whole words only
])
def test_stent_side_from_the_words_of_its_text(fhir, facts_of, text, side):
    (stent,) = facts_of(fhir.procedure(STENT, body_site=civ_with(None), text=text)).stents
    assert stent.side == side


def test_the_coded_side_wins_over_the_words(fhir, facts_of):
    (stent,) = facts_of(fhir.procedure(STENT, body_site=civ_with("24028007"), text="Left iliac stent")).stents
    assert stent.side == Side.RIGHT


def test_stent_status_condition_side_from_its_text(fhir, facts_of):
    status = fhir.condition({"system": ICD10CM, "code": "Z95.828"}, text="Status post left iliac vein stent")
    (stent,) = facts_of(status).stents
    assert stent.side == Side.LEFT
