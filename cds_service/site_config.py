"""A site's governance file (`CDS_SITE_CONFIG`, YAML): pathway values, rule modes, lockout days.

docs/site-configuration.md describes the file. `load_site_config` validates it completely and
raises `SiteConfigError` naming the file, the key and the problem; `serve` and `check-config`
print that one line. No file means today's behaviour: guideline values, every rule active, no
lockout. Pure: no Flask, no database.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from cds_service.fhir.valuesets import load_value_sets
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.registry import SERVICE_CARDS, all_rules

ACTIVE, SILENT, OFF = "active", "silent", "off"
MODES = (ACTIVE, SILENT, OFF)
TOP_KEYS = ("pathway", "lockout_days", "rules", "local_valuesets")
RULE_KEYS = ("mode", "lockout_days")
GUIDELINE = PathwaySettings()

# Settings for which 0 means nothing sensible (a division, a count, a schedule step).
POSITIVE_FIELDS = frozenset({
    "min_stent_length_mm", "hypotension_readings", "enoxaparin_mg_per_kg", "enoxaparin_rounding_mg",
    "stent_followup_yearly_days",
})
PERCENT_FIELDS = frozenset({"ivus_stenosis_threshold_pct"})
# (lower, higher): the first may not exceed the second.
ORDERED_PAIRS = (
    ("oversize_min_mm", "oversize_max_mm"),
    ("platelets_contraindication_10_3_ul", "platelets_caution_10_3_ul"),
)


class SiteConfigError(ValueError):
    """One problem in the site file: `str()` is the one line `serve` prints."""

    def __init__(self, source: str, key: str, problem: str):
        self.source, self.key, self.problem = source, key, problem
        super().__init__(f"{source}: {key}: {problem}")


@dataclass(frozen=True)
class RulePolicy:
    mode: str = ACTIVE
    lockout_days: int | None = None  # None: the site's default (never for critical cards)


@dataclass(frozen=True)
class SiteConfig:
    source: str = ""  # the file read; "" when the service runs without one
    pathway: PathwaySettings = field(default_factory=PathwaySettings)
    lockout_days: int = 0  # patient-view info and warning cards; 0 = no lockout
    rules: Mapping[str, RulePolicy] = field(default_factory=lambda: MappingProxyType({}))
    local_valuesets: str = ""  # absolute path, or ""

    def mode(self, rule_id: str) -> str:
        policy = self.rules.get(rule_id)
        return policy.mode if policy else ACTIVE

    @property
    def rules_off(self) -> frozenset[str]:
        return frozenset(rule_id for rule_id, policy in self.rules.items() if policy.mode == OFF)

    def lockout_days_for(self, rule_id: str, indicator: str) -> int:
        """Days a patient-view card stays locked out after feedback; 0 = shown every time.

        Critical cards lock out only when the site names the rule (issue 13)."""
        policy = self.rules.get(rule_id)
        if policy is not None and policy.lockout_days is not None:
            return policy.lockout_days
        return 0 if indicator == "critical" else self.lockout_days

    @property
    def locks_anything(self) -> bool:
        return self.lockout_days > 0 or any((p.lockout_days or 0) > 0 for p in self.rules.values())

    def site_values(self) -> list[tuple[str, object, object]]:
        """(setting, site value, guideline value) for every pathway value the site changed."""
        return [
            (f.name, getattr(self.pathway, f.name), getattr(GUIDELINE, f.name))
            for f in fields(PathwaySettings)
            if getattr(self.pathway, f.name) != getattr(GUIDELINE, f.name)
        ]

    def effective(self) -> dict:
        """Everything the service will use, as JSON-ready data (`check-config`)."""
        rules = {}
        for rule in all_rules():
            entry: dict[str, object] = {"mode": self.mode(rule.rule_id)}
            if rule.hook == "patient-view" and entry["mode"] == ACTIVE:
                entry["lockout_days"] = {
                    level: self.lockout_days_for(rule.rule_id, level)
                    for level in ("critical", "warning", "info") if level in rule.indicator
                }
            rules[rule.rule_id] = entry
        return {
            "file": self.source,
            "pathway": {f.name: _plain(getattr(self.pathway, f.name)) for f in fields(PathwaySettings)},
            "site_values": [
                {"setting": name, "site": _plain(site), "guideline": _plain(guideline)}
                for name, site, guideline in self.site_values()
            ],
            "lockout_days": self.lockout_days,
            "rules": rules,
            "local_valuesets": self.local_valuesets,
        }


def _plain(value: object) -> object:
    """As a person writes it: lists for tuples, 60 rather than 60.0."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def load_site_config(path: str | Path | None) -> SiteConfig:
    """The validated site file; the default configuration when `path` is empty."""
    if not path:
        return SiteConfig()
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise SiteConfigError(source, "(file)", f"cannot be read ({error.strerror or error})") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(file)"
        raise SiteConfigError(source, where, "is not valid YAML") from None
    return parse_site_config(document, source, Path(path).resolve().parent)


