"""Lenient FHIR date / dateTime / instant parsing: EHRs send all of them, and sloppy ones too.

Every result is an aware UTC datetime, or None when the text is not a date at all.
A date without a time is midnight UTC; a year or year-month is its first day;
a time without a zone is taken as UTC (the FHIR rule says it must have one, and
guessing the server's zone would be no better).

A date before 1800 or after 2999 is no date a record can truly hold (year 0001 and 9999 are
placeholders), and near those ends a time zone offset overflows: such a value is None too,
the same as text that is not a date (docs/operations.md, "No 500 for any input").
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime

EARLIEST_YEAR, LATEST_YEAR = 1800, 2999
_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def parse_fhir_datetime(value: object) -> datetime | None:
    """A FHIR date, dateTime or instant (as JSON text) as an aware UTC datetime, or None."""
    parsed = _parse(value)
    if parsed is None or not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        return None
    return parsed


def _parse(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return _as_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, str):
        return None
    text = value.strip()
    partial = _PARTIAL_DATE.match(text)
    if partial:
        return _partial_date(*partial.groups())
    try:
        return _as_utc(datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")))
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 shifted by its offset
        return None


def _partial_date(year: str, month: str | None, day: str | None) -> datetime | None:
    try:
        return datetime(int(year), int(month or 1), int(day or 1), tzinfo=UTC)
    except ValueError:
        return None


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def first_date(*values: object) -> datetime | None:
    """The first of `values` that parses: e.g. onsetDateTime, else recordedDate."""
    for value in values:
        parsed = parse_fhir_datetime(value)
        if parsed is not None:
            return parsed
    return None


def period_start(period: object) -> object:
    """`Period.start` of a FHIR Period (JSON), or None."""
    return period.get("start") if isinstance(period, dict) else None
