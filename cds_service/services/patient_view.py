"""The patient-view service: pathway findings rendered as CDS Hooks cards.

Every card: a specific summary (< 140 characters), Markdown detail with the
reasoning, the facts used (with their FHIR references) and the guideline
statement, the rule ID as `source.topic`, the rule page as `source.url`.
Cards come critical, warning, info; within that in pathway order.
"""
from __future__ import annotations

from typing import Callable

from cds_service.pathway import axes
from cds_service.pathway.assessment import HIT_REASON, PREGNANCY_REASON
from cds_service.pathway.findings import Finding
from cds_service.pathway.guideline import guideline_text
from cds_service.pathway.patient_view import PATHWAY_ORDER, RULES, evaluate
from cds_service.pathway.settings import PathwaySettings
from cds_service.protocol.cards import Card
from cds_service.services.base import PATIENT_PREFETCH, HookCall, ServiceDefinition
from cds_service.services.render import by_urgency, detail_markdown, make_card, shorten
from cds_service.services.suggested_orders import suggestion

RULE_INFO = {rule.rule_id: rule for rule in RULES}
SIDE_WORD = {"left": "Left", "right": "Right", "both": "Bilateral", "unknown": ""}


def _num(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def _unreadable_note(types) -> str:
    if not types:
        return ""
    return (
        f"\n\nImaging results could not be read ({', '.join(types)}): a newer study may exist, so DVT is "
        "not considered excluded. Check the record."
    )


# -- one renderer per rule: finding -> (summary, reasoning) -----------------------------------------
def _dvt_duplex(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    study_date = v.get("study_date", "")
    base = (
        "Rule out DVT first: complete duplex ultrasound of the whole leg, from the common femoral vein "
        "through the calf veins."
    )
    variant = v["variant"]
    if variant == "result-not-coded":
        summary = f"Duplex of {study_date}: result not coded, review the report to rule out DVT"
        reasoning = (
            f"Duplex of {study_date}: result not coded, review the report. Until its result is known DVT is "
            f"neither confirmed nor excluded. {base} No new study is suggested."
        )
    elif variant == "preliminary":
        summary = f"Duplex of {study_date} is preliminary: DVT not excluded until the final report"
        reasoning = (
            f"The duplex of {study_date} is preliminary. A preliminary result never excludes DVT: review "
            f"the final report. {base}"
        )
    elif variant == "limited" and v["extent"] == "femoropopliteal":
        summary = f"Study of {study_date} covered only the femoropopliteal segments: complete whole-leg duplex needed"
        reasoning = (
            f"Study of {study_date} covered only the femoropopliteal segments; the calf veins were not imaged. {base}"
        )
    elif variant == "limited":
        summary = f"Study of {study_date} covered only an unrecorded extent: complete whole-leg duplex needed"
        reasoning = (
            f"Study of {study_date} covered only an unrecorded extent: it is not documented as a whole-leg study "
            f"(common femoral through calf veins), so it cannot exclude DVT. {base}"
        )
    elif variant == "expired":
        summary = f"Negative duplex of {study_date} is over {v['window_days']} days old: repeat whole-leg duplex"
        reasoning = f"A negative duplex stays valid at most {v['window_days']} days. {base}"
    elif variant == "new-swelling":
        summary = f"New or worse swelling since the negative duplex of {study_date}: repeat whole-leg duplex"
        reasoning = (
            f"Swelling recorded on {v['swelling_date']} is new or worse than before the negative duplex of "
            f"{study_date}, so that study no longer excludes DVT. {base}"
        )
    else:
        if v["side"] in ("left", "right"):
            summary = f"{SIDE_WORD[v['side']]} leg swelling: rule out DVT first with a complete whole-leg duplex"
        else:
            summary = "Iliac mass: rule out DVT first with a complete duplex of both legs"
        reasoning = f"{base} {_duplex_risk(v)} If DVT is present, anticoagulation must start urgently."
    return summary, reasoning + _unreadable_note(v.get("reports_unreadable"))


def _duplex_risk(v: dict) -> str:
    """Why the duplex comes first, naming only what this patient has (G:3)."""
    if v.get("mass") and v["side"] in ("left", "right"):
        return f"{SIDE_WORD[v['side']]} leg swelling with an iliac / pelvic mass carries a high risk of venous thrombosis."
    if v.get("mass"):
        return "An iliac / pelvic mass carries a high risk of venous thrombosis in the leg it drains."
    return f"{SIDE_WORD[v['side']]} leg swelling: acute DVT must be excluded before the swelling is put down to anything else."


TRIGGER_TEXT = {
    axes.PERSISTING_SWELLING: "whole-leg swelling persists after the negative duplex",
    axes.ABNORMAL_CFV_WAVEFORM: "flat, non-phasic (or absent) common femoral vein flow = proximal obstruction",
    axes.PELVIC_MASS: "an iliac / pelvic mass: a leg ultrasound cannot exclude thrombus at the compression",
}
TRIGGER_SUMMARY = {
    axes.PERSISTING_SWELLING: "Negative duplex but swelling persists: image the pelvic veins",
    axes.ABNORMAL_CFV_WAVEFORM: "Non-phasic common femoral flow (proximal obstruction): image the pelvic veins",
    axes.PELVIC_MASS: "Negative duplex with a pelvic mass: image the iliac and pelvic veins",
}


def _dvt_pelvic_imaging(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    triggers = [t for t in TRIGGER_TEXT if t in v["triggers"]]
    if v["dvt_axis"] == axes.CONFIRMED:
        summary = "DVT with non-phasic common femoral flow: image the iliac veins (CT/MR venography)"
    else:
        summary = TRIGGER_SUMMARY[triggers[0]]
        if v.get("duplex_date") and v["duplex_date"] != "date unknown":
            summary = summary.replace("Negative duplex", f"Negative duplex of {v['duplex_date']}", 1)
    lines = [
        "Leg ultrasound misses iliocaval DVT: image the iliac and pelvic veins with CT or MR venography.",
        "Trigger(s): " + "; ".join(TRIGGER_TEXT[t] for t in triggers) + ".",
    ]
    if v.get("duplex_date"):
        lines.append(f"Negative duplex of {v['duplex_date']}.")
    variant = v["variant"]
    if variant == "result-not-coded":
        summary = f"Pelvic venography of {v['study_date']}: result not coded, review the report"
        lines.append(f"Study of {v['study_date']}: result not coded, review the report. No new study is suggested.")
    elif variant == "preliminary":
        summary = f"Pelvic venography of {v['study_date']} is preliminary: DVT not excluded until the final report"
        lines.append(
            f"Study of {v['study_date']}: the result is preliminary. A preliminary result never excludes DVT: review "
            "the final report. No new study is suggested."
        )
    elif variant == "pregnancy":
        lines.append("Pregnancy: MR venography without gadolinium rather than CT.")
    elif variant == "combined-with-mass":
        lines.append(
            "The mass also needs characterizing: one study answers both, a contrast CT of the abdomen and "
            "pelvis in the venous phase."
        )
    return summary, "\n\n".join(lines) + _unreadable_note(v.get("reports_unreadable"))


HIT_WORDS = {"active": "HIT", "suspected": "suspected HIT", "history": "a history of HIT"}
UNSUITABLE_TEXT = {
    HIT_REASON: "heparin-induced thrombocytopenia is recorded, stop heparin and LMWH; it does not count as treatment",
    PREGNANCY_REASON: "pregnancy is recorded, warfarin and DOACs are not used to treat DVT in pregnancy: switch to LMWH",
}


def _enoxaparin_dose_line(v: dict, s: PathwaySettings) -> str:
    if "dose_mg" in v:
        interval = "every 12 h" if v["per_day"] == 2 else f"every 24 h (eGFR {_num(v['egfr'])} < {_num(s.egfr_renal_dosing)})"
        return (
            f"Enoxaparin {_num(s.enoxaparin_mg_per_kg)} mg/kg from the latest weight {_num(v['weight_kg'])} kg = "
            f"{v['dose_mg']} mg (rounded half-up to {s.enoxaparin_rounding_mg} mg) subcutaneously {interval}."
        )
    if v.get("weight_implausible"):
        return f"The latest weight ({_num(v['weight_kg'])} kg) gives no dose: check and record the weight. No dose is suggested."
    return (
        f"No usable body weight in the last {s.weight_window_days} days: no dose is suggested. Record a weight "
        "to compute the weight-adjusted dose."
    )


def _dvt_anticoagulate(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    what = "DVT confirmed" if v["dvt_confirmed"] else "Acute PE"
    if v["dvt_confirmed"] and v["preliminary"]:
        what += " (preliminary)"
    hit = HIT_WORDS.get(v.get("hit_status", ""), "HIT")
    if v["hit"]:
        summary = f"{what} with {hit}: start a non-heparin anticoagulant now"
    elif "dose_mg" in v and any(d["reason"] == PREGNANCY_REASON for d in v.get("unsuitable", [])):
        interval = "every 12 h" if v["per_day"] == 2 else "every 24 h"
        summary = f"{what} in pregnancy: switch to enoxaparin {v['dose_mg']} mg SC {interval} now"
    elif "dose_mg" in v:
        interval = "every 12 h" if v["per_day"] == 2 else "every 24 h"
        summary = f"{what}: start enoxaparin {v['dose_mg']} mg SC {interval} now"
    else:
        summary = f"{what}: start therapeutic LMWH twice daily now; record a weight for the dose"
    if v["hit"]:
        # The guideline's LMWH must not be the first thing a clinician reads on a HIT patient's card.
        lines = [
            f"Start therapeutic anticoagulation immediately, with a non-heparin anticoagulant: {hit} is recorded, so "
            "no heparin and no LMWH (the guideline's regimen is LMWH twice daily). No enoxaparin is suggested."
        ]
    else:
        lines = ["Start therapeutic anticoagulation immediately: LMWH twice daily at a weight-adjusted dose."]
    if v["preliminary"]:
        lines.append("The positive result is preliminary; it is enough to start treatment.")
    if not v["hit"]:
        lines.append(_enoxaparin_dose_line(v, s))
    if v["egfr_unknown"]:
        lines.append("Renal function is unknown (no recent eGFR): check it before the second dose.")
    if v["below_treatment"]:
        lines.append(
            "Current anticoagulant at a prophylactic or unknown dose (not treatment): " + "; ".join(v["below_treatment"]) + "."
        )
    for drug in v.get("unsuitable", []):
        lines.append(f"{drug['display']} (current): {UNSUITABLE_TEXT[drug['reason']]}.")
    if v["medications_unknown"]:
        lines.append("Anticoagulation status could not be checked: medication data could not be read.")
    if v["platelet_caution"] is not None:
        lines.append(
            f"Platelets {_num(v['platelet_caution'])} ×10^3/uL ({_num(s.platelets_contraindication_10_3_ul)}-"
            f"{_num(s.platelets_caution_10_3_ul)}): discuss the dose with hematology."
        )
    if v["platelets_unknown"]:
        lines.append(
            "No recent platelet count: obtain one (a missing count is not a contraindication; it is needed to "
            "monitor heparin)."
        )
    return summary, "\n\n".join(lines)


def _dvt_ivc_filter_option(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    reason = v["contraindications"][0]
    summary = f"Anticoagulation contraindicated ({reason}): consider a vena cava filter"
    reasoning = (
        "Anticoagulation is contraindicated: " + "; ".join(v["contraindications"]) + ". A vena cava filter is "
        "the option to consider (same indications as in non-pregnant patients)."
    )
    return summary, reasoning


def _dvt_thrombolysis_option(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    summary = "Phlegmasia with severe hypotension: thrombolysis may be considered (hemorrhage risk 8%)"
    reasoning = (
        "Limb-threatening venous ischemia with severe hypotension: thrombolysis may be considered for this "
        "indication only. Hemorrhage risk is about 8 %. No anticoagulation contraindication and no hemorrhagic "
        "shock is recorded."
    )
    if not f.values["severe_hypotension"]:
        reasoning += " (This site's setting allows thrombolysis for phlegmasia without severe hypotension.)"
    if f.values.get("platelets_unknown"):
        reasoning += "\n\nNo recent platelet count is on record: obtain one before thrombolysis."
    return summary, reasoning


def _mass_named(v: dict) -> str:
    dated = v.get("mass_date") and v["mass_date"] != "date unknown"
    return f"Iliac mass of {v['mass_date']}" if dated else "Iliac mass"


def _mass_characterize(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    lines = [
        "Contrast CT or MRI is essential to characterize the mass: tumour, lymphadenopathy, abscess, hematoma, "
        "disc bulge, iliopsoas bursitis. Its nature decides between NIVL and extrinsic compression.",
        f"Mass recorded {v['mass_date']}: {v['mass']}. No contrast CT or MRI of the abdomen / pelvis since "
        f"{v['lookback_days']} days before it.",
    ]
    if v["variant"] == "combined-with-pelvic-imaging":
        summary = "Iliac mass not characterized: one venous-phase contrast CT can also image the pelvic veins"
        lines.append(
            "One study for both: the contrast CT of the abdomen and pelvis in the venous phase suggested on the "
            "pelvic imaging card characterizes the mass too."
        )
    elif v["variant"] == "pregnancy":
        summary = f"{_mass_named(v)} not characterized: MRI of the pelvis needed (pregnancy)"
        lines.append("Pregnancy: MRI rather than CT.")
    else:
        summary = f"{_mass_named(v)} not characterized: contrast CT abdomen/pelvis needed"
    return summary, "\n\n".join(lines)


EXTRINSIC_TREATMENT = {
    "malignancy": "coordinate with oncology for systemic therapy; consider palliative stenting if life expectancy permits",
    "lymphadenopathy": "find and treat the cause (oncology if malignant); palliative stenting if life expectancy permits",
    "abscess": "drainage of the abscess",
    # G:47 names drainage for abscess and excision for benign compressive lesions; a hematoma is a
    # collection, so "surgical excision" would be the wrong instruction.
    "hematoma": "drainage or evacuation of the hematoma, as the surgical team decides",
}
BENIGN_TREATMENT = "surgical excision of the benign compressive lesion"


def _mass_extrinsic(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    treatment = EXTRINSIC_TREATMENT.get(v["nature"], BENIGN_TREATMENT)
    summary = f"Extrinsic compression ({v['nature'].replace('-', ' ')}): treat the underlying lesion"
    lines = [
        f"The mass is characterized as {v['nature_display']}: treat the underlying lesion, {treatment}.",
        "Stenting only as a temporizing measure when the mass is not immediately resectable and symptoms are "
        "severe.",
    ]
    return summary, "\n\n".join(lines)


def _nivl_workup(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    by_what = "by the mass" if v["mass_on_record"] else "by a mass or other lesion"
    summary = f"DVT excluded: work up NIVL (May-Thurner) vs extrinsic compression {by_what}"
    lines = [f"DVT is excluded: the differential is NIVL (May-Thurner) vs extrinsic compression {by_what}."]
    if v["left_sided"]:
        lines.append("Left-sided presentation fits NIVL (the left iliac vein is compressed by the right iliac artery).")
    steps = ["exclude other causes of edema (heart, kidney, liver, hypoproteinemia, medications, lymphedema)"]
    if v["characterize_mass"]:
        steps.append("characterize the mass with contrast CT or MRI")
    if v["ivus_step"]:
        steps.append("venography with IVUS before any intervention")
    elif v.get("ivus_report_step"):
        steps.append(
            "review the IVUS report: no diameter stenosis could be read from it, so NIVL is neither confirmed nor excluded"
        )
    lines.append("Next steps:\n\n" + "\n".join(f"{i}. {step}" for i, step in enumerate(steps, 1)))
    if v["ask_severity"]:
        lines.append("Symptom severity is not recorded: record it (mild, moderate, severe); it decides stenting.")
    return summary, "\n\n".join(lines)


CAUSE_WORDS = {
    "heart-failure": "heart failure",
    "renal-disease": "renal disease",
    "liver-disease": "liver disease",
    "hypoalbuminemia": "hypoalbuminemia / hypoproteinemia",
    "medication": "edema-causing medication",
    "primary-lymphedema": "primary lymphedema",
    "secondary-lymphedema": "secondary lymphedema",
}


def _nivl_other_causes(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    causes = f.values["causes"]
    first = causes[0]["display"]
    more = f" +{len(causes) - 1} more" if len(causes) > 1 else ""
    summary = f"Other edema cause on record ({first}{more}): exclude before blaming the iliac vein"
    items = "\n".join(
        f"- {CAUSE_WORDS.get(c['kind'], c['kind'] or 'other cause')}: {c['display']} (`{c['ref']}`)" for c in causes
    )
    reasoning = (
        "Other causes of edema must be excluded before the swelling is attributed to the iliac vein:\n\n" + items
    )
    return summary, reasoning


def _nivl_bilateral_edema(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    return (
        "Bilateral leg edema: rarely NIVL, look for a systemic cause",
        "Bilateral edema is rarely caused by NIVL and suggests a systemic cause: do not assume it is iliac vein "
        "compression.",
    )


def _candidate_note(v: dict) -> str:
    if v["candidate"]:
        return " A venography with IVUS order is suggested."
    return " (No order is suggested: the patient is not yet a possible stent candidate.)"


def _nivl_ct_not_diagnostic(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    pct = f"{_num(v['ct_percent'])}% " if v["ct_percent"] is not None else ""
    summary = f"CT shows {pct}iliac vein compression: not diagnostic, confirm with venography and IVUS"
    reasoning = (
        "Anatomic compression on CT does not predict symptoms: up to 24 % of asymptomatic people have > 50 % "
        "left iliac vein compression, and up to 70 % some compression. Never decide treatment on CT alone; IVUS "
        "confirmation is required." + _candidate_note(v)
    )
    return summary, reasoning


def _nivl_ivus_required(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    summary = "Iliac vein compression without IVUS: venography with IVUS before any intervention"
    reasoning = (
        "Venography with IVUS is the only definitive test and is mandatory before any intervention. IVUS finds "
        "30 % more ≥ 50 % lesions than venography alone. Measure at the lesion and at the external iliac vein "
        "reference." + _candidate_note(f.values)
    )
    return summary, reasoning


def _nivl_stent_candidate(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    pct = _num(v["ivus_percent"])
    lines = [
        f"IVUS diameter stenosis {pct} % > {_num(v['threshold_pct'])} %, asymmetric edema with significant "
        "symptoms, other causes excluded: meets the criteria for stenting.",
    ]
    if v.get("reference_mm") is not None:
        size = f"{_num(v['diameter_min_mm'])}-{_num(v['diameter_max_mm'])} mm"
        summary = f"NIVL {pct}% on IVUS: meets stenting criteria; stent {size}, length ≥ {_num(v['min_length_mm'])} mm"
        lines.append(
            f"Sizing from IVUS: reference external iliac vein diameter {_num(v['reference_mm'])} mm, so stent "
            f"diameter {size} (reference + {_num(s.oversize_min_mm)} to + {_num(s.oversize_max_mm)} mm)."
        )
    else:
        summary = f"NIVL {pct}% on IVUS: meets stenting criteria; size from the IVUS reference vein"
        lines.append(
            "No external iliac reference diameter is recorded: measure it on IVUS; stent diameter = reference + "
            f"{_num(s.oversize_min_mm)} to + {_num(s.oversize_max_mm)} mm."
        )
    lines.append(
        f"Length ≥ {_num(v['min_length_mm'])} mm, landing in the straight external iliac vein (stents < 60 mm "
        "account for 82.6 % of migrations, 16.2 % mortality)."
    )
    if not v.get("fixed_recorded", True):
        lines.append(
            "Lesion behaviour is not recorded: confirm it is fixed (does not vary with breathing or position) "
            "before stenting; do not intervene on a dynamic lesion."
        )
    if v.get("mass_ref"):
        lines.append(f"Confirm the mass ({v['mass_ref']}, imaged {v['mass_imaged_date']}) is not compressing the vein.")
    return summary, "\n\n".join(lines)


def _nivl_below_threshold(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    pct, limit = _num(v["ivus_percent"]), _num(v["threshold_pct"])
    summary = f"IVUS stenosis {pct}% ≤ {limit}%: below the threshold that predicts stenting success"
    reasoning = f"IVUS diameter stenosis {pct} % is below the > {limit} % threshold that predicts clinical success with stenting."
    return summary, reasoning


def _nivl_dynamic_lesion(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    return (
        "Dynamic iliac vein lesion: do not intervene; only fixed lesions warrant treatment",
        "The lesion varies with breathing or position (dynamic): do not intervene. Only fixed lesions warrant treatment.",
    )


def _nivl_minimal_symptoms(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    if f.values["symptoms"] == "none":
        summary = "NIVL without symptoms: prophylactic stenting is inappropriate"
    else:
        summary = "NIVL with minimal symptoms: stenting is inappropriate"
    reasoning = "Stenting is inappropriate if symptoms are minimal, or as prophylaxis in asymptomatic patients."
    return summary, reasoning


def _post_stent_followup(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    v = f.values
    last = f"last imaging {v['last_imaging_date']}" if v["last_imaging_date"] else "no imaging since"
    summary = f"Iliac vein stent of {v['stent_date']}: day-{v['due_day']} surveillance imaging overdue ({last})"
    schedule = ", ".join(str(d) for d in s.stent_followup_schedule_days)
    reasoning = (
        f"Regular imaging follow-up (ultrasound or CT) for stent migration, stenosis and thrombosis. Schedule: "
        f"days {schedule} after the stent, then every {s.stent_followup_yearly_days} days. The study due by day "
        f"{v['due_day']} is missing ({v['days_since_stent']} days since the stent). An iliocaval duplex is "
        "suggested (or CT venography)."
    )
    return summary, reasoning


def _post_stent_antithrombotic(f: Finding, s: PathwaySettings) -> tuple[str, str]:
    meds = f.values["medications"]
    first = meds[0][:1].upper() + meds[0][1:]
    summary = shorten(f"{first} after NIVL stent without prior VTE: routine antithrombotic therapy not supported")
    reasoning = (
        "If started only for the venous stent: no consensus supports routine anticoagulation or antiplatelet "
        "therapy after NIVL stenting without prior VTE; high patency rates are achieved without it. No other "
        "indication is recorded for: " + "; ".join(meds) + "."
    )
    return summary, reasoning


RENDERERS: dict[str, Callable[[Finding, PathwaySettings], tuple[str, str]]] = {
    "DVT-DUPLEX": _dvt_duplex,
    "DVT-PELVIC-IMAGING": _dvt_pelvic_imaging,
    "DVT-ANTICOAGULATE": _dvt_anticoagulate,
    "DVT-IVC-FILTER-OPTION": _dvt_ivc_filter_option,
    "DVT-THROMBOLYSIS-OPTION": _dvt_thrombolysis_option,
    "MASS-CHARACTERIZE": _mass_characterize,
    "MASS-EXTRINSIC": _mass_extrinsic,
    "NIVL-WORKUP": _nivl_workup,
    "NIVL-OTHER-CAUSES": _nivl_other_causes,
    "NIVL-BILATERAL-EDEMA": _nivl_bilateral_edema,
    "NIVL-CT-NOT-DIAGNOSTIC": _nivl_ct_not_diagnostic,
    "NIVL-IVUS-REQUIRED": _nivl_ivus_required,
    "NIVL-STENT-CANDIDATE": _nivl_stent_candidate,
    "NIVL-BELOW-THRESHOLD": _nivl_below_threshold,
    "NIVL-DYNAMIC-LESION": _nivl_dynamic_lesion,
    "NIVL-MINIMAL-SYMPTOMS": _nivl_minimal_symptoms,
    "POST-STENT-FOLLOWUP": _post_stent_followup,
    "POST-STENT-ANTITHROMBOTIC": _post_stent_antithrombotic,
}


def render_card(finding: Finding, patient_id: str, rule_url: Callable[[str], str], settings: PathwaySettings) -> Card:
    rule = RULE_INFO[finding.rule_id]
    summary, reasoning = RENDERERS[finding.rule_id](finding, settings)
    detail = detail_markdown(reasoning, finding.evidence, guideline_text(rule.guideline_lines))
    suggestions = [suggestion(p, patient_id) for p in finding.proposals] if patient_id else []
    return make_card(finding, shorten(summary), detail, rule_url, rule.title, suggestions)


def render_cards(findings: list[Finding], patient_id: str, rule_url, settings: PathwaySettings) -> list[Card]:
    ranked = [(render_card(f, patient_id, rule_url, settings), PATHWAY_ORDER[f.rule_id]) for f in findings]
    return by_urgency(ranked)


def _patient_id(call: HookCall) -> str:
    if call.context.get("patientId"):
        return str(call.context["patientId"])
    patient = call.record.patient or {}
    return str(patient.get("id", ""))


def handle(call: HookCall) -> list[Card]:
    # Imported here: the FHIR package imports the services' base types, not the other way round.
    from cds_service.fhir.extract import extract_facts

    facts = extract_facts(call.record, call.now, call.value_sets)
    findings = evaluate(facts, call.pathway, skip=call.rules_off)
    return render_cards(findings, _patient_id(call), call.rule_url, call.pathway)


SERVICE = ServiceDefinition(
    id="iliac-vein-patient-view",
    hook="patient-view",
    title="Iliac vein compression pathway",
    description=(
        "Guides the work-up of leg swelling with an iliac mass or iliac vein compression: rule out DVT (and "
        "image the pelvis when the leg ultrasound cannot), anticoagulate a confirmed DVT, characterize the mass, "
        "confirm NIVL / May-Thurner with IVUS, and follow up iliac venous stents."
    ),
    usage_requirements=(
        "Needs the patient's Conditions and Observations (prefetch or FHIR server access); imaging studies, "
        "diagnostic reports, procedures and medications make the advice complete. Silent for patients out of "
        "scope (no leg swelling, iliac vein compression, iliac stent or DVT)."
    ),
    prefetch=dict(PATIENT_PREFETCH),
    required_keys=("patient", "conditions", "observations"),
    handle=handle,
)
