"""CDS Hooks 2.0 feedback: `{"feedback": [...]}`, each item validated (S3 invariants cds-fb-1..3)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cds_service.errors import BadRequest

OUTCOMES = ("accepted", "overridden")
MAX_ITEMS = 500
# Feedback is about a card shown to a clinician: a timestamp outside these years is an error, and
# converting one near year 1 or 9999 to UTC could overflow.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)


@dataclass(frozen=True)
class FeedbackEntry:
    card: str
    outcome: str
    outcome_timestamp: datetime
    accepted_suggestions: tuple[str, ...] = ()
    override_system: str = ""
    override_code: str = ""
    override_display: str = ""
    user_comment: str = ""


def _timestamp(value: Any, index: int) -> datetime:
    if not isinstance(value, str):
        raise BadRequest(f"feedback[{index}].outcomeTimestamp must be an ISO 8601 date-time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"feedback[{index}].outcomeTimestamp must be an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise BadRequest(f"feedback[{index}].outcomeTimestamp needs a time zone (UTC 'Z')")
    if not EARLIEST.year <= parsed.year <= LATEST.year:  # checked before the conversion, which could overflow
        raise BadRequest(f"feedback[{index}].outcomeTimestamp must lie between {EARLIEST.date()} and {LATEST.date()}")
    return parsed.astimezone(UTC)


def _short_string(value: Any, name: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    if len(value) > limit:
        raise BadRequest(f"{name} is longer than {limit} characters")
    return _storable(value, name)


def _storable(value: str, name: str) -> str:
    """Refuse text no database column takes: NUL, or a lone surrogate (not UTF-8 at all)."""
    if "\x00" in value:
        raise BadRequest(f"{name} must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(f"{name} is not valid Unicode text (a lone surrogate)") from None
    return value


def _entry(item: Any, index: int) -> FeedbackEntry:
    where = f"feedback[{index}]"
    if not isinstance(item, dict):
        raise BadRequest(f"{where} must be a JSON object")
    card = item.get("card")
    if not isinstance(card, str) or not card or len(card) > 64:
        raise BadRequest(f"{where}.card must be the card's uuid")
    _storable(card, f"{where}.card")
    outcome = item.get("outcome")
    if outcome not in OUTCOMES:
        raise BadRequest(f"{where}.outcome must be 'accepted' or 'overridden'")
    accepted: tuple[str, ...] = ()
    if outcome == "accepted":
        suggestions = item.get("acceptedSuggestions")
        if not isinstance(suggestions, list) or not suggestions:
            raise BadRequest(f"{where}.acceptedSuggestions is required when the outcome is 'accepted'")
        ids = []
        for suggestion in suggestions:
            if not isinstance(suggestion, dict) or not isinstance(suggestion.get("id"), str) or not suggestion["id"]:
                raise BadRequest(f"{where}.acceptedSuggestions items need an 'id'")
            ids.append(_short_string(suggestion["id"], f"{where}.acceptedSuggestions.id", 64))
        accepted = tuple(ids)
    system = code = display = comment = ""
    reason = item.get("overrideReason")
    if reason is not None:
        if outcome != "overridden":
            raise BadRequest(f"{where}.overrideReason only goes with the outcome 'overridden'")
        if not isinstance(reason, dict):
            raise BadRequest(f"{where}.overrideReason must be a JSON object")
        coding = reason.get("reason")
        if coding is not None:
            if not isinstance(coding, dict) or not coding.get("code"):
                raise BadRequest(f"{where}.overrideReason.reason must be a Coding with a code")
            system = _short_string(coding.get("system"), f"{where}.overrideReason.reason.system", 256)
            code = _short_string(coding.get("code"), f"{where}.overrideReason.reason.code", 128)
            display = _short_string(coding.get("display"), f"{where}.overrideReason.reason.display", 512)
        comment = _short_string(reason.get("userComment"), f"{where}.overrideReason.userComment", 4000)
        if not code and not comment:
            raise BadRequest(f"{where}.overrideReason needs a reason or a userComment")
    return FeedbackEntry(
        card=card,
        outcome=outcome,
        outcome_timestamp=_timestamp(item.get("outcomeTimestamp"), index),
        accepted_suggestions=accepted,
        override_system=system,
        override_code=code,
        override_display=display,
        user_comment=comment,
    )


def parse_feedback(body: Any) -> list[FeedbackEntry]:
    if not isinstance(body, dict) or not isinstance(body.get("feedback"), list):
        raise BadRequest("the feedback body must be a JSON object with a 'feedback' array")
    items = body["feedback"]
    if not items:
        raise BadRequest("'feedback' must hold at least one item")
    if len(items) > MAX_ITEMS:
        raise BadRequest(f"at most {MAX_ITEMS} feedback items per request")
    return [_entry(item, index) for index, item in enumerate(items)]
