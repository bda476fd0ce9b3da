"""The order-select service: checks only the orders the clinician has just selected.

`context.selections` names them ("Type/id"); the rest of `context.draftOrders` is read too,
because "IVUS ordered in the same draft orders" means the whole set (RULES STENT-IVUS-REQUIRED).
"""
from __future__ import annotations

from cds_service.pathway.facts import DraftOrder
from cds_service.pathway.settings import PathwaySettings
from cds_service.rules.framework import num
from cds_service.services.base import PATIENT_PREFETCH, HookCall, ServiceDefinition
from cds_service.services.orders import OrderRunner


def selected(call: HookCall, orders: list[DraftOrder]) -> list[DraftOrder]:
    """The orders named in `context.selections`."""
    chosen = set(call.selections)
    return [order for order in orders if order.ref in chosen]


def description(s: PathwaySettings) -> str:
    return (
        f"Checks the orders just selected: iliac venous stent length (>= {num(s.min_stent_length_mm)} mm) and diameter "
        f"(IVUS reference + {num(s.oversize_min_mm)} to {num(s.oversize_max_mm)} mm), IVUS before stenting or "
        f"venoplasty, stent indication (DVT excluded, fixed lesion > {num(s.ivus_stenosis_threshold_pct)} %, "
        "significant unilateral symptoms, no other edema cause, mass characterized), vena cava filter and "
        "thrombolysis indications, and the LMWH regimen for DVT."
    )


SERVICE = ServiceDefinition(
    id="iliac-vein-order-select",
    hook="order-select",
    title="Iliac vein order safety checks (order-select)",
    description=description,
    usage_requirements=(
        "Sends context.selections and context.draftOrders. Stent length checks need only the order; the other "
        "checks need the patient's Conditions, Observations, imaging, procedures and medications (prefetch or "
        "FHIR server access). Comments only on the selected orders."
    ),
    prefetch=dict(PATIENT_PREFETCH),
    required_keys=(),
    runner=OrderRunner(selected),
)
