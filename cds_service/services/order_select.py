"""The order-select service: checks only the orders the clinician has just selected.

`context.selections` names them ("Type/id"); the rest of `context.draftOrders` is read too,
because "IVUS ordered in the same draft orders" means the whole set (RULES STENT-IVUS-REQUIRED).
"""
from __future__ import annotations

from cds_service.pathway.facts import DraftOrder
from cds_service.protocol.cards import Card
from cds_service.services.base import PATIENT_PREFETCH, HookCall, ServiceDefinition
from cds_service.services.orders import check_orders


def selected(call: HookCall):
    chosen = set(call.selections)

    def pick(orders: list[DraftOrder]) -> list[DraftOrder]:
        return [order for order in orders if order.ref in chosen]

    return pick


def handle(call: HookCall) -> list[Card]:
    return check_orders(call, selected(call))


SERVICE = ServiceDefinition(
    id="iliac-vein-order-select",
    hook="order-select",
    title="Iliac vein order safety checks (order-select)",
    description=(
        "Checks the orders just selected: iliac venous stent length (>= 60 mm) and diameter (IVUS reference + 1 to "
        "4 mm), IVUS before stenting or venoplasty, stent indication (DVT excluded, fixed lesion > 61 %, "
        "significant unilateral symptoms, no other edema cause, mass characterized), vena cava filter and "
        "thrombolysis indications, and the LMWH regimen for DVT."
    ),
    usage_requirements=(
        "Sends context.selections and context.draftOrders. Stent length checks need only the order; the other "
        "checks need the patient's Conditions, Observations, imaging, procedures and medications (prefetch or "
        "FHIR server access). Comments only on the selected orders."
    ),
    prefetch=dict(PATIENT_PREFETCH),
    required_keys=(),
    handle=handle,
)
