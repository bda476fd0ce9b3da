"""What order-select and order-sign share: read the draft orders, check them, render the cards.

`check_orders(call, commented)` reads every draft order, checks those `commented` picks
(order-select: the selections; order-sign: all), and returns the cards: one per finding, each
naming the order (its id and what was ordered, in the clinician's units and in mm), the numbers
compared and the guideline statement, plus one DATA-UNAVAILABLE information card when part of
the patient's record could not be read.
"""
from __future__ import annotations

import re
from typing import Callable

from cds_service.fhir.orders import read_draft_orders
from cds_service.pathway import axes
from cds_service.pathway.assessment import assess
from cds_service.pathway.catalogue import DATA_UNAVAILABLE as SERVICE_CARD
from cds_service.pathway.facts import DraftOrder, Evidence, OrderKind
from cds_service.pathway.findings import Finding, Indicator
from cds_service.pathway.guideline import guideline_text
from cds_service.pathway.order_rules import RULE_ORDER, RULES, checks_not_run, evaluate_orders
from cds_service.pathway.settings import PathwaySettings
from cds_service.protocol.cards import Card
from cds_service.services.base import HookCall
from cds_service.services.order_actions import DraftSet, suggestions_for
from cds_service.services.render import by_urgency, detail_markdown, make_card, shorten

# A service card, not a clinical rule of RULES.md: its catalogue entry lets the rule pages explain it too.
DATA_UNAVAILABLE_INFO = SERVICE_CARD
DATA_UNAVAILABLE = SERVICE_CARD.rule_id
RULE_INFO = {rule.rule_id: rule for rule in RULES + (DATA_UNAVAILABLE_INFO,)}
Selector = Callable[[list[DraftOrder]], list[DraftOrder]]


def _mm(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.10g} mm"


def _num(value: object) -> str:
    return f"{value:.10g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


QUANTITY = re.compile(r"^\d+(?:\.\d+)? [^\s\d]+$")  # "5.9 cm", "2 [in_i]": a parameter's value and unit


def as_ordered(written: str, millimetres: float | None) -> str:
    """The size as the clinician wrote it, and in mm when that is not already how it was written:
    "5.9 cm (= 59 mm)", "50 mm (order text '14x50mm')"."""
    if not written:
        return _mm(millimetres)
    if millimetres is None:
        return f"{written} (not readable as a size)"
    if written.replace(" ", "") == f"{millimetres:.10g}mm":
        return written
    if QUANTITY.match(written):
        return f"{written} (= {_mm(millimetres)})"
    return f"{_mm(millimetres)} (order text '{written}')"


def _order_line(v: dict) -> str:
    return f"**Order:** {v['order_display']} (`{v['order_ref']}`)."


def _scope_note(v: dict) -> str:
    if not v.get("scope_unknown"):
        return ""
    return (
        "\n\nThe patient's record could not be read, so it is not known whether this venous stent is iliac; "
        "the length check needs only the order and was run."
    )


def _device_note(v: dict) -> str:
    return f" The size is that of the device order `{v['size_ref']}`, based on this procedure." if v.get("size_ref") else ""


