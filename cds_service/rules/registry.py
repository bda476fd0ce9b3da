"""The one registry of rules: services, rule pages, discovery text and docs all read it.

The order of each tuple is the pathway order of RULES.md (DVT, mass, lesion, stent): cards of the
same indicator come in this order. Adding a rule: write its unit, put its `RULE` here in place.
"""
from __future__ import annotations

from collections.abc import Collection

from cds_service.rules import (
    anticoag_regimen,
    data_unavailable,
    dvt_anticoagulate,
    dvt_distal_surveillance,
    dvt_duplex,
    dvt_ivc_filter_option,
    dvt_pelvic_imaging,
    dvt_thrombolysis_option,
    ivc_filter_not_indicated,
    mass_characterize,
    mass_extrinsic,
    nivl_below_threshold,
    nivl_bilateral_edema,
    nivl_ct_not_diagnostic,
    nivl_dynamic_lesion,
    nivl_ivus_required,
    nivl_minimal_symptoms,
    nivl_other_causes,
    nivl_stent_candidate,
    nivl_workup,
    post_stent_antithrombotic,
    post_stent_antithrombotic_order,
    post_stent_followup,
    post_stent_thrombosis,
    stent_below_threshold,
    stent_bilateral_edema,
    stent_diameter,
    stent_dvt_not_excluded,
    stent_dynamic_lesion,
    stent_extrinsic_mass,
    stent_ivus_required,
    stent_length,
    stent_length_unknown,
    stent_mass_not_characterized,
    stent_minimal_symptoms,
    stent_other_causes,
    thrombolysis_not_indicated,
)
from cds_service.rules.framework import Rule

PATIENT_VIEW_RULES: tuple[Rule, ...] = (
    dvt_duplex.RULE,
    dvt_pelvic_imaging.RULE,
    dvt_anticoagulate.RULE,
    dvt_ivc_filter_option.RULE,
    dvt_distal_surveillance.RULE,
    dvt_thrombolysis_option.RULE,
    mass_characterize.RULE,
    mass_extrinsic.RULE,
    nivl_workup.RULE,
    nivl_other_causes.RULE,
    nivl_bilateral_edema.RULE,
    nivl_ct_not_diagnostic.RULE,
    nivl_ivus_required.RULE,
    nivl_stent_candidate.RULE,
    nivl_below_threshold.RULE,
    nivl_dynamic_lesion.RULE,
    nivl_minimal_symptoms.RULE,
    post_stent_followup.RULE,
    post_stent_thrombosis.RULE,
    post_stent_antithrombotic.RULE,
)
# RULES.md order: the order of an order's cards within an indicator.
ORDER_RULES: tuple[Rule, ...] = (
    stent_length.RULE,
    stent_length_unknown.RULE,
    stent_diameter.RULE,
    stent_ivus_required.RULE,
    stent_below_threshold.RULE,
    stent_dynamic_lesion.RULE,
    stent_bilateral_edema.RULE,
    stent_minimal_symptoms.RULE,
    stent_dvt_not_excluded.RULE,
    stent_other_causes.RULE,
    stent_mass_not_characterized.RULE,
    stent_extrinsic_mass.RULE,
    ivc_filter_not_indicated.RULE,
    thrombolysis_not_indicated.RULE,
    anticoag_regimen.RULE,
    post_stent_antithrombotic_order.RULE,
)
# Cards about the service itself: a page and an ID, no guideline line; never evaluated as a rule of a hook.
SERVICE_CARDS: tuple[Rule, ...] = (data_unavailable.RULE,)


def rules_for(hook: str, off: Collection[str] = ()) -> tuple[Rule, ...]:
    """The clinical rules that declare this hook, in pathway order; `off`: rule IDs a site switched off
    (site_config, mode "off"), left out so they are never evaluated."""
    return tuple(rule for rule in (*PATIENT_VIEW_RULES, *ORDER_RULES) if hook in rule.hooks and rule.rule_id not in off)


def all_rules() -> list[Rule]:
    """Every clinical rule (the rule index); service cards are not listed."""
    return [*PATIENT_VIEW_RULES, *ORDER_RULES]


def rule_by_id(rule_id: str) -> Rule | None:
    return next((rule for rule in (*all_rules(), *SERVICE_CARDS) if rule.rule_id == rule_id), None)
