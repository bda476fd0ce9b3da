"""Around every request: a request id and timer, the caller's JWT, then metrics and one log line."""
from __future__ import annotations

import logging
import time
import uuid

from flask import Response, g, request

from cds_service.auth import AuthenticationFailed
from cds_service.errors import AuthenticationRequired, StorageUnavailable
from cds_service.web.state import base_url, state

log = logging.getLogger("cds_service.app")

# Endpoints an EHR never signs a JWT for: probes, metrics scrapes, and pages a clinician opens
# from a card's source.url in a browser. None of them reveals patient data, except /app: the SMART
# app, which a browser opens from a card's smart link; its own server-side session protects it.
PUBLIC_PATHS = ("/healthz", "/readyz", "/metrics", "/rules", "/app")


def is_public(path: str) -> bool:
    return any(path == public or path.startswith(public + "/") for public in PUBLIC_PATHS)


def start_request() -> None:
    g.started = time.perf_counter()
    g.request_id = str(uuid.uuid4())
    g.service = ""
    if not _needs_token():
        return
    authenticator = state()["authenticator"]
    assert authenticator is not None  # _needs_token() is False without one
    try:
        g.jwt_claims = authenticator.authenticate(request.headers.get("Authorization"), base_url() + request.path)
    except AuthenticationFailed as failure:
        state()["metrics"].auth_failures.labels(failure.reason).inc()
        log.warning("authentication failed", extra={"reason": failure.reason, "issuer": failure.issuer or "",
                                                    "path": request.path, "request_id": g.request_id})
        if failure.reason == "replay-store-unavailable":  # our fault, not the caller's
            raise StorageUnavailable("The service cannot check tokens right now; retry shortly.") from None
        raise AuthenticationRequired("Authentication failed.") from None


def _needs_token() -> bool:
    if request.method == "OPTIONS" or is_public(request.path):
        return False
    if request.path.startswith("/fixtures-fhir") and state()["settings"].dev_mode:
        return False
    return state()["authenticator"] is not None


def finish_request(response: Response) -> Response:
    duration = time.perf_counter() - getattr(g, "started", time.perf_counter())
    endpoint = request.url_rule.rule if request.url_rule else "unmatched"
    service = getattr(g, "service", "")
    metrics = state()["metrics"]
    metrics.requests.labels(endpoint, service, str(response.status_code)).inc()
    metrics.latency.labels(endpoint, service).observe(duration)
    response.headers["X-Request-ID"] = getattr(g, "request_id", "")
    if not request.path.startswith(("/healthz", "/metrics")):
        log.info(
            "request",
            extra={"request_id": getattr(g, "request_id", ""), "method": request.method, "path": endpoint,
                   "service": service, "status": response.status_code, "duration_ms": round(duration * 1000, 1)},
        )
    return response
