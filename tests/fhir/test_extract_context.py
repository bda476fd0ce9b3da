"""The value-set shortcuts of the extraction (issue 15): the same answers as `ValueSets.match`, one set lookup."""
from __future__ import annotations

import itertools

import pytest

from cds_service.fhir.extract_context import ExtractionContext
from cds_service.fhir.valuesets import LOINC, SNOMED, UnknownValueSet
from cds_service.services.base import PatientRecord

PLATELETS = {"system": LOINC, "code": "777-3"}
WEIGHT = {"system": LOINC, "code": "29463-7"}
SLOPPY = [None, "text", {"system": LOINC, "code": 7}, {"system": ["x"], "code": "777-3"}, {"code": "777-3"}]
SETS = ("platelets", "body-weight", "egfr", "leg-swelling", "bleeding")


@pytest.fixture
def context(value_sets):
    return ExtractionContext(PatientRecord(), value_sets)


@pytest.mark.parametrize("codings_", [[PLATELETS], [WEIGHT], [WEIGHT, PLATELETS], [], SLOPPY, SLOPPY + [PLATELETS],
                                      [{"system": SNOMED, "code": "0"}]])
def test_match_in_and_match_any_agree_with_match(context, value_sets, codings_):
    code_sets = value_sets.sets_of(codings_)
    for value_set_id in SETS:
        assert context.match_in(value_set_id, codings_, code_sets) == value_sets.match(value_set_id, codings_)
    for size in (1, 2, 3):
        for ids in itertools.combinations(SETS, size):
            assert context.match_any(ids, codings_) == any(value_sets.match(v, codings_) for v in ids)


def test_an_unknown_value_set_id_still_raises(context, value_sets):
    with pytest.raises(UnknownValueSet):
        context.match_in("no-such-set", [PLATELETS], value_sets.sets_of([PLATELETS]))
    with pytest.raises(UnknownValueSet):
        context.match_any(("platelets", "no-such-set"), [PLATELETS])  # even after a match
