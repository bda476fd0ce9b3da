"""Transitional: card helpers now live in `cds_service.rules.cards` (tests/conftest.py still imports this)."""
from cds_service.rules.cards import OVERRIDE_REASON_LABELS, by_urgency, detail_markdown, make_card, shorten

__all__ = ["OVERRIDE_REASON_LABELS", "by_urgency", "detail_markdown", "make_card", "shorten"]
