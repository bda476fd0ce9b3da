"""What the app factory builds once per app and every blueprint reads: `app.extensions["cds"]`."""
from __future__ import annotations

from typing import TypedDict

from flask import current_app, request

from cds_service.auth import Authenticator
from cds_service.config import Settings
from cds_service.metrics import Metrics
from cds_service.pipeline import HookPipeline
from cds_service.services.base import ServiceDefinition
from cds_service.store.card_log import CardLog
from cds_service.store.repository import Store


class CdsState(TypedDict):
    settings: Settings
    store: Store
    pipeline: HookPipeline
    metrics: Metrics
    card_log: CardLog
    registry: dict[str, ServiceDefinition]  # by service id, in discovery order
    authenticator: Authenticator | None  # None: CDS_AUTH=off


def state() -> CdsState:
    """The current app's wiring (inside a request or app context)."""
    cds: CdsState = current_app.extensions["cds"]
    return cds


def base_url() -> str:
    """This service's public URL: CDS_PUBLIC_BASE_URL, else the caller's Host (only with auth off)."""
    return (state()["settings"].public_base_url or request.host_url).rstrip("/")
