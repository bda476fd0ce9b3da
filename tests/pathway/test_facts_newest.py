"""`newest`: the one "latest dated item" helper of the facts, the extractors and the assessment."""
from __future__ import annotations

from datetime import datetime, timezone

from cds_service.pathway.facts import Evidence, Severity, Side, Swelling, newest


def _at(day: int | None, ref: str) -> Swelling:
    when = datetime(2026, 1, day, tzinfo=timezone.utc) if day else None
    return Swelling(Evidence(ref, ref, when), Side.LEFT, Severity.SIGNIFICANT, when)


def test_the_latest_dated_item_wins_over_earlier_and_undated_ones():
    assert newest([_at(None, "a"), _at(3, "b"), _at(9, "c"), _at(5, "d")]).evidence.ref == "c"


def test_with_nothing_dated_the_first_item_and_with_nothing_none():
    assert newest([_at(None, "a"), _at(None, "b")]).evidence.ref == "a"
    assert newest([]) is None


def test_a_tie_keeps_the_first_and_when_can_be_any_date():
    assert newest([_at(4, "a"), _at(4, "b")]).evidence.ref == "a"
    assert newest([_at(4, "a"), _at(2, "b")], when=lambda s: s.recorded).evidence.ref == "a"
