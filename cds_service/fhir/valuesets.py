"""Value sets kept as data: `cds_service/fhir/valuesets/*.json`, loaded once.

Each file holds one or more value sets:

    {"valueSets": [{"id": "acute-dvt",
                    "source": "DATA-CONTRACT.md, Conditions: acute lower-limb DVT",
                    "codes": [{"system": "http://snomed.info/sct", "code": "404223003", "display": "..."},
                              {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I82.4*"}]}]}

A code ending in `*` matches every code with that prefix. A site adds its own
codes with a file of the same shape named by `CDS_LOCAL_VALUESETS`: its codes
are added to the value sets of the same id (never replacing the shipped ones).
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
CPT = "http://www.ama-assn.org/go/cpt"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
LOCAL = "http://iliac-vein-cds.org/fhir/CodeSystem/findings"


@dataclass
class ValueSet:
    id: str
    source: str = ""
    exact: dict[str, set[str]] = field(default_factory=dict)  # system -> codes
    prefixes: dict[str, list[str]] = field(default_factory=dict)  # system -> prefixes

    def add(self, system: str, code: str) -> None:
        if code.endswith("*"):
            self.prefixes.setdefault(system, []).append(code[:-1])
        else:
            self.exact.setdefault(system, set()).add(code)

    def contains(self, system: str | None, code: str | None) -> bool:
        if not system or not code or not isinstance(system, str) or not isinstance(code, str):
            return False  # sloppy JSON (a numeric or object code) never matches and never raises
        if code in self.exact.get(system, ()):
            return True
        return any(code.startswith(p) for p in self.prefixes.get(system, ()))


class UnknownValueSet(KeyError):
    pass


class ValueSets:
    CACHE_LIMIT = 100_000  # distinct (system, code) pairs remembered; value sets never change after loading

    def __init__(self, sets: dict[str, ValueSet]):
        self._sets = sets
        self._memberships: dict[tuple[str, str], frozenset[str]] = {}

    def memberships(self, system: object, code: object) -> frozenset[str]:
        """Ids of every value set holding this code: computed once per code, then one dict lookup."""
        if not isinstance(system, str) or not isinstance(code, str) or not system or not code:
            return frozenset()
        key = (system, code)
        found = self._memberships.get(key)
        if found is None:
            found = frozenset(vs_id for vs_id, vs in self._sets.items() if vs.contains(system, code))
            if len(self._memberships) < self.CACHE_LIMIT:
                self._memberships[key] = found
        return found

    def sets_of(self, codings: Iterable[dict] | None) -> frozenset[str]:
        """Ids of every value set holding one of the codings, read as `match` reads them."""
        found: frozenset[str] = frozenset()
        for coding in codings or ():
            if isinstance(coding, dict):
                found |= self.memberships(coding.get("system"), coding.get("code"))
        return found

    def __contains__(self, value_set_id: str) -> bool:
        return value_set_id in self._sets

    def ids(self) -> list[str]:
        return sorted(self._sets)

    def get(self, value_set_id: str) -> ValueSet:
        try:
            return self._sets[value_set_id]
        except KeyError:
            raise UnknownValueSet(value_set_id) from None

    def contains(self, value_set_id: str, system: str | None, code: str | None) -> bool:
        self.get(value_set_id)  # an unknown id is a programming error, never a silent False
        return value_set_id in self.memberships(system, code)

    def match(self, value_set_id: str, codings: Iterable[dict] | None) -> dict | None:
        """The first coding (a FHIR Coding as JSON) that is in the value set, or None."""
        if value_set_id not in self._sets:
            raise UnknownValueSet(value_set_id)
        for coding in codings or ():
            if not isinstance(coding, dict):
                continue
            system, code = coding.get("system"), coding.get("code")
            if not isinstance(system, str) or not isinstance(code, str):
                continue  # sloppy JSON (a numeric or list code) never matches and never raises
            found = self._memberships.get((system, code))  # the hot path: one lookup per coding
            if found is None:
                found = self.memberships(system, code)
            if value_set_id in found:
                return coding
        return None

    def match_concept(self, value_set_id: str, concept: dict | None) -> dict | None:
        """Match a CodeableConcept (as JSON)."""
        if not isinstance(concept, dict):
            return None
        return self.match(value_set_id, concept.get("coding"))


def _read_document(path: Path | str, text: str) -> dict:
    if str(path).endswith((".yaml", ".yml")):
        return yaml.safe_load(text) or {}
    return json.loads(text)


def _merge(sets: dict[str, ValueSet], document: dict, origin: str) -> None:
    for entry in document.get("valueSets", []):
        value_set = sets.setdefault(entry["id"], ValueSet(id=entry["id"], source=entry.get("source", origin)))
        for code in entry.get("codes", []):
            value_set.add(code["system"], str(code["code"]))


def load_value_sets(local_path: str | Path | None = None) -> ValueSets:
    """Load the shipped value sets, then a site's local additions (JSON or YAML)."""
    sets: dict[str, ValueSet] = {}
    package = resources.files("cds_service.fhir") / "valuesets"
    for item in sorted(package.iterdir(), key=lambda p: p.name):
        if item.name.endswith((".json", ".yaml", ".yml")) and not item.name.startswith("codesystem"):
            _merge(sets, _read_document(item.name, item.read_text(encoding="utf-8")), item.name)
    if local_path:
        path = Path(local_path)
        _merge(sets, _read_document(path, path.read_text(encoding="utf-8")), str(path))
    return ValueSets(sets)
