"""Card-text linter: the "Card text (R2)" requirements of RULES.md as one pure function.

A clinician reads a card in seconds, in any CDS Hooks client. `problems` returns
what a card (as serialized JSON) breaks, each string starting with the check's
name so that reports can count by kind:

- `detail-length`: detail at most 1,000 characters;
- `action-first`: the detail opens with the reasoning and action, not with a fact
  list, a heading or a quote;
- `fact-bullets`: at most 5 bullets;
- `quote-count`: at most 2 guideline quotes;
- `quote-paragraph`: each quote its own paragraph (two quote lines never touch);
- `rule-link`: a `links` entry {"label": "Rule and evidence", "url": the absolute
  rule page URL, "type": "absolute"};
- `resource-id`: no FHIR `Type/id` in the visible text;
- `local-code`: no code of the service's local CodeSystem in the visible text;
- `ucum-code`: no UCUM code ("[lb_av]", "{1.73_m2}", "10*3/uL", "mm[Hg]");
- `decimals`: kg with at most one decimal, no number with 3 or more decimals;
- `pregnancy-wording`: no word about pregnancy unless the patient is pregnant;
- `duplicate-action`: no two cards of one response ask for the same order (a
  create with a shared code, or a delete / update of the same draft order whose
  updates do not carry the same corrections). Reported on the later card.

Pure: no Flask, no I/O beyond reading the shipped local CodeSystem once.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from typing import Any
from urllib.parse import urlsplit

DETAIL_MAX = 1000
FACT_BULLETS_MAX = 5
QUOTES_MAX = 2
RULE_LINK_LABEL = "Rule and evidence"

# FHIR R4 resource types a card could name; "Type/id" of any of them is an id, not prose.
RESOURCE_TYPES = (
    "Patient", "Practitioner", "PractitionerRole", "Organization", "Encounter", "Condition", "Observation",
    "DiagnosticReport", "ImagingStudy", "Procedure", "MedicationRequest", "MedicationStatement",
    "MedicationAdministration", "Medication", "ServiceRequest", "DeviceRequest", "Device", "AllergyIntolerance",
    "NutritionOrder", "VisionPrescription", "CommunicationRequest", "CarePlan", "Immunization", "Bundle",
    "DocumentReference", "Specimen", "Location", "Coverage", "FamilyMemberHistory", "RiskAssessment",
)
RESOURCE_ID = re.compile(r"\b(?:" + "|".join(RESOURCE_TYPES) + r")/[A-Za-z0-9\-.]{1,64}")
# Local codes that are also ordinary English compounds ("a whole-leg duplex", "flat, non-phasic flow").
ENGLISH_COMPOUNDS = frozenset({"whole-leg", "non-phasic", "non-compressive"})
UCUM_CODES = (
    re.compile(r"\[[A-Za-z]+_[A-Za-z]+\]"),  # [lb_av], [in_i], [oz_av]
    re.compile(r"\[Hg\]"),  # mm[Hg]
    re.compile(r"\{[^{}\s]*\}"),  # {1.73_m2}: annotations
    re.compile(r"\b10\*\d+"),  # 10*3/uL, 10*9/L
)
KG_DECIMALS = re.compile(r"\b\d+[.,]\d{2,}\s*kg\b")
LONG_DECIMALS = re.compile(r"\b\d+\.\d{3,}\b")
PREGNANCY = re.compile(r"pregnan", re.IGNORECASE)
BULLET = re.compile(r"^\s*[-*+]\s+")
QUOTE = re.compile(r"^\s*>\s*(\S.*)?$")
HEADING = re.compile(r"^\s*(#+\s|\*\*[^*]+\*\*:?\s*$)")  # "# Facts", or a line that is only "**Facts used**"


@lru_cache(maxsize=1)
def local_codes() -> frozenset[str]:
    """Hyphenated codes of the local CodeSystem (one-word codes such as "fixed" are ordinary words)."""
    text = (resources.files("cds_service.fhir") / "valuesets" / "codesystem-findings.json").read_text(encoding="utf-8")
    codes = {concept["code"] for concept in json.loads(text).get("concept", [])}
    return frozenset(code for code in codes if "-" in code and code not in ENGLISH_COMPOUNDS)


def problems(card: dict, response_cards: list[dict], patient_is_pregnant: bool) -> list[str]:
    """Every "Card text (R2)" requirement this card breaks, as "check: explanation" strings."""
    found = []
    found += _detail_problems(card.get("detail") or "")
    found += _link_problems(card)
    for where, text in _visible_text(card):
        found += _text_problems(where, text, patient_is_pregnant)
    found += _duplicate_problems(card, response_cards)
    return found


# ---------------------------------------------------------------- detail layout


def _detail_problems(detail: str) -> list[str]:
    found = []
    if len(detail) > DETAIL_MAX:
        found.append(f"detail-length: {len(detail)} characters > {DETAIL_MAX}")
    first = next((line for line in detail.splitlines() if line.strip()), "")
    if BULLET.match(first) or QUOTE.match(first) or HEADING.match(first):
        found.append(f"action-first: the detail opens with {first.strip()[:40]!r}, not the reasoning and action")
    bullets = sum(1 for line in detail.splitlines() if BULLET.match(line))
    if bullets > FACT_BULLETS_MAX:
        found.append(f"fact-bullets: {bullets} bullets > {FACT_BULLETS_MAX}")
    quote_lines = [_is_quote(line) for line in detail.splitlines()]
    if sum(quote_lines) > QUOTES_MAX:
        found.append(f"quote-count: {sum(quote_lines)} guideline quotes > {QUOTES_MAX}")
    if any(a and b for a, b in pairwise(quote_lines)):
        found.append("quote-paragraph: guideline quotes run together in one paragraph")
    return found


def _is_quote(line: str) -> bool:
    """A blockquote line with words (a lone ">" only separates paragraphs inside a quote)."""
    match = QUOTE.match(line)
    return bool(match and match.group(1))


def _link_problems(card: dict) -> list[str]:
    rule_id = ((card.get("source") or {}).get("topic") or {}).get("code", "")
    for link in card.get("links") or []:
        if link.get("label") != RULE_LINK_LABEL:
            continue
        url = link.get("url") or ""
        parts = urlsplit(url)
        if link.get("type") != "absolute":
            return [f"rule-link: the {RULE_LINK_LABEL!r} link has type {link.get('type')!r}, not 'absolute'"]
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return [f"rule-link: {url!r} is not an absolute URL"]
        if not rule_id or parts.path.rstrip("/").rsplit("/", 1)[-1] != rule_id:
            return [f"rule-link: {url!r} is not the page of rule {rule_id}"]
        return []
    return [f"rule-link: no {RULE_LINK_LABEL!r} link (the sandbox does not open source.url)"]


# ---------------------------------------------------------------- the words a clinician sees


def _visible_text(card: dict) -> Iterator[tuple[str, str]]:
    yield "summary", card.get("summary") or ""
    yield "detail", card.get("detail") or ""
    for suggestion in card.get("suggestions") or []:
        yield "suggestion label", suggestion.get("label") or ""
        for action in suggestion.get("actions") or []:
            yield "action description", action.get("description") or ""
    for link in card.get("links") or []:
        yield "link label", link.get("label") or ""


def _text_problems(where: str, text: str, patient_is_pregnant: bool) -> list[str]:
    found = []
    for match in RESOURCE_ID.finditer(text):
        found.append(f"resource-id: {match.group(0)!r} in the {where}")
    for code in sorted(local_codes()):
        if re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text):
            found.append(f"local-code: {code!r} in the {where}")
    for pattern in UCUM_CODES:
        for match in pattern.finditer(text):
            found.append(f"ucum-code: {match.group(0)!r} in the {where}")
    for match in KG_DECIMALS.finditer(text):
        found.append(f"decimals: {match.group(0)!r} in the {where} (kg with at most one decimal)")
    for match in LONG_DECIMALS.finditer(text):
        if not KG_DECIMALS.search(text[match.start():match.end() + 4]):
            found.append(f"decimals: {match.group(0)!r} in the {where}")
    if not patient_is_pregnant and PREGNANCY.search(text):
        found.append(f"pregnancy-wording: pregnancy is mentioned in the {where} of a patient who is not pregnant")
    return found


# ---------------------------------------------------------------- one card per action


def _actions(card: dict) -> Iterator[dict]:
    for suggestion in card.get("suggestions") or []:
        yield from suggestion.get("actions") or []


def _order_codes(resource: dict) -> set[tuple[str, str]]:
    concept = resource.get("code") or resource.get("codeCodeableConcept") or resource.get("medicationCodeableConcept")
    codings = (concept or {}).get("coding") or [] if isinstance(concept, dict) else []
    return {(c.get("system", ""), c.get("code", "")) for c in codings if isinstance(c, dict) and c.get("code")}


def _targets(action: dict) -> list[str]:
    """The draft orders an update or delete acts on, as bare ids ("DeviceRequest/x" and "x" are one order)."""
    if action.get("type") == "delete":
        ids = action.get("resourceId")
        ids = ids if isinstance(ids, list) else [ids]
        return [str(i).split("/")[-1] for i in ids if i]
    resource = action.get("resource") or {}
    if action.get("type") == "update" and resource.get("id"):
        return [str(resource["id"])]
    return []


def _asks(card: dict) -> tuple[set[tuple[str, str]], dict[str, list[Any]]]:
    """(codes of the orders the card creates, {draft order target: [what each action does to it]})."""
    creates: set[tuple[str, str]] = set()
    targets: dict[str, list[Any]] = {}
    for action in _actions(card):
        if action.get("type") == "create":
            creates |= _order_codes(action.get("resource") or {})
        what = "delete" if action.get("type") == "delete" else json.dumps(action.get("resource"), sort_keys=True)
        for target in _targets(action):
            targets.setdefault(target, []).append(what)
    return creates, targets


def _duplicate_problems(card: dict, response_cards: list[dict]) -> list[str]:
    position = next((i for i, other in enumerate(response_cards) if other is card), len(response_cards))
    creates, targets = _asks(card)
    found = []
    for earlier in response_cards[:position]:
        rule = ((earlier.get("source") or {}).get("topic") or {}).get("code", "another card")
        earlier_creates, earlier_targets = _asks(earlier)
        shared = creates & earlier_creates
        if shared:
            found.append(f"duplicate-action: {rule} already asks for the order coded {sorted(c for _, c in shared)}")
        for target, doings in targets.items():
            if target in earlier_targets and (set(doings) | set(earlier_targets[target]) != {doings[0]}
                                              or doings[0] == "delete"):
                found.append(f"duplicate-action: {rule} also acts on the draft order {target} "
                             "(updates must carry every correction; one delete is enough)")
    return found
