"""Plain words and human units in the text a clinician reads (RULES.md "Card text (R2)").

A fact's display comes from the record: a value with its UCUM unit ("200 [lb_av]", "22
mL/min/{1.73_m2}", "24.9 10*3/uL"), a local code when a coding had no display, or the
resource reference when nothing else was readable. The card shows none of those: units as
a clinician writes them ("200 lb (90.7 kg)", "mL/min/1.73 m²", "×10³/µL"), kg with at most
one decimal, the local code's display, the resource type in words. The references
themselves stay on the finding (`Finding.evidence`) for the card log.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from importlib import resources

from cds_service.fhir.units import MASS_TO_KG
from cds_service.protocol.card_text import ENGLISH_COMPOUNDS, RESOURCE_ID

NUMBER = r"(\d+(?:[.,]\d+)?)"


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _one_decimal(value: float) -> str:
    return f"{round(value, 1):g}"


def _pounds(match: re.Match) -> str:
    pounds = _number(match.group(1))
    return f"{_one_decimal(pounds)} lb ({_one_decimal(pounds * MASS_TO_KG['[lb_av]'])} kg)"


# (pattern, replacement): UCUM codes as a clinician writes the unit. Order matters: pounds first
# (they gain a kg figure), annotations ("{1.73_m2}") after the units that contain them.
UNIT_WORDS: tuple[tuple[re.Pattern, str | Callable[[re.Match], str]], ...] = (
    (re.compile(NUMBER + r"\s*(?:\[lb_av\]|lbs?\b|pounds?\b)(?!\s*\(\d)"), _pounds),
    (re.compile(r"\[lb_av\]"), "lb"),
    (re.compile(r"\[in_i\]"), "in"),
    (re.compile(r"\[oz_av\]"), "oz"),
    (re.compile(r"mm\[Hg\]"), "mm Hg"),
    (re.compile(r"\b10[*^]3/[uµ]L"), "×10³/µL"),
    (re.compile(r"\b10[*^]9/L"), "×10⁹/L"),
    (re.compile(r"\b10\*(\d+)"), r"×10^\1"),
    (re.compile(r"(?<=\d)\s*K/uL\b"), " ×10³/µL"),
    (re.compile(r"mL/min/(?:\{1\.73_m2\}|1\.73m2|1\.73 m2)"), "mL/min/1.73 m²"),
    (re.compile(r"/uL\b"), "/µL"),
    (re.compile(r"(?<=\d)\s?ug\b"), " µg"),
    (re.compile(r"\{([^{}\s]*)\}"), lambda m: m.group(1).replace("_", " ")),
)
KG = re.compile(r"\b(\d+[.,]\d{2,})(\s*kg)\b")
LONG_DECIMAL = re.compile(r"\b\d+\.\d{3,}\b")


def human_units(text: str) -> str:
    """UCUM codes written as units, kg with one decimal at most, no number with 3 or more decimals."""
    for pattern, words in UNIT_WORDS:
        text = pattern.sub(words, text)
    text = KG.sub(lambda m: _one_decimal(_number(m.group(1))) + m.group(2), text)
    return LONG_DECIMAL.sub(lambda m: f"{round(float(m.group(0)), 2):g}", text)


@lru_cache(maxsize=1)
def local_code_words() -> dict[str, str]:
    """The local CodeSystem's codes and their displays ("thrombus-present" -> "Thrombus present")."""
    text = (resources.files("cds_service.fhir") / "valuesets" / "codesystem-findings.json").read_text(encoding="utf-8")
    return {c["code"]: c.get("display") or c["code"] for c in json.loads(text).get("concept", [])}


@lru_cache(maxsize=1)
def _local_codes() -> re.Pattern:
    """Hyphenated local codes, longest first; compounds that are plain English ("whole-leg") stay."""
    codes = sorted((c for c in local_code_words() if "-" in c and c not in ENGLISH_COMPOUNDS), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(c) for c in codes) + r")(?![\w-])")


def type_words(resource_type: str) -> str:
    """"MedicationRequest" -> "medication request"."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", resource_type).lower()


def _resource_words(match: re.Match) -> str:
    """"Observation/pv069-weight" -> "observation" (the type, in words; the id is for the card log)."""
    return type_words(match.group(0).split("/", 1)[0])


def fact_words(display: str) -> str:
    """A fact's display as a card shows it: local codes as their display, no resource id, human units."""
    words = _local_codes().sub(lambda m: local_code_words()[m.group(1)], display)
    words = RESOURCE_ID.sub(_resource_words, words)
    return human_units(words)
