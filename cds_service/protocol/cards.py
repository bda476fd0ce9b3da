"""CDS Hooks 2.0 response model: card, suggestion, action, link, coding.

The invariants of the spec are enforced when a response is serialized, so a
card that breaks one can never leave the service:
summary < 140 characters; indicator info | warning | critical; source.label;
a uuid on every card and suggestion; selectionBehavior whenever there are
suggestions (and at most one isRecommended with at-most-one); overrideReasons
with display; lowercase action types, `resource` an object, `resourceId` on
deletes; no null or empty value anywhere.
"""
from __future__ import annotations

import uuid as uuid_lib
from dataclasses import dataclass, field
from typing import Any

RULES_SYSTEM = "http://iliac-vein-cds.org/fhir/CodeSystem/rules"
OVERRIDE_SYSTEM = "http://iliac-vein-cds.org/fhir/CodeSystem/override-reasons"

INDICATORS = ("info", "warning", "critical")
SELECTION_BEHAVIORS = ("at-most-one", "any")
ACTION_TYPES = ("create", "update", "delete")
LINK_TYPES = ("absolute", "smart")
SUMMARY_MAX = 139  # "<140-character"


class CardInvariantError(ValueError):
    """A response that would break the CDS Hooks 2.0 contract: a bug, never sent."""


def new_uuid() -> str:
    return str(uuid_lib.uuid4())


def drop_empty(value: Any) -> Any:
    """Recursively remove None, "", [] and {} (CDS Hooks: never send null or empty values)."""
    if isinstance(value, dict):
        cleaned = {k: drop_empty(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, "", [], {})}
    if isinstance(value, (list, tuple)):
        cleaned_list = [drop_empty(v) for v in value]
        return [v for v in cleaned_list if v not in (None, "", [], {})]
    return value


@dataclass
class Coding:
    system: str
    code: str
    display: str = ""

    def to_json(self) -> dict:
        return {"system": self.system, "code": self.code, "display": self.display}


@dataclass
class Source:
    label: str
    url: str = ""
    icon: str = ""
    topic: Coding | None = None

    def to_json(self) -> dict:
        return {
            "label": self.label,
            "url": self.url,
            "icon": self.icon,
            "topic": self.topic.to_json() if self.topic else None,
        }


@dataclass
class Action:
    type: str
    description: str
    resource: dict | None = None
    resource_id: str = ""

    def to_json(self) -> dict:
        return {
            "type": self.type,
            "description": self.description,
            "resource": self.resource,
            "resourceId": self.resource_id,
        }

    def check(self) -> None:
        if self.type not in ACTION_TYPES:
            raise CardInvariantError(f"action type {self.type!r} is not one of {ACTION_TYPES}")
        if not self.description:
            raise CardInvariantError("an action needs a description")
        if self.type == "delete":
            if not self.resource_id or self.resource is not None:
                raise CardInvariantError("a delete action names resourceId and carries no resource")
        elif not isinstance(self.resource, dict) or not self.resource.get("resourceType"):
            raise CardInvariantError(f"a {self.type} action carries the resource as a JSON object")


@dataclass
class Suggestion:
    label: str
    actions: list[Action] = field(default_factory=list)
    is_recommended: bool = False  # always sent: some clients (HealthChain) require it
    uuid: str = field(default_factory=new_uuid)

    def to_json(self) -> dict:
        return {
            "label": self.label,
            "uuid": self.uuid,
            "isRecommended": self.is_recommended,
            "actions": [a.to_json() for a in self.actions],
        }


@dataclass
class Link:
    label: str
    url: str
    type: str = "absolute"
    app_context: str = ""

    def to_json(self) -> dict:
        return {"label": self.label, "url": self.url, "type": self.type, "appContext": self.app_context}


@dataclass
class Card:
    summary: str
    indicator: str
    source: Source
    detail: str = ""
    suggestions: list[Suggestion] = field(default_factory=list)
    selection_behavior: str = ""
    override_reasons: list[Coding] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    uuid: str = field(default_factory=new_uuid)
    # Internal, never serialized (to_json names every field it sends): the FHIR references the card
    # used, and a hash of those references and the rule's values. The card log keeps both (audit);
    # the lockout after feedback compares the hash ("same evidence"). Set by rules.fingerprint.stamp_evidence.
    fact_refs: tuple[str, ...] = field(default=(), compare=False, repr=False)
    evidence_fingerprint: str = field(default="", compare=False, repr=False)

    @property
    def rule_id(self) -> str:
        return self.source.topic.code if self.source.topic else ""

    def check(self) -> None:
        if not self.summary or len(self.summary) > SUMMARY_MAX:
            raise CardInvariantError(f"summary must be 1-{SUMMARY_MAX} characters: {self.summary!r}")
        if self.indicator not in INDICATORS:
            raise CardInvariantError(f"indicator {self.indicator!r} is not one of {INDICATORS}")
        if not self.source.label:
            raise CardInvariantError("source.label is required")
        if not self.uuid:
            raise CardInvariantError("every card carries a uuid")
        if self.suggestions:
            if self.selection_behavior not in SELECTION_BEHAVIORS:
                raise CardInvariantError("selectionBehavior is required with suggestions")
            recommended = sum(1 for s in self.suggestions if s.is_recommended)
            if self.selection_behavior == "at-most-one" and recommended > 1:
                raise CardInvariantError("at-most-one allows one recommended suggestion at most")
        elif self.selection_behavior:
            raise CardInvariantError("selectionBehavior without suggestions")
        for suggestion in self.suggestions:
            if not suggestion.label or not suggestion.uuid:
                raise CardInvariantError("a suggestion needs a label and a uuid")
            for action in suggestion.actions:
                action.check()
        for reason in self.override_reasons:
            if not (reason.system and reason.code and reason.display):
                raise CardInvariantError("override reasons need system, code and display")
        for link in self.links:
            if not (link.label and link.url) or link.type not in LINK_TYPES:
                raise CardInvariantError("a link needs a label, a url and type absolute | smart")
            if link.app_context and link.type != "smart":
                raise CardInvariantError("appContext is only for smart links")
            if link.type == "smart" and not link.url.startswith(("https://", "http://")):
                raise CardInvariantError("a smart link's url is the app's absolute launch URL")

    def to_json(self) -> dict:
        self.check()
        return drop_empty(
            {
                "uuid": self.uuid,
                "summary": self.summary,
                "detail": self.detail,
                "indicator": self.indicator,
                "source": self.source.to_json(),
                "suggestions": [s.to_json() for s in self.suggestions],
                "selectionBehavior": self.selection_behavior,
                "overrideReasons": [r.to_json() for r in self.override_reasons],
                "links": [link.to_json() for link in self.links],
            }
        )


def response_json(cards: list[Card], system_actions: list[Action] | None = None) -> dict:
    """The hook response: `{"cards": []}` is the one empty value the spec allows."""
    body: dict[str, Any] = {"cards": [card.to_json() for card in cards]}
    if system_actions:
        for action in system_actions:
            action.check()
        body["systemActions"] = [drop_empty(a.to_json()) for a in system_actions]
    return body
