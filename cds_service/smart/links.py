"""The card link that opens the pathway app (CDS Hooks 2.0 `Link` of type `smart`)."""
from __future__ import annotations

from cds_service.protocol.cards import Link

APP_LINK_LABEL = "Open the iliac vein pathway"
LAUNCH_PATH = "/app/launch"


def app_context(rule_id: str, draft_order_id: str | None = None) -> str:
    """`<rule id>[;<draft order id>]`: what the app is told about the card it was opened from."""
    if not rule_id or ";" in rule_id or (draft_order_id and ";" in draft_order_id):
        raise ValueError("a rule id (and a draft order id) without ';' is needed for the appContext")
    return f"{rule_id};{draft_order_id}" if draft_order_id else rule_id


def parse_app_context(value: str) -> tuple[str, str]:
    """(rule id, draft order id or "") from an appContext; anything unexpected reads as empty."""
    if not isinstance(value, str):
        return "", ""
    rule_id, _, draft = value.partition(";")
    return rule_id.strip()[:64], draft.strip()[:128]


def smart_app_link(public_base_url: str, rule_id: str, draft_order_id: str | None = None) -> Link:
    """The `smart` link a card carries next to its rule-page link; the EHR launches `url` with SMART."""
    if not public_base_url.startswith(("https://", "http://")):
        raise ValueError("the public base URL must be an absolute http(s) URL")
    return Link(label=APP_LINK_LABEL, url=public_base_url.rstrip("/") + LAUNCH_PATH, type="smart",
                app_context=app_context(rule_id, draft_order_id))
