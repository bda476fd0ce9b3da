"""Small helpers the patient-view rule units share: dates and sides as cards write them, and the
"possible stent candidate" test that decides whether an IVUS order is offered."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cds_service.pathway import axes
from cds_service.pathway.assessment import Assessment
from cds_service.pathway.facts import Severity, Side
from cds_service.pathway.findings import CreateOrder

SIDE_WORD = {"left": "Left", "right": "Right", "both": "Bilateral", "unknown": ""}


def date_of(when: datetime | None) -> str:
    return when.date().isoformat() if when else "date unknown"


def imaging_side(a: Assessment) -> Side:
    """The duplex of the swollen side; both legs when the side is not one leg."""
    return a.swelling_side if a.unilateral_swelling else Side.BOTH


def possible_stent_candidate(a: Assessment) -> bool:
    """DVT excluded, unilateral significant swelling, no other edema cause (known to be none)."""
    return (
        a.dvt_axis == axes.EXCLUDED
        and a.unilateral_swelling
        and a.symptoms == Severity.SIGNIFICANT
        and not a.other_causes
        and a.other_causes_known
    )


def unreadable_note(types: Sequence[str]) -> str:
    if not types:
        return ""
    return (
        f"\n\nImaging results could not be read ({', '.join(types)}): a newer study may exist, so DVT is "
        "not considered excluded. Check the record."
    )


def venography_ivus_offer(a: Assessment) -> tuple[CreateOrder, ...]:
    """The venography with IVUS order, offered only to a possible stent candidate."""
    return (CreateOrder("venography-ivus", a.swelling_side),) if possible_stent_candidate(a) else ()


def candidate_note(candidate: bool) -> str:
    if candidate:
        return " A venography with IVUS order is suggested."
    return " (No order is suggested: the patient is not yet a possible stent candidate.)"
