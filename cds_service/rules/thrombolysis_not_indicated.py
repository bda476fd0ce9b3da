"""THROMBOLYSIS-NOT-INDICATED (G:10): thrombolysis should be reserved only for limb-threatening ischemia with
severe hypotension, as its hemorrhage risk is 8 %. The fix: remove the draft order."""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.pathway.facts import DraftOrder, OrderKind
from cds_service.pathway.findings import DeleteOrder, Indicator, evidence_of
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.dvt_thrombolysis_option import HEMORRHAGE_RISK_PCT
from cds_service.rules.framework import ORDER_HOOKS, Rule
from cds_service.rules.order_context import (
    CONDITION_TYPES,
    MEDICATION_TYPES,
    SCOPE_TYPES,
    OrderContext,
    OrderFinding,
    dec,
    figure,
    order_line,
)
from cds_service.rules.order_fixes import order_suggestions


@dataclass(frozen=True, kw_only=True)
class ThrombolysisNotIndicated(OrderFinding):
    limb_threat: bool
    severe_hypotension: bool
    contraindicated: bool  # a contraindication to anticoagulation (bleeding or low platelets)
    hemorrhagic_shock: bool
    requires_hypotension: bool  # the setting: limb threat alone is not enough
    total_mg: float | None  # the drug order's total dose, when readable
    drug: str
    hemorrhage_risk_pct: int = HEMORRHAGE_RISK_PCT


def is_catheter_clearance(order: DraftOrder, s: PathwaySettings) -> bool:
    """A thrombolytic drug order of at most the clearance dose in total clears a catheter; an unread dose never does."""
    total = order.thrombolytic_total_mg
    return (
        order.resource_type == "MedicationRequest" and total is not None
        and dec(total) <= dec(s.catheter_clearance_max_mg)
    )


def _hypotension_unread(ctx: OrderContext) -> bool:
    """Severe hypotension is also read from blood pressures and vasopressors: unread, it may be there."""
    return not ctx.known("Observation", *MEDICATION_TYPES)


def _indicated(ctx: OrderContext) -> bool | None:
    """G:10 (literal): limb-threatening ischemia with severe hypotension, no contraindication to
    anticoagulation, no hemorrhagic shock (as DVT-THROMBOLYSIS-OPTION). None: cannot tell."""
    a = ctx.a
    if not a.limb_threat:
        return False
    if ctx.s.thrombolysis_requires_hypotension and not a.severe_hypotension:
        return None if _hypotension_unread(ctx) else False
    return not (a.anticoagulation_contraindicated or a.hemorrhagic_shock)


def _other_indication(order: DraftOrder, ctx: OrderContext) -> bool | None:
    """Stroke, myocardial infarction, acute arterial limb ischemia, or PE with shock / hypotension:
    recorded on the patient, or named as the order's reason. None: a PE whose blood pressure could
    not be read (unknown, not "no indication")."""
    if ctx.a.other_thrombolysis_indications or "thrombolysis-indication" in order.reason_kinds:
        return True
    if not (ctx.a.acute_pe or "pulmonary-embolism" in order.reason_kinds):
        return False
    if ctx.a.severe_hypotension:
        return True
    return None if _hypotension_unread(ctx) else False


def evaluate(order: DraftOrder, ctx: OrderContext) -> ThrombolysisNotIndicated | None:
    if order.kind is not OrderKind.THROMBOLYSIS or is_catheter_clearance(order, ctx.s):
        return None
    if not (ctx.a.in_scope or ctx.a.dvt_confirmed) or not ctx.known(*CONDITION_TYPES):
        return None  # phlegmasia, shock and the other indications are conditions: unread, they may exist
    if _other_indication(order, ctx) is not False or _indicated(ctx) is not False:
        return None
    a = ctx.a
    return ThrombolysisNotIndicated(
        indicator=Indicator.CRITICAL,
        order_ref=order.ref,
        order_display=order.display,
        evidence=evidence_of(a.dvt_evidence, a.limb_threat_evidence, a.hypotension_evidence,
                             a.anticoag_contraindications),
        proposals=(DeleteOrder(order.ref),),
        limb_threat=a.limb_threat,
        severe_hypotension=a.severe_hypotension,
        contraindicated=a.anticoagulation_contraindicated,
        hemorrhagic_shock=a.hemorrhagic_shock,
        requires_hypotension=ctx.s.thrombolysis_requires_hypotension,
        total_mg=order.thrombolytic_total_mg,
        drug=order.medication.ingredient if order.medication else "",
    )


