"""The order-sign service: checks every order in `context.draftOrders` before it is signed.

Orders in other statuses than draft can appear when orders are re-signed: they are checked too
(cancelled, revoked and entered-in-error orders are not, see `cds_service.fhir.orders`).
"""
from __future__ import annotations

from cds_service.pathway.facts import DraftOrder
from cds_service.protocol.cards import Card
from cds_service.services.base import PATIENT_PREFETCH, HookCall, ServiceDefinition
from cds_service.services.orders import check_orders


def every_order(orders: list[DraftOrder]) -> list[DraftOrder]:
    return list(orders)


def handle(call: HookCall) -> list[Card]:
    return check_orders(call, every_order)


SERVICE = ServiceDefinition(
    id="iliac-vein-order-sign",
    hook="order-sign",
    title="Iliac vein order safety checks (order-sign)",
    description=(
        "Before signing: iliac venous stent length (>= 60 mm) and diameter (IVUS reference + 1 to 4 mm), IVUS before "
        "stenting or venoplasty, stent indication (DVT excluded, fixed lesion > 61 %, significant unilateral "
        "symptoms, no other edema cause, mass characterized), vena cava filter and thrombolysis indications, and "
        "the LMWH regimen for DVT. Fixes come as update or delete suggestions on the draft order."
    ),
    usage_requirements=(
        "Sends context.draftOrders. Stent length checks need only the order; the other checks need the patient's "
        "Conditions, Observations, imaging, procedures and medications (prefetch or FHIR server access)."
    ),
    prefetch=dict(PATIENT_PREFETCH),
    required_keys=(),
    handle=handle,
)
