"""The rule framework: a rule declared once, its texts built from the settings, typed frozen findings."""
from __future__ import annotations

import dataclasses
import sys
import typing

import pytest

from cds_service.pathway.findings import Finding, Indicator
from cds_service.pathway.settings import PathwaySettings, Threshold, documented_fields, threshold_of
from cds_service.rules import nivl_ct_not_diagnostic, nivl_ivus_required
from cds_service.rules.framework import PATIENT_VIEW, Rule, SuggestContext
from cds_service.rules.registry import ORDER_RULES, PATIENT_VIEW_RULES, SERVICE_CARDS, all_rules, rule_by_id, rules_for
from cds_service.services import all_services

SITE = PathwaySettings(
    min_stent_length_mm=70.0, ivus_stenosis_threshold_pct=55.0, mass_imaging_lookback_days=21,
    enoxaparin_mg_per_kg=1.5, egfr_renal_dosing=25.0, oversize_min_mm=2.0, oversize_max_mm=5.0,
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Echo(Finding):
    said: str


def echo_rule(**changes) -> Rule:
    fields = dict(
        hooks=PATIENT_VIEW, indicator="info", guideline=(3,), titled="Echo", fires_when="always",
        evaluate=lambda facts, a, s: Echo(indicator=Indicator.INFO, said="hi"),
        render=lambda f, s: (f"said {f.said}", "because"),
    )
    return Rule("TEST-ECHO", **{**fields, **changes})


def test_run_stamps_the_rule_id_on_the_finding():
    finding = echo_rule().run(None, None, PathwaySettings())
    assert finding == Echo(indicator=Indicator.INFO, said="hi", rule_id="TEST-ECHO")


def test_a_rule_naming_a_setting_that_does_not_exist_is_refused():
    with pytest.raises(ValueError, match="TEST-ECHO"):
        echo_rule(uses=("min_stent_length_mm", "no_such_setting"))


def test_the_card_comes_from_the_rule_declaration():
    rule = echo_rule(titled=lambda s: f"Echo at {s.min_stent_length_mm:g} mm")
    finding = rule.run(None, None, SITE)
    card = rule.card(finding, SITE, lambda rule_id: f"https://x/rules/{rule_id}", SuggestContext("p1"))
    assert (card.summary, card.rule_id, card.source.url) == ("said hi", "TEST-ECHO", "https://x/rules/TEST-ECHO")
    assert card.source.topic.display == "Echo at 70 mm"
    assert "because" in card.detail and "(G:3)" in card.detail


def test_rule_ids_are_unique_and_found_by_id():
    ids = [rule.rule_id for rule in [*all_rules(), *SERVICE_CARDS]]
    assert len(ids) == len(set(ids))
    assert all(rule_by_id(rule_id).rule_id == rule_id for rule_id in ids)
    assert rule_by_id("NO-SUCH-RULE") is None


def test_each_hook_runs_the_rules_that_declare_it():
    assert rules_for("patient-view") == PATIENT_VIEW_RULES
    assert rules_for("order-sign") == ORDER_RULES == rules_for("order-select")
    assert not set(SERVICE_CARDS) & set(rules_for("order-sign"))
    assert {service.hook for service in all_services()} == {"patient-view", "order-select", "order-sign"}


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.rule_id)
def test_findings_are_typed_frozen_dataclasses(rule):
    hints = typing.get_type_hints(rule.evaluate, globalns=vars(sys.modules[rule.evaluate.__module__]))
    kinds = [k for k in typing.get_args(hints["return"]) if k is not type(None)]
    assert kinds and all(issubclass(kind, Finding) and kind is not Finding for kind in kinds), rule.rule_id
    for kind in kinds:
        assert kind.__dataclass_params__.frozen, kind
        assert not [f.name for f in dataclasses.fields(kind) if "dict" in str(f.type)], kind


def test_titles_and_fires_when_texts_follow_the_settings():
    """A threshold is typed once, on the settings: change it and every text naming it changes."""
    changed = {
        rule.rule_id
        for rule in all_rules()
        if (rule.title_for(SITE), rule.checks_for(SITE)) != (rule.title, rule.checks)
    }
    assert {"NIVL-BELOW-THRESHOLD", "MASS-CHARACTERIZE", "DVT-ANTICOAGULATE"} <= changed
    below = rule_by_id("NIVL-BELOW-THRESHOLD")
    assert below.checks_for(SITE).endswith("(55 %).") and below.checks.endswith("(61 %).")


def test_discovery_text_follows_the_settings():
    for service in all_services():
        if service.hook == "patient-view":
            continue
        text = service.discovery_json(SITE)["description"]
        assert ">= 70 mm" in text and "+ 2 to 5 mm" in text and "> 55 %" in text, service.id
        assert ">= 60 mm" in service.discovery_json()["description"]


def test_every_setting_carries_its_meaning_and_source():
    documented = documented_fields()
    assert [name for name, _, _ in documented] == [f.name for f in dataclasses.fields(PathwaySettings)]
    for name, default, doc in documented:
        assert isinstance(doc, Threshold) and doc.meaning and doc.source, name
        assert threshold_of(name) == doc
    assert threshold_of("no_such_setting") is None


def test_ivus_required_defers_to_the_ct_rule_by_its_predicate():
    """The relation is named through the other unit (no rule ID string)."""
    assert nivl_ivus_required.nivl_ct_not_diagnostic is nivl_ct_not_diagnostic
    assert callable(nivl_ct_not_diagnostic.applies)
