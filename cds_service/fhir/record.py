"""The patient's FHIR data for one hook call, as the prefetch (or the FHIR server) gave it."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PatientRecord:
    """The patient's FHIR data for one call, however it was obtained (prefetch or FHIR server).

    `resources` holds raw FHIR JSON by resourceType; `unreadable` names the
    resource types that could not be read (a failed key: unknown, not absent);
    `notes` are plain-language, PHI-free descriptions of what could not be read.
    """

    patient: dict | None = None
    resources: dict[str, list[dict]] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # unreadable type -> first reason slug (no PHI)

    def of_type(self, resource_type: str) -> list[dict]:
        return self.resources.get(resource_type, [])
