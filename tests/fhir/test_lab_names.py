"""Labs are named in plain words on the card (RULES.md "Card text (R2)"), not by their code's long display."""
from __future__ import annotations

import pytest

from cds_service.rules.plain_text import fact_words


@pytest.mark.parametrize(("code", "display", "value", "attribute", "shown"), [
    ("777-3", "Platelets [#/volume] in Blood by Automated count", (240, "10*3/uL"), "platelets", "Platelets 240 ×10³/µL"),
    ("98979-8", "Glomerular filtration rate/1.73 sq M.predicted by Creatinine-based formula (CKD-EPI 2021)",
     (85, "mL/min/{1.73_m2}"), "egfr", "eGFR 85 mL/min/1.73 m²"),
    ("1751-7", "Albumin [Mass/volume] in Serum or Plasma", (4.0, "g/dL"), "albumin", "Albumin 4 g/dL"),
    ("29463-7", "Body weight", (200, "[lb_av]"), "weight", "Body weight 200 lb (90.7 kg)"),
])
def test_a_lab_is_named_in_plain_words_with_human_units(fhir, facts_of, code, display, value, attribute, shown):
    resource = fhir.observation(fhir.loinc(code, display), value_quantity=fhir.quantity(*value))
    [measured] = getattr(facts_of(resource), attribute)
    assert fact_words(measured.evidence.display) == shown