# -- one renderer per rule: finding -> (summary, reasoning) -------------------------------------------------
def _stent_length(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    length = as_ordered(v["length_as_ordered"], v["length_mm"])
    minimum = _num(v["min_length_mm"])
    summary = f"Stent length {length} < {minimum} mm minimum: migration risk. Order {minimum} mm or longer"
    reasoning = (
        f"{_order_line(v)} Length as ordered: {length}; the minimum is {minimum} mm.{_device_note(v)}\n\n"
        "Stents shorter than 60 mm account for 82.6 % of stent migrations, with 16.2 % mortality; 56 % of "
        "migrated stents reach the heart and 24 % the pulmonary artery. Extend the stent into the straight "
        f"portion of the external iliac vein. Suggested: the same order with a {minimum} mm length, nothing "
        "else changed." + _scope_note(v)
    )
    return summary, reasoning


def _stent_length_unknown(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    minimum = _num(v["min_length_mm"])
    if v["length_as_ordered"]:
        found = (
            f"the length is given as '{v['length_as_ordered']}', which the service cannot read as a length "
            "(a number with a decimal point, in UCUM mm, cm, m or [in_i])"
        )
    else:
        found = "the order states no stent length"
    summary = f"Stent length cannot be verified: it must be at least {minimum} mm"
    reasoning = f"{_order_line(v)} The length cannot be verified: {found}.{_device_note(v)} It must be ≥ {minimum} mm."
    if not v["device_ordered"]:
        reasoning += " (A procedure order: the size is often chosen on the table; confirm it then.)"
    return summary, reasoning + _scope_note(v)


def _stent_diameter(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    diameter = as_ordered(v["diameter_as_ordered"], v["diameter_mm"])
    low, high, reference = _num(v["range_low_mm"]), _num(v["range_high_mm"]), _num(v["reference_mm"])
    oversize = v["oversize_mm"]
    oversize_range = f"{_num(s.oversize_min_mm)} to {_num(s.oversize_max_mm)}"
    summary = f"Stent diameter {_num(v['diameter_mm'])} mm outside {low}-{high} mm (EIV reference {reference} mm + {oversize_range})"
    reasoning = (
        f"{_order_line(v)} Diameter as ordered: {diameter}.{_device_note(v)}\n\n"
        f"IVUS external iliac vein reference diameter: {reference} mm; oversize by {_num(s.oversize_min_mm)}-"
        f"{_num(s.oversize_max_mm)} mm, so the acceptable range is {low}-{high} mm. The ordered stent is "
        f"{oversize:+.10g} mm against the reference. Suggested: {_num(v['suggested_mm'])} mm, the nearest "
        "diameter in range."
    )
    return summary, reasoning


def _stent_ivus_required(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    what = "Venoplasty" if v["procedure"] == "venoplasty" else "Stent"
    summary = f"{what} ordered with no IVUS on record or ordered: IVUS confirmation is mandatory first"
    reasoning = (
        f"{_order_line(v)} No IVUS result is on record and no IVUS is in this order set.\n\n"
        "Venography with IVUS is mandatory before any intervention and is the only definitive test; do not treat "
        "on CT or ultrasound findings alone. Size the stent from the IVUS external iliac reference vessel. "
        "Ordering IVUS in the same order set makes the intervention conditional on intra-procedural IVUS."
    )
    if v.get("ct_compression") is not None:
        reasoning += f" The CT compression of {_num(v['ct_compression'])} % does not predict symptoms."
    return summary, reasoning


def _stent_below_threshold(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    summary = f"IVUS stenosis {_num(v['stenosis_pct'])} % is not above the {_num(v['threshold_pct'])} % stenting threshold"
    reasoning = (
        f"{_order_line(v)} IVUS diameter stenosis {_num(v['stenosis_pct'])} % ≤ {_num(v['threshold_pct'])} %: below "
        "the threshold most predictive of clinical success with stenting."
    )
    return summary, reasoning


def _stent_dynamic_lesion(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    summary = "Stent ordered for a dynamic lesion: do not stent lesions that vary with breathing or position"
    reasoning = f"{_order_line(v)} The lesion is recorded as dynamic. Only fixed lesions warrant treatment."
    return summary, reasoning


def _stent_bilateral_edema(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    summary = "Stent ordered with bilateral leg edema: rarely NIVL, look for a systemic cause"
    reasoning = (
        f"{_order_line(v)} Bilateral edema is recorded. Bilateral edema is rarely caused by NIVL and suggests a "
        "systemic cause; stenting needs asymmetrical edema."
    )
    return summary, reasoning


def _stent_minimal_symptoms(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    if v["variant"] == "minimal":
        summary = "Stent ordered for mild swelling: stenting is inappropriate for minimal symptoms"
        found = "The swelling is recorded as mild."
    else:
        summary = "Stent ordered with no symptoms recorded: prophylactic stenting is inappropriate"
        found = "No leg swelling or other venous symptom is recorded."
    reasoning = f"{_order_line(v)} {found} Stenting is inappropriate for minimal symptoms or as prophylaxis."
    return summary, reasoning


def _stent_dvt_not_excluded(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    if v["dvt_axis"] == axes.CONFIRMED:
        preliminary = " (preliminary result)" if v.get("preliminary") else ""
        summary = "Stent ordered with an acute DVT: anticoagulate first; stent only with thrombus removal"
        reasoning = (
            f"{_order_line(v)} An acute DVT is confirmed{preliminary}. Anticoagulate first; stenting only together "
            "with thrombus removal, by the vascular team."
        )
    elif v["dvt_axis"] == axes.PELVIC_IMAGING_NEEDED:
        summary = "Stent ordered before iliac DVT is excluded: image the pelvic veins (CT/MR venography) first"
        reasoning = (
            f"{_order_line(v)} DVT has not been excluded: the leg duplex was negative, but a pelvic trigger "
            f"({', '.join(v['triggers'])}) needs CT or MR venography of the pelvis, not done since."
        )
        if v.get("imaging_unreadable"):
            reasoning += (
                " The imaging studies could not be read: if a pelvic CT or MR venography was done, review its report;"
                " with no coded result it does not exclude DVT either."
            )
    else:
        limited = " The only duplex covered part of the leg." if v.get("limited_study") else ""
        summary = "Stent ordered before DVT is excluded: complete whole-leg duplex first"
        reasoning = (
            f"{_order_line(v)} DVT has not been excluded.{limited} Rule out DVT first with a complete duplex "
            "from the common femoral vein through the calf veins; NIVL is considered once DVT is excluded."
        )
    return summary, reasoning


def _stent_other_causes(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    names = [display for _, display, _ in v["causes"]]
    summary = f"Stent ordered with another edema cause: {', '.join(names)}"
    listed = "\n".join(f"- {display} (`{ref}`)" for _, display, ref in v["causes"])
    reasoning = (
        f"{_order_line(v)} Other causes of edema are recorded:\n\n{listed}\n\nStenting is appropriate only after "
        "other causes (heart failure, renal or liver disease, hypoproteinemia, medications, lymphedema) are excluded."
    )
    return summary, reasoning


def _stent_mass_not_characterized(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    summary = "Stent ordered with an uncharacterized pelvic mass: contrast CT or MRI first"
    reasoning = (
        f"{_order_line(v)} The mass {v['mass_display']} (`{v['mass_ref']}`) has no recorded nature and no contrast "
        "CT or MRI since. The mass may itself compress the vein (tumour, lymphadenopathy, abscess, hematoma): "
        "characterize it with contrast CT or MRI before stenting."
    )
    return summary, reasoning


def _stent_extrinsic_mass(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    nature = v["nature_display"]
    if v["symptoms_severe"]:
        summary = f"Stent for compression by {shorten(nature, 50)}: temporizing or palliative only"
        severity = "Symptoms are severe: a stent may be a temporizing measure if the mass is not immediately resectable."
    else:
        summary = f"Stent for compression by {shorten(nature, 50)}, symptoms not severe: treat the mass"
        severity = "Symptoms are not recorded as severe: a temporizing stent is for severe symptoms only."
    reasoning = (
        f"{_order_line(v)} The compression is extrinsic: {nature}. Treat the underlying lesion (oncologic "
        f"treatment for malignancy, drainage for an abscess, excision for a benign compressive lesion). {severity} "
        "For malignancy, coordinate with oncology; palliative stenting if life expectancy permits."
    )
    return summary, reasoning


def _ivc_filter_not_indicated(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    summary = "Vena cava filter ordered with no contraindication to anticoagulation recorded"
    reasoning = (
        f"{_order_line(v)} No anticoagulation contraindication is recorded (no recent bleeding, platelets not "
        "below the contraindication threshold). A vena cava filter is only for patients who cannot be "
        "anticoagulated. Suggested: remove the draft order."
    )
    return summary, reasoning


def _thrombolysis_not_indicated(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    found = []
    found.append("limb-threatening ischemia recorded" if v["limb_threat"] else "no limb-threatening ischemia")
    if v["requires_hypotension"]:
        found.append("severe hypotension recorded" if v["severe_hypotension"] else "no severe hypotension")
    if v["contraindicated"]:
        found.append("a contraindication to anticoagulation (bleeding or low platelets)")
    if v["hemorrhagic_shock"]:
        found.append("hemorrhagic / hypovolemic shock")
    dose = f", total {_num(v['total_mg'])} mg" if v.get("total_mg") is not None else ""
    summary = _thrombolysis_summary(v, s)
    reasoning = (
        f"{_order_line(v)}{' Dose' + dose[1:] + '.' if dose else ''} Found: {'; '.join(found)}.\n\n"
        "Thrombolysis is reserved for limb-threatening ischemia with severe hypotension; its hemorrhage risk is "
        "about 8 %. No other thrombolysis indication (stroke, myocardial infarction, PE with shock, acute arterial "
        "limb ischemia) is recorded. Suggested: remove the draft order."
    )
    return summary, reasoning


def _thrombolysis_summary(v: dict, s: PathwaySettings) -> str:
    """Say what is missing, or what rules thrombolysis out: it is not always the indication."""
    if not v["limb_threat"]:
        return "Thrombolysis with no limb-threatening ischemia recorded: reserved for it with severe hypotension (8 % bleeding)"
    if v["requires_hypotension"] and not v["severe_hypotension"]:
        return "Thrombolysis for limb-threatening ischemia without severe hypotension: not indicated (8 % bleeding)"
    if v["hemorrhagic_shock"]:
        return "Thrombolysis with hemorrhagic / hypovolemic shock: not indicated (hemorrhage risk 8 %)"
    platelets = _num(s.platelets_contraindication_10_3_ul)
    return f"Thrombolysis with recent bleeding or platelets < {platelets}: contraindicated (hemorrhage risk 8 %)"


def _interval(per_day: object) -> str:
    if per_day == 2:
        return "every 12 h"
    if per_day == 1:
        return "every 24 h"
    if isinstance(per_day, (int, float)) and per_day > 0:
        return f"{_num(per_day)} times a day"
    return "frequency not readable"


def _anticoag_regimen(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    variant = v["variant"]
    per_kg = f"{_num(s.enoxaparin_mg_per_kg)} mg/kg"
    if variant == "hit":
        return _heparin_despite_hit(v)
    if variant in ("non-lmwh", "pregnancy", "pregnancy-unknown"):
        return _non_lmwh(v, per_kg)
    ordered = f"{_num(v['dose'])} {v['dose_unit']}" if v.get("dose") is not None else "dose not readable"
    ordered += f" {_interval(v['per_day'])}"
    expected_interval = _interval(v["expected_per_day"])
    renal = _renal_text(v)
    if variant in ("no-weight", "frequency-no-weight"):
        summary = (
            f"{v['ingredient'].capitalize()} {ordered}: not {expected_interval}"
            if variant == "frequency-no-weight" else "Enoxaparin dose cannot be checked: no body weight available"
        )
        weight = "The body weight could not be read" if v.get("weight_unreadable") else "No recent body weight"
        reasoning = (
            f"{_order_line(v)} Ordered: {ordered}. {weight}, so the weight-adjusted dose ({per_kg}) cannot be "
            f"computed: check or record a weight. The regimen is {expected_interval}.{renal}"
        )
        return summary, reasoning
    if v.get("expected_dose_mg") is None and variant == "unreadable":  # dalteparin, tinzaparin: no frequency
        summary = f"{v['ingredient'].capitalize()} order could not be checked: LMWH is given {expected_interval}"
        reasoning = (
            f"{_order_line(v)} Ordered: {ordered}. The frequency could not be read, so the order cannot be confirmed "
            f"as the guideline's regimen, LMWH {expected_interval}.{renal}"
        )
        return summary, reasoning
    if v.get("expected_dose_mg") is None:  # dalteparin, tinzaparin: frequency only
        summary = f"{v['ingredient'].capitalize()} {ordered}: LMWH should be given {expected_interval}"
        reasoning = f"{_order_line(v)} Ordered: {ordered}. The guideline's regimen is LMWH {expected_interval}.{renal}"
        return summary, reasoning
    expected = f"{_num(v['expected_dose_mg'])} mg {expected_interval}"
    tolerance = f"±{_num(v['tolerance_mg'])} mg"
    if variant == "unreadable":
        summary = f"Enoxaparin order could not be checked: expected {expected} ({_num(v['weight_kg'])} kg)"
    else:
        summary = f"Enoxaparin {ordered} is not the weight-adjusted {expected} ({_num(v['weight_kg'])} kg)"
    reasoning = (
        f"{_order_line(v)} Ordered: {ordered}. Weight-adjusted regimen: {per_kg} = {expected} for "
        f"{_num(v['weight_kg'])} kg (rounded to {_num(s.enoxaparin_rounding_mg)} mg; accepted within {tolerance}, "
        f"the larger of {_num(s.regimen_tolerance_fraction * 100)} % and {_num(s.regimen_tolerance_min_mg)} mg)."
        f"{renal}"
    )
    if f.proposals:
        reasoning += f"\n\nSuggested: the same order at {expected}."
    return summary, reasoning


def _renal_text(v: dict) -> str:
    if v.get("egfr") is None:
        return " Renal function (eGFR) is unknown: checked against every 12 h; check it before the second dose."
    if v["expected_per_day"] == 1:
        return f" eGFR {_num(v['egfr'])} < {_num(v['egfr_threshold'])}: every 24 h."
    return ""


def _heparin_despite_hit(v: dict) -> tuple[str, str]:
    agent = v["ingredient"] or "heparin"
    summary = f"{agent.capitalize()} ordered with heparin-induced thrombocytopenia on record: use a non-heparin anticoagulant"
    reasoning = (
        f"{_order_line(v)} Heparin-induced thrombocytopenia is on record: no heparin may be given, low molecular weight "
        "heparin included, whatever the dose. The DVT still needs anticoagulation: a non-heparin anticoagulant is "
        "needed (the guideline's LMWH regimen does not apply). No dose change is suggested."
    )
    return summary, reasoning


def _non_lmwh(v: dict, per_kg: str) -> tuple[str, str]:
    if v.get("hit"):
        return _non_heparin_with_hit(v)
    agent = v["ingredient"]
    if v["variant"] == "pregnancy":
        summary = f"{agent.capitalize()} in pregnancy: use LMWH twice daily, weight-adjusted"
        extra = " The patient is pregnant: warfarin and direct oral anticoagulants are to be avoided."
    elif v["variant"] == "pregnancy-unknown":
        summary = f"{agent.capitalize()} ordered, pregnancy status could not be read: guideline regimen is LMWH"
        extra = " Whether the patient is pregnant could not be read: warfarin and DOACs are to be avoided in pregnancy."
    else:
        summary = f"{agent.capitalize()} ordered for DVT: the guideline's regimen is LMWH twice daily, weight-adjusted"
        extra = ""
    reasoning = (
        f"{_order_line(v)} For confirmed DVT the guideline recommends therapeutic LMWH twice daily at weight-adjusted "
        f"doses (enoxaparin {per_kg} every 12 h).{extra}"
    )
    return summary, reasoning


def _non_heparin_with_hit(v: dict) -> tuple[str, str]:
    """With HIT the guideline's LMWH is no alternative: the card must not recommend it."""
    agent = v["ingredient"]
    if v["variant"] in ("pregnancy", "pregnancy-unknown"):
        pregnancy = "in pregnancy" if v["variant"] == "pregnancy" else "(pregnancy status unread)"
        summary = f"{agent.capitalize()} {pregnancy} with HIT recorded: no DOAC, no heparin; plan with hematology"
        extra = (" Warfarin and direct oral anticoagulants are to be avoided in pregnancy, and heparins with "
                 "heparin-induced thrombocytopenia: the choice needs hematology.")
    else:
        summary = f"{agent.capitalize()} for DVT with HIT recorded: a non-heparin agent fits; LMWH is no alternative"
        extra = ""
    reasoning = (
        f"{_order_line(v)} For confirmed DVT the guideline recommends LMWH twice daily, but heparin-induced "
        f"thrombocytopenia is on record, so a non-heparin anticoagulant is needed and LMWH is no alternative.{extra}"
    )
    return summary, reasoning


def _post_stent_antithrombotic_order(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    agent = v["ingredient"] or "antithrombotic"
    summary = f"{agent.capitalize()} after NIVL stenting without prior VTE: no consensus supports it"
    reasoning = (
        f"{_order_line(v)} The iliac stent was placed for NIVL, with no VTE ever recorded and no other indication for "
        "antithrombotic therapy. If it is meant only for the venous stent: no consensus supports routine "
        "anticoagulation or antiplatelet therapy after NIVL stenting without prior VTE; patency is high without it."
    )
    return summary, reasoning


RENDERERS: dict[str, Callable[[Finding, PathwaySettings], tuple[str, str]]] = {
    "STENT-LENGTH": _stent_length,
    "STENT-LENGTH-UNKNOWN": _stent_length_unknown,
    "STENT-DIAMETER": _stent_diameter,
    "STENT-IVUS-REQUIRED": _stent_ivus_required,
    "STENT-BELOW-THRESHOLD": _stent_below_threshold,
    "STENT-DYNAMIC-LESION": _stent_dynamic_lesion,
    "STENT-BILATERAL-EDEMA": _stent_bilateral_edema,
    "STENT-MINIMAL-SYMPTOMS": _stent_minimal_symptoms,
    "STENT-DVT-NOT-EXCLUDED": _stent_dvt_not_excluded,
    "STENT-OTHER-CAUSES": _stent_other_causes,
    "STENT-MASS-NOT-CHARACTERIZED": _stent_mass_not_characterized,
    "STENT-EXTRINSIC-MASS": _stent_extrinsic_mass,
    "IVC-FILTER-NOT-INDICATED": _ivc_filter_not_indicated,
    "THROMBOLYSIS-NOT-INDICATED": _thrombolysis_not_indicated,
    "ANTICOAG-REGIMEN": _anticoag_regimen,
    "POST-STENT-ANTITHROMBOTIC-ORDER": _post_stent_antithrombotic_order,
}


def _order_evidence(order: DraftOrder) -> Evidence:
    """The draft order itself, first among the facts a card used."""
    parts = [order.display]
    if order.length_as_ordered:
        parts.append(f"length {as_ordered(order.length_as_ordered, order.length_mm)}")
    if order.diameter_as_ordered:
        parts.append(f"diameter {as_ordered(order.diameter_as_ordered, order.diameter_mm)}")
    return Evidence(ref=order.ref, display=", ".join(parts))


def render_card(finding: Finding, order: DraftOrder, call: HookCall, drafts: DraftSet) -> Card:
    rule = RULE_INFO[finding.rule_id]
    summary, reasoning = RENDERERS[finding.rule_id](finding, call.pathway)
    device = (Evidence(ref=order.size_ref, display="stent device order based on this procedure (holds the size)"),) if order.size_ref else ()
    evidence = (_order_evidence(order),) + device + tuple(e for e in finding.evidence if e.ref != order.ref)
    detail = detail_markdown(reasoning, evidence, guideline_text(rule.guideline_lines))
    return make_card(finding, shorten(summary), detail, call.rule_url, rule.title, suggestions_for(finding, drafts),
                     evidence=evidence)


# -- DATA-UNAVAILABLE -----------------------------------------------------------------------------------
def data_unavailable_card(call: HookCall, checks: list[str]) -> Card:
    """`checks`: the rule IDs that could not run (`order_rules.checks_not_run`)."""
    unreadable = sorted(call.record.unreadable)
    if checks:
        summary = f"Part of the patient record could not be read: {len(checks)} order checks could not run"
    else:
        summary = f"Part of the patient record could not be read ({', '.join(unreadable)}): no order check needed it"
    notes = "\n".join(f"- {note}" for note in call.record.notes) or "- " + ", ".join(unreadable)
    listed = "\n".join(f"- {rule_id}: {RULE_INFO[rule_id].title}" for rule_id in checks)
    reasoning = (
        f"Part of the patient's record could not be read:\n\n{notes}\n\n"
        "Unknown is not absent: the checks below need that data and could not be run, so their silence does not "
        "mean the order is safe. Checks that need only the order (stent length) were run."
    )
    if listed:
        reasoning += f"\n\n**Checks not run**\n\n{listed}"
    finding = Finding(DATA_UNAVAILABLE, Indicator.INFO, {"unreadable": unreadable, "checks": checks})
    detail = detail_markdown(reasoning, (), "")
    return make_card(finding, shorten(summary), detail, call.rule_url, DATA_UNAVAILABLE_INFO.title)


# -- the shared handler -----------------------------------------------------------------------------------
def record_resources(call: HookCall) -> list[dict]:
    resources = [r for items in call.record.resources.values() for r in items if isinstance(r, dict)]
    return resources + ([call.record.patient] if isinstance(call.record.patient, dict) else [])


def _orders_by_ref(orders: list[DraftOrder]) -> dict[str, DraftOrder]:
    """One order per resource for the card: a resource that is both a stent and IVUS is shown as the stent."""
    by_ref: dict[str, DraftOrder] = {}
    for order in orders:
        if order.ref not in by_ref or order.kind is OrderKind.STENT:
            by_ref[order.ref] = order
    return by_ref


def check_orders(call: HookCall, commented: Selector) -> list[Card]:
    """Cards for the orders `commented` picks out of the draft orders, critical first."""
    # Imported here: the FHIR package imports the services' base types, not the other way round.
    from cds_service.fhir.extract import extract_facts

    draft_set = read_draft_orders(call.draft_orders, call.value_sets, record_resources(call))
    orders = commented(draft_set)
    if not orders:
        return []
    facts = extract_facts(call.record, call.now, call.value_sets)
    assessment = assess(facts, call.pathway)
    findings = evaluate_orders(orders, facts, assessment, call.pathway, draft_set=draft_set, skip=call.rules_off)
    drafts = DraftSet(tuple(r for r in call.draft_orders if isinstance(r, dict)), call.value_sets)
    by_ref = _orders_by_ref(orders)
    position = {o.ref: index for index, o in enumerate(orders)}
    ranked = [
        (render_card(f, by_ref[f.order_ref], call, drafts), RULE_ORDER[f.rule_id] * 1000 + position[f.order_ref])
        for f in findings
    ]
    if call.record.unreadable:
        checks = checks_not_run(orders, facts, assessment, call.pathway, findings, skip=call.rules_off)
        ranked.append((data_unavailable_card(call, checks), len(RULE_ORDER) * 1000))
    return by_urgency(ranked)
