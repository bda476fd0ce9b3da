"""What the order rules (hooks order-select and order-sign) share: the context they read, which orders
they look at (RULES.md "Scope"), the finding base, and how an order card names the order.

Which orders are checked at all: stent and venoplasty checks run when the patient is in scope or the
order itself is clearly iliac venous; IVC-filter, thrombolysis and drug checks only for patients in
scope. When the record could not be read, whether the patient is in scope is unknown: the stent-size
checks (which need only the order) then still run for every venous stent, because a migrating short
stent is the harm this service exists to prevent (docs/decisions.md, "Orders").

Unknown is not false: a rule that needs a fact the service could not read stays silent rather than
claim the fact is absent (RULES cross-cutting); the DATA-UNAVAILABLE card names the checks that could
not run (`could_concern` below, and each rule's `reads`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from cds_service.pathway import axes
from cds_service.pathway.assessment import Assessment
from cds_service.pathway.facts import ClinicalFacts, DraftOrder, Evidence, OrderKind
from cds_service.pathway.findings import Finding, UpdateOrder
from cds_service.pathway.settings import PathwaySettings

# Resource types each group of patient facts is read from (facts.unreadable names the unread ones).
SCOPE_TYPES = ("Condition", "Procedure", "Observation", "DiagnosticReport")
DVT_TYPES = ("Condition", "Observation", "DiagnosticReport", "ImagingStudy", "Procedure")
# What could turn "DVT not excluded" into "excluded": conditions (the legs in question, a diagnosis) and
# study results (axes.REPORT_TYPES). An ImagingStudy or Procedure carries no result: unread, it can
# only hide an uncoded study, which never excludes DVT.
DVT_EXCLUSION_TYPES = ("Condition",) + axes.REPORT_TYPES
IMAGING_TYPES = ("ImagingStudy", "DiagnosticReport", "Procedure")
# A mass's nature (Condition, or a mass-nature Observation) and its contrast imaging (a CT venography
# Observation, or a study).
MASS_TYPES = ("Condition", "Observation") + IMAGING_TYPES
CONDITION_TYPES = ("Condition",)
CONTRAINDICATION_TYPES = ("Condition", "Observation")  # bleeding diagnoses, platelet counts
LESION_TYPES = ("Observation",)  # IVUS measurements, lesion behaviour
MEDICATION_TYPES = ("MedicationRequest", "MedicationStatement")

STENT = (OrderKind.STENT,)


@dataclass(frozen=True)
class OrderContext:
    """What every order rule reads: the patient, the whole draft set and the settings."""

    facts: ClinicalFacts
    a: Assessment
    s: PathwaySettings
    draft_set: tuple[DraftOrder, ...]  # every order of draftOrders (order-select: not only the selections)

    def known(self, *resource_types: str) -> bool:
        return self.facts.known(*resource_types)

    @property
    def scope_unknown(self) -> bool:
        """Not in scope as far as the record was read, but part of it could not be read."""
        return not self.a.in_scope and not self.known(*SCOPE_TYPES)


@dataclass(frozen=True, kw_only=True)
class OrderFinding(Finding):
    """A finding about one draft order: `order_ref` names it, `order_display` is what was ordered."""

    order_display: str


def dec(value: float) -> Decimal:
    # str() first: compare the numbers as written, without the binary error of floats.
    return Decimal(str(value))


# -- which orders a rule looks at -------------------------------------------------------------------
def stent_scope(order: DraftOrder, ctx: OrderContext) -> bool:
    """RULES Scope: the patient is in scope, or the order is clearly iliac venous."""
    return ctx.a.in_scope or order.iliac


def is_stent(order: DraftOrder, ctx: OrderContext) -> bool:
    return order.kind is OrderKind.STENT and stent_scope(order, ctx)


def is_sizable_stent(order: DraftOrder, ctx: OrderContext) -> bool:
    """Size checks need only the order: they also run while the patient's scope is unknown."""
    return order.kind is OrderKind.STENT and (stent_scope(order, ctx) or ctx.scope_unknown)