def parse_site_config(document: object, source: str, base_dir: Path) -> SiteConfig:
    if document is None:
        document = {}
    _expect_mapping(document, source, "(top level)")
    assert isinstance(document, dict)
    for key in document:
        if key not in TOP_KEYS:
            raise SiteConfigError(source, str(key), f"unknown key (allowed: {', '.join(TOP_KEYS)})")
    pathway = _pathway(document.get("pathway"), source)
    lockout_days = _days(document.get("lockout_days", 0), source, "lockout_days")
    rules = _rules(document.get("rules"), source)
    local = _local_valuesets(document.get("local_valuesets"), source, base_dir)
    return SiteConfig(source, pathway, lockout_days, MappingProxyType(rules), local)


def _expect_mapping(value: object, source: str, key: str) -> None:
    if not isinstance(value, dict):
        raise SiteConfigError(source, key, f"must be a mapping (key: value), not {_kind(value)}")


def _kind(value: object) -> str:
    return {bool: "true/false", int: "a whole number", float: "a number", str: "text", list: "a list",
            dict: "a mapping", type(None): "empty"}.get(type(value), type(value).__name__)


def _days(value: object, source: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SiteConfigError(source, key, f"must be a whole number of days, not {_kind(value)}")
    if value < 0:
        raise SiteConfigError(source, key, f"must not be negative ({value})")
    return value


# -- pathway ----------------------------------------------------------------------------------------
def _pathway(section: object, source: str) -> PathwaySettings:
    if section is None:
        return PathwaySettings()
    _expect_mapping(section, source, "pathway")
    assert isinstance(section, dict)
    known = {f.name for f in fields(PathwaySettings)}
    values: dict[str, Any] = {}
    for name, raw in section.items():
        key = f"pathway.{name}"
        if name not in known:
            raise SiteConfigError(source, key, "unknown pathway setting (the rule pages list them)")
        values[name] = _pathway_value(name, raw, source, key)
    settings = replace(GUIDELINE, **values)
    _check_consistency(settings, source)
    return settings


def _pathway_value(name: str, raw: object, source: str, key: str) -> object:
    default = getattr(GUIDELINE, name)
    if isinstance(default, bool):
        if not isinstance(raw, bool):
            raise SiteConfigError(source, key, f"must be true or false, not {_kind(raw)}")
        return raw
    if isinstance(default, tuple):
        if not isinstance(raw, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in raw):
            raise SiteConfigError(source, key, f"must be a list of whole numbers, not {_kind(raw)}")
        if any(v <= 0 for v in raw):
            raise SiteConfigError(source, key, "every day must be positive")
        return tuple(raw)
    if isinstance(default, int):
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise SiteConfigError(source, key, f"must be a whole number, not {_kind(raw)}")
    elif isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise SiteConfigError(source, key, f"must be a number, not {_kind(raw)}")
    if raw < 0:
        raise SiteConfigError(source, key, f"must not be negative ({raw})")
    if raw == 0 and name in POSITIVE_FIELDS:
        raise SiteConfigError(source, key, "must be greater than 0")
    if name in PERCENT_FIELDS and raw > 100:
        raise SiteConfigError(source, key, f"is a percentage: at most 100, not {raw}")
    if name.endswith("_fraction") and raw >= 1:
        raise SiteConfigError(source, key, f"is a fraction: below 1, not {raw}")
    return float(raw) if isinstance(default, float) else raw


def _check_consistency(settings: PathwaySettings, source: str) -> None:
    for low, high in ORDERED_PAIRS:
        if getattr(settings, low) > getattr(settings, high):
            raise SiteConfigError(
                source, f"pathway.{low}",
                f"{_plain(getattr(settings, low))} is greater than pathway.{high} ({_plain(getattr(settings, high))})",
            )
    schedule = settings.stent_followup_schedule_days
    if not schedule:
        raise SiteConfigError(source, "pathway.stent_followup_schedule_days", "needs at least one day")
    if list(schedule) != sorted(set(schedule)):
        raise SiteConfigError(source, "pathway.stent_followup_schedule_days",
                              f"must be strictly increasing, not {list(schedule)}")


# -- rules ------------------------------------------------------------------------------------------
def _rules(section: object, source: str) -> dict[str, RulePolicy]:
    if section is None:
        return {}
    _expect_mapping(section, source, "rules")
    assert isinstance(section, dict)
    catalogue = {rule.rule_id: rule for rule in all_rules()}
    service_cards = {card.rule_id for card in SERVICE_CARDS}
    policies = {}
    for rule_id, entry in section.items():
        key = f"rules.{rule_id}"
        if rule_id in service_cards:
            raise SiteConfigError(
                source, key, "is a card about the service itself, not a rule: it cannot be configured"
            )
        if rule_id not in catalogue:
            raise SiteConfigError(source, key, "unknown rule ID (GET /rules lists them)")
        _expect_mapping(entry, source, key)
        policies[rule_id] = _policy(entry, catalogue[rule_id].hook, source, key)
    _check_leaning(policies, source)
    return policies


def _check_leaning(policies: dict[str, RulePolicy], source: str) -> None:
    def mode(rule_id: str) -> str:
        return policies[rule_id].mode if rule_id in policies else ACTIVE

    # A rule's card can lean on another's (Rule.leans_on: MASS-CHARACTERIZE says "the pelvic imaging card
    # carries the study"). Hiding the card leaned on while the other is shown would leave it without its study.
    for rule in all_rules():
        shown = rule.rule_id
        for leaned_on in rule.leans_on:
            rule_id = leaned_on.rule_id
            if mode(shown) == ACTIVE and mode(rule_id) in (SILENT, OFF):
                raise SiteConfigError(
                    source, f"rules.{rule_id}.mode",
                    f"{mode(rule_id)} would hide the card {shown} relies on for its study: give {shown} the same mode",
                )


def _policy(entry: dict, hook: str, source: str, key: str) -> RulePolicy:
    for name in entry:
        if name not in RULE_KEYS:
            raise SiteConfigError(source, f"{key}.{name}", f"unknown key (allowed: {', '.join(RULE_KEYS)})")
    mode = entry.get("mode", ACTIVE)
    if mode is False:  # YAML 1.1 reads a bare `off` as false
        raise SiteConfigError(source, f"{key}.mode", 'write "off" in quotes: YAML reads a bare off as false')
    if not isinstance(mode, str) or mode not in MODES:
        raise SiteConfigError(source, f"{key}.mode", f"must be one of {', '.join(MODES)}, not {mode!r}")
    days = None
    if "lockout_days" in entry:
        days = _days(entry["lockout_days"], source, f"{key}.lockout_days")
        if hook != "patient-view":
            raise SiteConfigError(source, f"{key}.lockout_days", "order rules never lock out: every order is checked")
    return RulePolicy(mode, days)


def _local_valuesets(value: object, source: str, base_dir: Path) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise SiteConfigError(source, "local_valuesets", f"must be a file name, not {_kind(value)}")
    path = (base_dir / value).resolve()
    try:
        load_value_sets(path)
    except OSError as error:
        raise SiteConfigError(source, "local_valuesets", f"{path} cannot be read ({error.strerror or error})") from None
    except (ValueError, KeyError, TypeError, AttributeError, yaml.YAMLError):
        problem = f"{path} is not a value-set file (see docs/terminology.md)"
        raise SiteConfigError(source, "local_valuesets", problem) from None
    return str(path)


def load_for_service(path: str, env_local_valuesets: str = "") -> SiteConfig:
    """The site file as `serve` and `create_app` use it: its codes file and CDS_LOCAL_VALUESETS
    may not both be set (one list of local codes, in one place)."""
    site = load_site_config(path)
    if site.local_valuesets and env_local_valuesets:
        problem = "CDS_LOCAL_VALUESETS is set too: name local codes in one place"
        raise SiteConfigError(site.source, "local_valuesets", problem)
    return site


def log_site_values(site: SiteConfig, logger) -> None:
    """Warn once per pathway value the site changed: sites differ, but it should never go unnoticed."""
    for name, value, guideline in site.site_values():
        logger.warning(f"site setting {name}: {_plain(value)} (guideline: {_plain(guideline)})",
                       extra={"setting": name, "key": site.source})
    for rule_id, policy in sorted(site.rules.items()):
        if policy.mode != ACTIVE:
            logger.warning(f"rule {rule_id} is {policy.mode} at this site", extra={"setting": "mode", "key": rule_id})
