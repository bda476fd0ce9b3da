"""The order-sign service: checks every order in `context.draftOrders` before it is signed.

Orders in other statuses than draft can appear when orders are re-signed: they are checked too
(cancelled, revoked and entered-in-error orders are not, see `cds_service.fhir.orders`).
"""
from __future__ import annotations

from cds_service.pathway.facts import DraftOrder
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import num
from cds_service.services.base import PATIENT_PREFETCH, HookCall, ServiceDefinition
from cds_service.services.orders import OrderRunner


def every_order(call: HookCall, orders: list[DraftOrder]) -> list[DraftOrder]:
    return list(orders)


def description(s: PathwaySettings) -> str:
    return (
        f"Before signing: iliac venous stent length (>= {num(s.min_stent_length_mm)} mm) and diameter (IVUS reference "
        f"+ {num(s.oversize_min_mm)} to {num(s.oversize_max_mm)} mm), IVUS before stenting or venoplasty, stent "
        f"indication (DVT excluded, fixed lesion > {num(s.ivus_stenosis_threshold_pct)} %, significant unilateral "
        "symptoms, no other edema cause, mass characterized), vena cava filter and thrombolysis indications, and "
        "the LMWH regimen for DVT. Fixes come as update or delete suggestions on the draft order."
    )


SERVICE = ServiceDefinition(
    id="iliac-vein-order-sign",
    hook="order-sign",
    title="Iliac vein order safety checks (order-sign)",
    description=description,
    usage_requirements=(
        "Sends context.draftOrders. Stent length checks need only the order; the other checks need the patient's "
        "Conditions, Observations, imaging, procedures and medications (prefetch or FHIR server access)."
    ),
    prefetch=dict(PATIENT_PREFETCH),
    required_keys=(),
    runner=OrderRunner(every_order),
)
