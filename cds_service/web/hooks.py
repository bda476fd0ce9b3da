"""The CDS Hooks endpoints: discovery, a service call, and feedback on its cards."""
from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request

from cds_service.errors import BadRequest, NotFound, UnsupportedMediaType
from cds_service.protocol import json_text
from cds_service.protocol.request import read_body
from cds_service.services.base import ServiceDefinition
from cds_service.web.state import base_url, state

JSON_TYPES = ("application/json", "application/fhir+json", "application/cds-hooks+json")

hooks = Blueprint("hooks", __name__)


@hooks.get("/cds-services")
def discovery() -> Response:
    settings = state()["pipeline"].pathway
    return jsonify({"services": [service.discovery_json(settings) for service in state()["registry"].values()]})


@hooks.post("/cds-services/<service_id>")
def call_service(service_id: str) -> Response:
    service = service_for(service_id)
    return jsonify(state()["pipeline"].run(service, read_json_body(), base_url()))


@hooks.post("/cds-services/<service_id>/feedback")
def feedback(service_id: str) -> Response:
    service = service_for(service_id)
    stored = state()["pipeline"].feedback(service, read_json_body())
    return jsonify({"stored": stored})


def service_for(service_id: str) -> ServiceDefinition:
    """The service of this id (404 otherwise), named in the request's metrics and log."""
    service = state()["registry"].get(service_id)
    if service is None:
        raise NotFound("No CDS service with this id.")
    g.service = service.id
    return service


def read_json_body() -> object:
    """The request body as JSON: 415 for other content types, 400 for anything unreadable."""
    content_type = (request.mimetype or "").lower()
    if content_type not in JSON_TYPES:
        raise UnsupportedMediaType("the request body must be JSON (Content-Type: application/json)")
    raw = read_request_body()  # 413 beyond CDS_MAX_BODY_BYTES, chunked or not; 408 when it stalls
    try:
        return json_text.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("the request body is not valid UTF-8") from None
    except RecursionError:
        raise BadRequest("the request body is nested too deeply") from None
    except ValueError:
        raise BadRequest("the request body is not valid JSON") from None


def read_request_body() -> bytes:
    settings = state()["settings"]
    stream = request.environ.get("wsgi.input")
    if stream is None:
        return b""
    return read_body(stream, request.content_length, settings.max_body_bytes, settings.request_body_timeout)