def scope_caveat(order: DraftOrder, ctx: OrderContext) -> bool:
    """The order is checked although neither the patient nor the order is known to be iliac."""
    return not ctx.a.in_scope and not order.iliac


# -- which orders a rule could concern, for the DATA-UNAVAILABLE card ------------------------------------
def stent_could_concern(order: DraftOrder, ctx: OrderContext) -> bool:
    return stent_scope(order, ctx) or ctx.scope_unknown


def in_scope_could_concern(order: DraftOrder, ctx: OrderContext) -> bool:
    return ctx.a.in_scope or ctx.scope_unknown


def any_order(order: DraftOrder, ctx: OrderContext) -> bool:
    return True


# -- how an order card names the order and its sizes ------------------------------------------------------
QUANTITY = re.compile(r"^\d+(?:\.\d+)? [^\s\d]+$")  # "5.9 cm", "2 [in_i]": a parameter's value and unit
# UCUM length codes as a clinician reads them (RULES "Card text (R2)": no UCUM code in the visible text).
UCUM_WORDS = {"[in_i]": "in"}


def figure(value: object) -> str:
    """A number as the order cards print it: 60.0 -> "60", up to 10 significant digits."""
    return f"{value:.10g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def _mm(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.10g} mm"


def as_ordered(written: str, millimetres: float | None) -> str:
    """The size as the clinician wrote it, and in mm when that is not already how it was written:
    "5.9 cm (= 59 mm)", "50 mm (order text '14x50mm')"."""
    if not written:
        return _mm(millimetres)
    for code, word in UCUM_WORDS.items():
        written = written.replace(code, word)
    if millimetres is None:
        return f"{written} (not readable as a size)"
    if written.replace(" ", "") == f"{millimetres:.10g}mm":
        return written
    if QUANTITY.match(written):
        return f"{written} (= {_mm(millimetres)})"
    return f"{_mm(millimetres)} (order text '{written}')"


def corrected_too(f: Finding, own: str) -> str:
    """The other cards' size corrections this card's update carries too (RULES "Card text (R2)"), in words:
    " and the diameter at 18 mm (the diameter card's correction)"; "" when there are none."""
    others = [o for p in f.proposals if isinstance(p, UpdateOrder) for o in p.together]
    sizes = [(which, mm) for o in others for which, mm in (("length", o.length_mm), ("diameter", o.diameter_mm))
             if mm is not None and which != own]
    return "".join(f" and the {which} at {figure(mm)} mm (the {which} card's correction)" for which, mm in sizes)


def order_line(f: OrderFinding) -> str:
    """The order as the clinician wrote it; its id only in the suggestion's action and the card log."""
    return f"**Order:** {f.order_display}."


def device_note(size_ref: str) -> str:
    return " The size is that of the stent device order based on this procedure." if size_ref else ""


def scope_note(scope_unknown: bool) -> str:
    if not scope_unknown:
        return ""
    return (
        "\n\nThe patient's record could not be read, so it is not known whether this venous stent is iliac; "
        "the length check needs only the order and was run."
    )


def order_evidence(order: DraftOrder) -> Evidence:
    """The draft order itself, first among the facts a card used."""
    parts = [order.display]
    if order.length_as_ordered:
        parts.append(f"length {as_ordered(order.length_as_ordered, order.length_mm)}")
    if order.diameter_as_ordered:
        parts.append(f"diameter {as_ordered(order.diameter_as_ordered, order.diameter_mm)}")
    return Evidence(ref=order.ref, display=", ".join(parts))


def card_evidence(finding: Finding, order: DraftOrder) -> tuple[Evidence, ...]:
    """The facts an order card lists: the order, the device order holding its size, then the finding's."""
    device = (
        (Evidence(ref=order.size_ref, display="stent device order based on this procedure (holds the size)"),)
        if order.size_ref else ()
    )
    return (order_evidence(order),) + device + tuple(e for e in finding.evidence if e.ref != order.ref)
