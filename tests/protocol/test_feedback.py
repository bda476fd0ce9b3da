import pytest

from cds_service.errors import BadRequest
from cds_service.protocol.feedback import parse_feedback

ACCEPTED = {"card": "c1", "outcome": "accepted", "acceptedSuggestions": [{"id": "s1"}],
            "outcomeTimestamp": "2026-11-26T10:05:31Z"}
OVERRIDDEN = {"card": "c2", "outcome": "overridden",
              "overrideReason": {"reason": {"system": "http://x", "code": "will-revise"}, "userComment": "later"},
              "outcomeTimestamp": "2026-11-26T10:05:31Z"}


def test_accepted_and_overridden_items_parse():
    accepted, overridden = parse_feedback({"feedback": [ACCEPTED, OVERRIDDEN]})
    assert accepted.accepted_suggestions == ("s1",)
    assert overridden.override_code == "will-revise" and overridden.user_comment == "later"
    assert overridden.outcome_timestamp.tzinfo is not None


def test_override_without_display_from_the_sandbox_is_accepted():
    item = dict(OVERRIDDEN, overrideReason={"reason": {"code": "x", "system": "y"}})
    assert parse_feedback({"feedback": [item]})[0].override_display == ""


@pytest.mark.parametrize("item", [
    dict(ACCEPTED, outcome="ignored"),
    {k: v for k, v in ACCEPTED.items() if k != "acceptedSuggestions"},
    dict(ACCEPTED, acceptedSuggestions=[{}]),
    {k: v for k, v in ACCEPTED.items() if k != "card"},
    dict(ACCEPTED, outcomeTimestamp="yesterday"),
    dict(ACCEPTED, outcomeTimestamp="2026-11-26T10:05:31"),
    dict(OVERRIDDEN, overrideReason={}),
    dict(OVERRIDDEN, overrideReason={"reason": {"system": "x"}}),
    dict(ACCEPTED, overrideReason={"userComment": "x"}),
    "not an object",
])
def test_invalid_items_are_refused(item):
    with pytest.raises(BadRequest):
        parse_feedback({"feedback": [item]})


@pytest.mark.parametrize("body", [{}, {"feedback": []}, {"feedback": {}}, [], None])
def test_invalid_bodies_are_refused(body):
    with pytest.raises(BadRequest):
        parse_feedback(body)