def could_concern(order: DraftOrder, ctx: OrderContext) -> bool:
    return ctx.a.in_scope or ctx.a.dvt_confirmed or ctx.scope_unknown


def render(f: ThrombolysisNotIndicated, s: PathwaySettings) -> tuple[str, str]:
    found = ["limb-threatening ischemia recorded" if f.limb_threat else "no limb-threatening ischemia"]
    if f.requires_hypotension:
        found.append("severe hypotension recorded" if f.severe_hypotension else "no severe hypotension")
    if f.contraindicated:
        found.append("a contraindication to anticoagulation (bleeding or low platelets)")
    if f.hemorrhagic_shock:
        found.append("hemorrhagic / hypovolemic shock")
    dose = f" Dose total {figure(f.total_mg)} mg." if f.total_mg is not None else ""
    reasoning = (
        f"{order_line(f)}{dose} Found: {'; '.join(found)}.\n\n"
        "Thrombolysis is reserved for limb-threatening ischemia with severe hypotension; its hemorrhage risk is "
        f"about {f.hemorrhage_risk_pct} %. No other thrombolysis indication (stroke, myocardial infarction, PE with "
        "shock, acute arterial limb ischemia) is recorded. Suggested: remove the draft order."
    )
    return _summary(f, s), reasoning


def _summary(f: ThrombolysisNotIndicated, s: PathwaySettings) -> str:
    """Say what is missing, or what rules thrombolysis out: it is not always the indication."""
    risk = f.hemorrhage_risk_pct
    if not f.limb_threat:
        return (
            "Thrombolysis with no limb-threatening ischemia recorded: reserved for it with severe hypotension "
            f"({risk} % bleeding)"
        )
    if f.requires_hypotension and not f.severe_hypotension:
        return f"Thrombolysis for limb-threatening ischemia without severe hypotension: not indicated ({risk} % bleeding)"
    if f.hemorrhagic_shock:
        return f"Thrombolysis with hemorrhagic / hypovolemic shock: not indicated (hemorrhage risk {risk} %)"
    platelets = figure(s.platelets_contraindication_10_3_ul)
    return f"Thrombolysis with recent bleeding or platelets < {platelets}: contraindicated (hemorrhage risk {risk} %)"


RULE = Rule(
    "THROMBOLYSIS-NOT-INDICATED",
    hooks=ORDER_HOOKS,
    indicator="critical",
    guideline=(10,),
    titled="Thrombolysis without limb-threatening ischemia and severe hypotension",
    fires_when=(
        "A patient in scope or with a confirmed leg DVT; a thrombolytic drug order (not a catheter-clearance dose) "
        "or catheter-directed venous thrombolysis; not both limb-threatening venous ischemia and severe "
        "hypotension; no other thrombolysis indication."
    ),
    reads=SCOPE_TYPES + MEDICATION_TYPES,
    uses=("catheter_clearance_max_mg", "thrombolysis_requires_hypotension", "systolic_low_mm_hg",
          "acute_event_window_days"),
    evidence=f"hemorrhage risk {HEMORRHAGE_RISK_PCT} %",
    evaluate=evaluate,
    render=render,
    suggest=order_suggestions,
    order_kinds=(OrderKind.THROMBOLYSIS,),
    could_concern=could_concern,
)
