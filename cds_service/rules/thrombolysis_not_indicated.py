"""THROMBOLYSIS-NOT-INDICATED (G:10): thrombolysis should be reserved only for limb-threatening ischemia with
severe hypotension, as its hemorrhage risk is 8 %. The fix: remove the draft order. With phlegmasia recorded
but severe hypotension not (R2), a warning to confirm the indication with the vascular team, and no delete.
Catheter clearance (DATA-CONTRACT Orders, R2) is not thrombolysis."""
from __future__ import annotations

from dataclasses import dataclass, replace

from cds_service.pathway.facts import DraftOrder, OrderKind
from cds_service.pathway.findings import DeleteOrder, Indicator, evidence_of
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.dvt_thrombolysis_option import HEMORRHAGE_RISK_PCT
from cds_service.rules.framework import ORDER_HOOKS, Rule, num
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

# DATA-CONTRACT Orders (R2): the drug of the usual catheter-clearance order ("2 mg, may repeat once").
CLEARANCE_DRUG = "alteplase"


@dataclass(frozen=True, kw_only=True)
class ThrombolysisNotIndicated(OrderFinding):
    limb_threat: bool
    severe_hypotension: bool
    contraindicated: bool  # a contraindication to anticoagulation (bleeding or low platelets)
    hemorrhagic_shock: bool
    requires_hypotension: bool  # the setting: limb threat alone is not enough
    dose_mg: float | None  # the drug order's largest single dose, when readable
    doses: int | None  # how many doses, when readable
    drug: str
    hemorrhage_risk_pct: int = HEMORRHAGE_RISK_PCT

    @property
    def confirm_with_team(self) -> bool:
        """R2: phlegmasia recorded, severe hypotension not, and nothing else against thrombolysis: the
        guideline's criterion is not fully met, but the limb is threatened. Warn, never push deletion."""
        return (self.limb_threat and self.requires_hypotension and not self.severe_hypotension
                and not self.contraindicated and not self.hemorrhagic_shock)


def is_catheter_clearance(order: DraftOrder, s: PathwaySettings) -> bool:
    """DATA-CONTRACT Orders (R2): alteplase at most the clearance dose a dose and at most the clearance
    number of doses; any other thrombolytic too when instilled into a catheter or device. A dose or a
    number of doses that cannot be read never is (an open-ended repeat is thrombolysis)."""
    dose, doses = order.thrombolytic_dose_mg, order.thrombolytic_doses
    if order.resource_type != "MedicationRequest" or dose is None or doses is None:
        return False
    within = dec(dose) <= dec(s.catheter_clearance_max_mg) and doses <= s.catheter_clearance_max_doses
    alteplase = order.medication is not None and order.medication.ingredient == CLEARANCE_DRUG
    return within and (alteplase or order.into_catheter)


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
    finding = ThrombolysisNotIndicated(
        indicator=Indicator.CRITICAL,
        order_ref=order.ref,
        order_display=order.display,
        evidence=evidence_of(a.limb_threat_evidence, a.hypotension_evidence, a.anticoag_contraindications,
                             a.dvt_evidence),
        proposals=(DeleteOrder(order.ref),),
        limb_threat=a.limb_threat,
        severe_hypotension=a.severe_hypotension,
        contraindicated=a.anticoagulation_contraindicated,
        hemorrhagic_shock=a.hemorrhagic_shock,
        requires_hypotension=ctx.s.thrombolysis_requires_hypotension,
        dose_mg=order.thrombolytic_dose_mg,
        doses=order.thrombolytic_doses,
        drug=order.medication.ingredient if order.medication else "",
    )
    if finding.confirm_with_team:  # RULES (R2): a warning without a delete suggestion
        return replace(finding, indicator=Indicator.WARNING, proposals=())
    return finding


def could_concern(order: DraftOrder, ctx: OrderContext) -> bool:
    """Catheter clearance is told from the order alone: no missing record could make it thrombolysis."""
    if is_catheter_clearance(order, ctx.s):
        return False
    return ctx.a.in_scope or ctx.a.dvt_confirmed or ctx.scope_unknown


def render(f: ThrombolysisNotIndicated, s: PathwaySettings) -> tuple[str, str]:
    risk = f.hemorrhage_risk_pct
    if f.confirm_with_team:
        action = (
            "Confirm the indication with the vascular team before signing: the guideline's criterion for "
            "thrombolysis is not fully met. Limb-threatening venous ischemia (phlegmasia) is recorded, severe "
            "hypotension is not."
        )
    else:
        action = f"Remove this order unless another indication applies: {_why_not(f, s)}."
    reasoning = (
        f"{action}\n\n{order_line(f)}{_dose_text(f, s)}\n\n"
        "The guideline reserves thrombolysis for limb-threatening ischemia with severe hypotension; its "
        f"hemorrhage risk is about {risk} %. No other thrombolysis indication (stroke, myocardial infarction, "
        "PE with shock, acute arterial limb ischemia) is recorded."
    )
    return _summary(f, s), reasoning


