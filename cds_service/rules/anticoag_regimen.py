"""ANTICOAG-REGIMEN (G:8): initiate therapeutic anticoagulation with LMWH twice daily at weight-adjusted doses
(enoxaparin 1 mg/kg every 12 h; every 24 h when eGFR is below the renal-dosing cut-off). With heparin-induced
thrombocytopenia no heparin is given, LMWH included. The fix: the same enoxaparin order at the expected regimen."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from cds_service.pathway.dosing import enoxaparin_regimen, renal_dosing
from cds_service.pathway.facts import DraftOrder, DrugClass, Evidence, Medication, OrderKind
from cds_service.pathway.findings import Indicator, Proposal, UpdateOrder, evidence_of
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import ORDER_HOOKS, Rule
from cds_service.rules.order_context import DVT_TYPES, OrderContext, OrderFinding, any_order, dec, figure, order_line
from cds_service.rules.order_fixes import order_suggestions

# Non-LMWH agents that are a warning in pregnancy (RULES cross-cutting: warfarin and DOACs).
PREGNANCY_WARNING_AGENTS = frozenset({"warfarin", "apixaban", "rivaroxaban", "dabigatran", "edoxaban"})
# Unfractionated heparin: with the LMWHs, the heparins a patient with heparin-induced thrombocytopenia
# must not get (DATA-CONTRACT: "no heparin").
UNFRACTIONATED_HEPARIN = "heparin"
ENOXAPARIN = "enoxaparin"
# The guideline's regimen in administrations per day (G:8: twice daily; once daily below the eGFR cut-off).
TWICE_DAILY, ONCE_DAILY = 2, 1


@dataclass(frozen=True, kw_only=True)
class AnticoagRegimen(OrderFinding):
    # "hit": a heparin with HIT on record; "non-lmwh", "pregnancy", "pregnancy-unknown": another agent;
    # LMWH: "dose", "frequency", "dose-and-frequency" (errors), "unreadable", "no-weight", "frequency-no-weight".
    variant: str
    ingredient: str
    egfr: float | None
    egfr_threshold: float
    hit: bool = False  # HIT on record: the card must not recommend LMWH
    # LMWH orders: the regimen as ordered and as expected.
    dose: float | None = None
    dose_unit: str = ""
    per_day: float | None = None
    expected_per_day: int | None = None
    expected_dose_mg: float | None = None  # enoxaparin with a weight; None for other LMWHs
    weight_kg: float | None = None
    tolerance_mg: float | None = None
    weight_unreadable: bool = False  # no weight because the Observations could not be read


def within_regimen_tolerance(ordered_mg: float, expected_mg: float, s: PathwaySettings) -> bool:
    """|ordered - expected| <= max(10 % of expected, 5 mg), bound included (RULES ANTICOAG-REGIMEN)."""
    return abs(dec(ordered_mg) - dec(expected_mg)) <= dec(_tolerance_mg(expected_mg, s))


def _tolerance_mg(expected_mg: float, s: PathwaySettings) -> float:
    return float(max(dec(expected_mg) * dec(s.regimen_tolerance_fraction), dec(s.regimen_tolerance_min_mg)))


def evaluate(order: DraftOrder, ctx: OrderContext) -> AnticoagRegimen | None:
    medication = order.medication
    if order.kind is not OrderKind.ANTICOAGULANT or medication is None or not ctx.a.dvt_confirmed:
        return None
    if ctx.a.hit is not None and _is_heparin(medication):
        return _heparin_despite_hit(order, medication, ctx)
    if medication.drug_class is DrugClass.LMWH:
        return _lmwh_regimen(order, medication, ctx)
    return _non_lmwh_agent(order, medication, ctx)


def _is_heparin(medication: Medication) -> bool:
    return medication.drug_class is DrugClass.LMWH or medication.ingredient == UNFRACTIONATED_HEPARIN


def _finding(order: DraftOrder, ctx: OrderContext, indicator: Indicator, evidence: tuple[Evidence, ...],
             ingredient: str, variant: str, **regimen: Any) -> AnticoagRegimen:
    """The finding; `regimen` names further AnticoagRegimen fields (the regimen as ordered and as expected).
    Its facts name the DVT evidence first (RULES ANTICOAG-REGIMEN, R2): the card checks a treatment for it."""
    egfr = ctx.a.egfr.value if ctx.a.egfr else None
    found = AnticoagRegimen(
        indicator=indicator, order_ref=order.ref, order_display=order.display,
        evidence=evidence_of(ctx.a.dvt_evidence, evidence), ingredient=ingredient, variant=variant, egfr=egfr,
        egfr_threshold=ctx.s.egfr_renal_dosing,
        expected_per_day=ONCE_DAILY if renal_dosing(egfr, ctx.s) else TWICE_DAILY,
    )
    return replace(found, **regimen)


def _heparin_despite_hit(order: DraftOrder, medication: Medication, ctx: OrderContext) -> AnticoagRegimen:
    """Heparin-induced thrombocytopenia: no heparin, LMWH included (DATA-CONTRACT; RULES
    DVT-ANTICOAGULATE: "a non-heparin anticoagulant is needed"). The guideline's LMWH regimen (G:8)
    does not apply, whatever the dose, so there is no dose to suggest."""
    return _finding(order, ctx, Indicator.WARNING, (ctx.a.hit,) if ctx.a.hit else (), medication.ingredient, "hit",
                    hit=True)


def _non_lmwh_agent(order: DraftOrder, medication: Medication, ctx: OrderContext) -> AnticoagRegimen:
    """Any non-LMWH anticoagulant: information (the guideline's regimen is LMWH); warfarin or a DOAC
    in pregnancy, or while pregnancy could not be checked in a patient who may be pregnant: a warning."""
    pregnancy_unread = not ctx.known("Condition") and ctx.facts.gender != "male"
    in_pregnancy = medication.ingredient in PREGNANCY_WARNING_AGENTS and (ctx.a.pregnant or pregnancy_unread)
    variant = "pregnancy" if ctx.a.pregnant else "pregnancy-unknown" if in_pregnancy else "non-lmwh"
    indicator = Indicator.WARNING if in_pregnancy else Indicator.INFO
    evidence = evidence_of(ctx.a.pregnancy_evidence, ctx.a.hit)
    return _finding(order, ctx, indicator, evidence, medication.ingredient, variant, hit=ctx.a.hit is not None)


def _lmwh_regimen(order: DraftOrder, medication: Medication, ctx: OrderContext) -> AnticoagRegimen | None:
    egfr = ctx.a.egfr.value if ctx.a.egfr else None
    expected_per_day = ONCE_DAILY if renal_dosing(egfr, ctx.s) else TWICE_DAILY
    evidence = evidence_of(ctx.a.weight_kg.evidence if ctx.a.weight_kg else None,
                           ctx.a.egfr.evidence if ctx.a.egfr else None)
    ordered = {"dose": medication.dose, "dose_unit": medication.dose_unit, "per_day": medication.per_day,
               "expected_per_day": expected_per_day}
    frequency_error = medication.per_day is not None and medication.per_day != expected_per_day
    if medication.ingredient != ENOXAPARIN:
        # Only enoxaparin is dosed in the guideline's mg/kg; other LMWHs are checked for frequency only.
        if frequency_error:
            return _finding(order, ctx, Indicator.WARNING, evidence, medication.ingredient, "frequency", **ordered)
        if medication.per_day is None:  # not a regimen we can confirm (as for enoxaparin)
            return _finding(order, ctx, Indicator.INFO, evidence, medication.ingredient, "unreadable", **ordered)
        return None
    return _enoxaparin_regimen(order, medication, ctx, evidence, ordered, frequency_error)


def _enoxaparin_regimen(order: DraftOrder, medication: Medication, ctx: OrderContext, evidence: tuple[Evidence, ...],
                        ordered: dict[str, Any], frequency_error: bool) -> AnticoagRegimen | None:
    weight = ctx.a.weight_kg.value if ctx.a.weight_kg else None
    if weight is None:
        # No dose can be computed: a frequency error is still an error; otherwise say it was not checked.
        variant = "frequency-no-weight" if frequency_error else "no-weight"
        indicator = Indicator.WARNING if frequency_error else Indicator.INFO
        return _finding(order, ctx, indicator, evidence, medication.ingredient, variant,
                        weight_unreadable=not ctx.known("Observation"), **ordered)
    egfr = ctx.a.egfr.value if ctx.a.egfr else None
    expected_mg, per_day = enoxaparin_regimen(weight, egfr, ctx.s)
    expected = {"expected_dose_mg": expected_mg, "weight_kg": weight, "tolerance_mg": _tolerance_mg(expected_mg, ctx.s)}
    dose_readable = medication.dose is not None and medication.dose_unit.lower() == "mg"
    dose_error = dose_readable and not within_regimen_tolerance(medication.dose or 0.0, expected_mg, ctx.s)
    fix: tuple[Proposal, ...] = (UpdateOrder(order_ref=order.ref, dose_mg=float(expected_mg), per_day=per_day),)
    if dose_error or frequency_error:
        variant = "dose-and-frequency" if dose_error and frequency_error else "dose" if dose_error else "frequency"
        return _finding(order, ctx, Indicator.WARNING, evidence, medication.ingredient, variant, proposals=fix,
                        **ordered, **expected)
    if not dose_readable or medication.per_day is None:
        # Unread dose or frequency: not an error we can name, but not a regimen we can confirm either.
        return _finding(order, ctx, Indicator.INFO, evidence, medication.ingredient, "unreadable", proposals=fix,
                        **ordered, **expected)
    return None


# -- the card ---------------------------------------------------------------------------------------------
def _interval(per_day: object) -> str:
    if per_day == TWICE_DAILY:
        return "every 12 h"
    if per_day == ONCE_DAILY:
        return "every 24 h"
    if isinstance(per_day, (int, float)) and per_day > 0:
        return f"{figure(per_day)} times a day"
    return "frequency not readable"


def render(f: AnticoagRegimen, s: PathwaySettings) -> tuple[str, str]:
    """Action first, then the order and the numbers; "twice daily" only where the regimen is (never at
    eGFR below the renal cut-off, where it is every 24 h)."""
    per_kg = f"{figure(s.enoxaparin_mg_per_kg)} mg/kg"
    if f.variant == "hit":
        return _heparin_despite_hit_text(f)
    if f.variant in ("non-lmwh", "pregnancy", "pregnancy-unknown"):
        return _non_lmwh_text(f, per_kg)
    ordered = f"{figure(f.dose)} {f.dose_unit}" if f.dose is not None else "dose not readable"
    ordered += f" {_interval(f.per_day)}"
    expected_interval = _interval(f.expected_per_day)
    if f.variant in ("no-weight", "frequency-no-weight"):
        return _no_weight_text(f, ordered, expected_interval, per_kg)
    if f.expected_dose_mg is None:  # dalteparin, tinzaparin: frequency only
        return _frequency_only_text(f, ordered, expected_interval)
    expected = f"{figure(f.expected_dose_mg)} mg {expected_interval}"
    tolerance = f"±{figure(f.tolerance_mg)} mg"
    if f.variant == "unreadable":
        summary = f"Enoxaparin order could not be checked: expected {expected} ({figure(f.weight_kg)} kg)"
        action = f"Check the order's dose and frequency: the weight-adjusted regimen is {expected}."
    else:
        summary = f"Enoxaparin {ordered} is not the weight-adjusted {expected} ({figure(f.weight_kg)} kg)"
        action = f"Change the order to {expected}, the weight-adjusted regimen."
    reasoning = (
        f"{action}\n\n{order_line(f)} Ordered: {ordered}. {per_kg} for {figure(f.weight_kg)} kg, rounded to "
        f"{figure(s.enoxaparin_rounding_mg)} mg, is {expected}; accepted within {tolerance}, the larger of "
        f"{figure(s.regimen_tolerance_fraction * 100)} % and {figure(s.regimen_tolerance_min_mg)} mg.{_renal_text(f)}"
    )
    return summary, reasoning


def _no_weight_text(f: AnticoagRegimen, ordered: str, expected_interval: str, per_kg: str) -> tuple[str, str]:
    summary = (
        f"{f.ingredient.capitalize()} {ordered}: not {expected_interval}"
        if f.variant == "frequency-no-weight" else "Enoxaparin dose cannot be checked: no body weight available"
    )
    weight = "The body weight could not be read" if f.weight_unreadable else "No recent body weight is on record"
    reasoning = (
        f"Check or record a weight: the weight-adjusted dose ({per_kg}) cannot be computed without one. The regimen "
        f"is {expected_interval}.\n\n{order_line(f)} Ordered: {ordered}. {weight}.{_renal_text(f)}"
    )
    return summary, reasoning


def _frequency_only_text(f: AnticoagRegimen, ordered: str, expected_interval: str) -> tuple[str, str]:
    """Dalteparin, tinzaparin: only the frequency is checked."""
    if f.variant == "unreadable":
        summary = f"{f.ingredient.capitalize()} order could not be checked: LMWH is given {expected_interval}"
        reasoning = (
            f"Check the order's frequency: the guideline's regimen is LMWH {expected_interval}, and the order's "
            f"could not be read.\n\n{order_line(f)} Ordered: {ordered}.{_renal_text(f)}"
        )
        return summary, reasoning
    summary = f"{f.ingredient.capitalize()} {ordered}: LMWH should be given {expected_interval}"
    reasoning = (
        f"Give LMWH {expected_interval}, the guideline's regimen.\n\n{order_line(f)} Ordered: {ordered}."
        f"{_renal_text(f)}"
    )
    return summary, reasoning


def _renal_text(f: AnticoagRegimen) -> str:
    if f.egfr is None:
        return " Renal function (eGFR) is unknown: checked against every 12 h; check it before the second dose."
    if f.expected_per_day == ONCE_DAILY:
        return f" eGFR {figure(f.egfr)} mL/min/1.73 m² < {figure(f.egfr_threshold)}: every 24 h."
    return ""


def _guideline_regimen(f: AnticoagRegimen, per_kg: str) -> str:
    """The guideline's regimen for this patient: twice daily, or every 24 h below the eGFR cut-off."""
    if f.expected_per_day == ONCE_DAILY:
        return (f"LMWH weight-adjusted, every 24 h as eGFR is {figure(f.egfr)} mL/min/1.73 m² "
                f"(enoxaparin {per_kg} every 24 h)")
    return f"LMWH twice daily, weight-adjusted (enoxaparin {per_kg} every 12 h)"


def _heparin_despite_hit_text(f: AnticoagRegimen) -> tuple[str, str]:
    agent = f.ingredient or "heparin"
    summary = (
        f"{agent.capitalize()} ordered with heparin-induced thrombocytopenia on record: use a non-heparin anticoagulant"
    )
    reasoning = (
        "Use a non-heparin anticoagulant: heparin-induced thrombocytopenia is on record, so no heparin may be given, "
        "low molecular weight heparin included, whatever the dose. The DVT still needs anticoagulation (the "
        f"guideline's LMWH regimen does not apply). No dose change is suggested.\n\n{order_line(f)}"
    )
    return summary, reasoning


def _non_lmwh_text(f: AnticoagRegimen, per_kg: str) -> tuple[str, str]:
    if f.hit:
        return _non_heparin_with_hit_text(f)
    agent = f.ingredient
    regimen = _guideline_regimen(f, per_kg)
    if f.variant == "pregnancy":
        summary = f"{agent.capitalize()} in pregnancy: use LMWH, weight-adjusted"
        lead = "Use LMWH instead: the patient is pregnant, and warfarin and direct oral anticoagulants are to be avoided."
    elif f.variant == "pregnancy-unknown":
        summary = f"{agent.capitalize()} ordered, pregnancy status could not be read: guideline regimen is LMWH"
        lead = ("Check whether the patient is pregnant: it could not be read, and warfarin and direct oral "
                "anticoagulants are to be avoided in pregnancy.")
    else:
        summary = f"{agent.capitalize()} ordered for DVT: the guideline's regimen is LMWH, weight-adjusted"
        lead = "Consider LMWH instead."
    reasoning = f"{lead} For confirmed DVT the guideline recommends therapeutic {regimen}.\n\n{order_line(f)}"
    return summary, reasoning


def _non_heparin_with_hit_text(f: AnticoagRegimen) -> tuple[str, str]:
    """With HIT the guideline's LMWH is no alternative: the card must not recommend it."""
    agent = f.ingredient
    if f.variant in ("pregnancy", "pregnancy-unknown"):
        pregnancy = "in pregnancy" if f.variant == "pregnancy" else "(pregnancy status unread)"
        summary = f"{agent.capitalize()} {pregnancy} with HIT recorded: no DOAC, no heparin; plan with hematology"
        lead = ("Plan the anticoagulant with hematology: warfarin and direct oral anticoagulants are to be avoided in "
                "pregnancy, and heparins with heparin-induced thrombocytopenia.")
    else:
        summary = f"{agent.capitalize()} for DVT with HIT recorded: a non-heparin agent fits; LMWH is no alternative"
        lead = ("A non-heparin anticoagulant fits: heparin-induced thrombocytopenia is on record, so the guideline's "
                "LMWH is no alternative.")
    return summary, f"{lead}\n\n{order_line(f)}"


RULE = Rule(
    "ANTICOAG-REGIMEN",
    hooks=ORDER_HOOKS,
    indicator="warning / info",
    guideline=(8,),
    # G:8 says "twice daily": not quoted on a card whose regimen is every 24 h (eGFR below the cut-off).
    quoted=lambda f: () if f.expected_per_day == ONCE_DAILY else (8,),
    titled="Anticoagulant order is not the guideline's LMWH regimen",
    fires_when=lambda s: (
        "DVT confirmed and an anticoagulant order that is not LMWH twice daily within "
        f"max({s.regimen_tolerance_fraction * 100:g} %, {s.regimen_tolerance_min_mg:g} mg) of the weight-adjusted "
        f"dose (enoxaparin {s.enoxaparin_mg_per_kg:g} mg/kg every 12 h; every 24 h when eGFR < "
        f"{s.egfr_renal_dosing:g}); or any heparin, LMWH included, while heparin-induced thrombocytopenia is "
        "recorded (warning)."
    ),
    reads=DVT_TYPES,
    uses=("enoxaparin_mg_per_kg", "enoxaparin_rounding_mg", "regimen_tolerance_fraction", "regimen_tolerance_min_mg",
          "egfr_renal_dosing", "weight_window_days"),
    evaluate=evaluate,
    order_on_its_line=True,  # the order shows on the "Order:" line only
    render=render,
    suggest=order_suggestions,
    order_kinds=(OrderKind.ANTICOAGULANT,),
    could_concern=any_order,
)
