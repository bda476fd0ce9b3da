"""What every extractor needs for one record: the raw resources, the value sets, the validator."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from cds_service.fhir.fhir_json import Validator, codings, label, reference_of
from cds_service.fhir.record import PatientRecord
from cds_service.fhir.valuesets import ValueSets
from cds_service.pathway.facts import Evidence


@dataclass
class ExtractionContext:
    record: PatientRecord
    value_sets: ValueSets
    validator: Validator = field(default_factory=Validator)
    _index: dict[str, dict[str, dict]] = field(default_factory=dict)
    _checked: set[str | tuple[str, ...]] = field(default_factory=set)  # value-set ids (and tuples) known to exist

    def resources(self, resource_type: str) -> list[dict]:
        """The record's resources of one type: JSON objects of that type only (EHRs mix things up)."""
        return [r for r in self.record.of_type(resource_type)
                if isinstance(r, dict) and r.get("resourceType") == resource_type]

    def find(self, target: str) -> dict | None:
        """The record's resource that a "Type/id" reference points to, or None."""
        resource_type, _, resource_id = target.partition("/")
        if resource_type not in self._index:
            self._index[resource_type] = {r["id"]: r for r in self.resources(resource_type) if isinstance(r.get("id"), str)}
        return self._index[resource_type].get(resource_id)

    def find_valid(self, target: str) -> dict | None:
        """As `find`, but only a resource that passes validation."""
        found = self.find(target)
        return found if found is not None and self.validator.is_valid(found) else None

    def match(self, value_set_id: str, codings_: Iterable[dict]) -> dict | None:
        return self.value_sets.match(value_set_id, codings_)

    def match_any(self, value_set_ids: tuple[str, ...], codings_: list[dict]) -> bool:
        """Whether a coding is in one of the value sets: one set intersection, not one `match` per set."""
        if value_set_ids not in self._checked:
            for value_set_id in value_set_ids:
                self.value_sets.get(value_set_id)  # an unknown id is a programming error, never a silent False
            self._checked.add(value_set_ids)
        return not self.value_sets.sets_of(codings_).isdisjoint(value_set_ids)

    def match_in(self, value_set_id: str, codings_: list[dict], code_sets: frozenset[str]) -> dict | None:
        """`match` for codings whose memberships (`ValueSets.sets_of`) are known: one set lookup when no
        coding is in the value set, the usual case."""
        if value_set_id in code_sets:
            return self.value_sets.match(value_set_id, codings_)
        if value_set_id not in self._checked:
            self.value_sets.get(value_set_id)  # an unknown id is a programming error, never a silent None
            self._checked.add(value_set_id)
        return None


def evidence(resource: dict, concept: object, when: datetime | None, matched: dict | None = None) -> Evidence:
    """Evidence citing `resource`, shown as the concept's text or the matched coding's display."""
    return Evidence(ref=reference_of(resource), display=label(concept, matched) or reference_of(resource), when=when)


def code_codings(resource: dict, element: str = "code") -> list[dict]:
    return codings(resource.get(element))
