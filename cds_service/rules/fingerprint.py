"""What a card concluded from, for the card log and the site's lockouts (issue 13).

`fact_refs`: the FHIR references a card used. `evidence_fingerprint`: a hash of those facts
(reference, display, date) and of the finding's typed values, without the values computed from
the clock (`pathway.findings.FROM_CLOCK`): a new study, lab value or weight changes it, the
passing of days does not. Neither is ever sent to the EHR.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import fields, is_dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from cds_service.pathway.facts import Evidence
from cds_service.pathway.findings import Finding
from cds_service.protocol.cards import Card

# The base Finding's own fields: the evidence is hashed on its own, proposals follow from the values.
_BASE_FIELDS = frozenset(f.name for f in fields(Finding))


def fact_refs(finding: Finding, evidence: Sequence[Evidence] | None = None) -> tuple[str, ...]:
    """The FHIR references a card used, in order, each once: the draft order first, then the facts."""
    used = finding.evidence if evidence is None else evidence
    refs = ([finding.order_ref] if finding.order_ref else []) + [e.ref for e in used]
    return tuple(dict.fromkeys(ref for ref in refs if ref))


def finding_values(finding: Finding) -> dict[str, object]:
    """The finding's typed values (its subclass's fields), those computed from the clock left out."""
    return {
        f.name: getattr(finding, f.name)
        for f in fields(finding)
        if f.name not in _BASE_FIELDS and not f.metadata.get("from_clock")
    }


def _canonical(value: object) -> object:
    if isinstance(value, Enum):
        return _canonical(value.value)
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (set, frozenset)):
        return sorted((_canonical(v) for v in value), key=repr)
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def evidence_fingerprint(finding: Finding, evidence: Sequence[Evidence] | None = None) -> str:
    """sha256 of what the rule concluded from: each fact's reference, display and date, and its values."""
    used = finding.evidence if evidence is None else evidence
    facts = sorted((e.ref, e.display, e.when.isoformat() if e.when else "") for e in used)
    payload = {"rule": finding.rule_id, "order": finding.order_ref or "", "facts": facts,
               "values": _canonical(finding_values(finding))}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=repr).encode()).hexdigest()


def stamp_evidence(card: Card, finding: Finding, evidence: Sequence[Evidence] | None = None) -> Card:
    """The card with the references it used and their fingerprint (internal fields, never serialized)."""
    return replace(card, fact_refs=fact_refs(finding, evidence),
                   evidence_fingerprint=evidence_fingerprint(finding, evidence))
