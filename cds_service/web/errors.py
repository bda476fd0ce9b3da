"""Every error becomes a JSON OperationOutcome with its status, in one place; never a stack trace."""
from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify
from werkzeug.exceptions import HTTPException

from cds_service.errors import ServiceError, operation_outcome
from cds_service.web.state import state

log = logging.getLogger("cds_service.app")

# OperationOutcome issue types of the HTTP errors Flask raises itself.
HTTP_ISSUE_CODES = {404: "not-found", 405: "not-supported", 413: "too-costly", 415: "not-supported"}


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ServiceError, service_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)


def service_error(error: ServiceError) -> Response:
    response = _outcome(error.status, error.message, error.code)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="cds-services"'
    return response


def http_error(error: HTTPException) -> Response:
    messages = {
        404: "No such endpoint.",
        405: "Method not allowed on this endpoint.",
        413: f"The request body is larger than the limit of {state()['settings'].max_body_bytes} bytes.",
    }
    status = error.code or 500
    return _outcome(status, messages.get(status, error.description or "Request error."),
                    HTTP_ISSUE_CODES.get(status, "processing"))


def unexpected_error(error: Exception) -> Response:
    log.error("unexpected error", extra={"error_type": type(error).__name__, "request_id": getattr(g, "request_id", "")})
    return _outcome(500, "Internal error. The request id is in the X-Request-ID header.", "exception")


def _outcome(status: int, message: str, code: str) -> Response:
    response = jsonify(operation_outcome(message, code=code))
    response.status_code = status
    return response
