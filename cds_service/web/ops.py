"""Probes and metrics for the platform: liveness, readiness (the database answers), Prometheus."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify

from cds_service.web.state import state

log = logging.getLogger("cds_service.app")

ops = Blueprint("ops", __name__)


@ops.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@ops.get("/readyz")
def readyz() -> Response:
    try:
        state()["store"].ping()
    except Exception as error:  # any database failure means not ready
        log.warning("database not reachable", extra={"error_type": type(error).__name__})
        response = jsonify({"status": "unavailable", "database": "unreachable"})
        response.status_code = 503
        return response
    return jsonify({"status": "ok", "database": "ok"})


@ops.get("/metrics")
def metrics() -> Response:
    body, content_type = state()["metrics"].exposition()
    return Response(body, content_type=content_type)