def _why_not(f: ThrombolysisNotIndicated, s: PathwaySettings) -> str:
    found = ["limb-threatening ischemia recorded" if f.limb_threat else "no limb-threatening ischemia recorded"]
    if f.requires_hypotension:
        found.append("severe hypotension recorded" if f.severe_hypotension else "no severe hypotension recorded")
    if f.contraindicated:
        platelets = figure(s.platelets_contraindication_10_3_ul)
        found.append(f"a contraindication to anticoagulation (recent bleeding or platelets < {platelets} ×10³/µL)")
    if f.hemorrhagic_shock:
        found.append("hemorrhagic or hypovolemic shock")
    return "; ".join(found)


def _dose_text(f: ThrombolysisNotIndicated, s: PathwaySettings) -> str:
    """The dose as read, and why a small dose is not catheter clearance (DATA-CONTRACT Orders, R2)."""
    if f.dose_mg is None:
        return " Dose or number of doses not readable: not a catheter-clearance order."
    if f.doses is None:
        return f" {figure(f.dose_mg)} mg a dose, repeated with no set number of doses: not a catheter-clearance order."
    given = f" {figure(f.dose_mg)} mg a dose, {f.doses} dose{'s' if f.doses > 1 else ''}"
    if dec(f.dose_mg) > dec(s.catheter_clearance_max_mg):
        return given + "."
    if f.doses > s.catheter_clearance_max_doses:
        return f"{given}: more than {s.catheter_clearance_max_doses} doses is not a catheter-clearance order."
    return f"{given}, not instilled into a catheter: not a catheter-clearance order."


def _summary(f: ThrombolysisNotIndicated, s: PathwaySettings) -> str:
    """Say what is missing, or what rules thrombolysis out: it is not always the indication."""
    risk = f.hemorrhage_risk_pct
    if f.confirm_with_team:
        return (
            "Thrombolysis for phlegmasia without severe hypotension: guideline criterion not fully met, "
            "confirm with vascular team"
        )
    if not f.limb_threat:
        return (
            "Thrombolysis with no limb-threatening ischemia recorded: reserved for it with severe hypotension "
            f"({risk} % bleeding)"
        )
    if f.hemorrhagic_shock:
        return f"Thrombolysis with hemorrhagic / hypovolemic shock: not indicated (hemorrhage risk {risk} %)"
    if f.contraindicated:
        platelets = figure(s.platelets_contraindication_10_3_ul)
        return f"Thrombolysis with recent bleeding or platelets < {platelets}: contraindicated (hemorrhage risk {risk} %)"
    return f"Thrombolysis for limb-threatening ischemia without severe hypotension: not indicated ({risk} % bleeding)"


RULE = Rule(
    "THROMBOLYSIS-NOT-INDICATED",
    hooks=ORDER_HOOKS,
    indicator="critical / warning",
    guideline=(10,),
    titled="Thrombolysis without limb-threatening ischemia and severe hypotension",
    fires_when=lambda s: (
        "A patient in scope or with a confirmed leg DVT; a thrombolytic drug order (not catheter clearance: "
        f"alteplase, or a thrombolytic instilled into a catheter, at most {num(s.catheter_clearance_max_mg)} mg a "
        f"dose and at most {num(s.catheter_clearance_max_doses)} doses) or "
        "catheter-directed venous thrombolysis; not both limb-threatening venous ischemia and severe "
        "hypotension; no other thrombolysis indication. Critical with a delete suggestion; a warning to confirm "
        "the indication with the vascular team, without one, when phlegmasia is recorded but severe hypotension "
        "is not."
    ),
    reads=SCOPE_TYPES + MEDICATION_TYPES,
    uses=("catheter_clearance_max_mg", "catheter_clearance_max_doses", "thrombolysis_requires_hypotension", "systolic_low_mm_hg",
          "acute_event_window_days"),
    evidence=f"hemorrhage risk {HEMORRHAGE_RISK_PCT} %",
    evaluate=evaluate,
    order_on_its_line=True,  # the order shows on the "Order:" line only
    render=render,
    suggest=order_suggestions,
    order_kinds=(OrderKind.THROMBOLYSIS,),
    could_concern=could_concern,
)
