"""The registry of CDS services: one module per service."""
from __future__ import annotations

from cds_service.services import order_select, order_sign, patient_view
from cds_service.services.base import ServiceDefinition


def all_services() -> list[ServiceDefinition]:
    return [patient_view.SERVICE, order_select.SERVICE, order_sign.SERVICE]
