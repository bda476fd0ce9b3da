"""The Flask app factory: routes, authentication, limits and error handling. Wiring only."""
from __future__ import annotations

import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
from flask import Flask, Response, g, jsonify, request
from flask_cors import CORS
from requests.adapters import HTTPAdapter
from werkzeug.exceptions import HTTPException

from cds_service.config import Settings, SettingsError
from cds_service.errors import (
    AuthenticationRequired,
    BadRequest,
    NotFound,
    ServiceError,
    StorageUnavailable,
    UnsupportedMediaType,
    operation_outcome,
)
from cds_service.fhir.prefetch import PrefetchResolver
from cds_service.fhir.valuesets import load_value_sets
from cds_service.governance import Governance
from cds_service.logs import configure_logging
from cds_service.metrics import Metrics
from cds_service.pipeline import HookPipeline
from cds_service.services.base import ServiceDefinition
from cds_service.site_config import load_for_service, log_site_values
from cds_service.store.card_log import CardLog
from cds_service.store.lockouts import LockoutStore
from cds_service.store.repository import Store, make_engine

log = logging.getLogger("cds_service.app")

# Endpoints an EHR never signs a JWT for: probes, metrics scrapes, and pages a clinician opens
# from a card's source.url in a browser. None of them reveals patient data.
PUBLIC_PATHS = ("/healthz", "/readyz", "/metrics", "/rules")


def is_public(path: str) -> bool:
    return any(path == public or path.startswith(public + "/") for public in PUBLIC_PATHS)
JSON_TYPES = ("application/json", "application/fhir+json", "application/cds-hooks+json")


def _json_error(error: ServiceError | HTTPException, status: int, message: str) -> Response:
    code = getattr(error, "code", "processing")
    if not isinstance(code, str):
        code = {404: "not-found", 405: "not-supported", 413: "too-costly", 415: "not-supported"}.get(status, "processing")
    response = jsonify(operation_outcome(message, code=code))
    response.status_code = status
    return response


def _read_json_body() -> object:
    """The request body as JSON: 415 for other content types, 400 for anything unreadable."""
    content_type = (request.mimetype or "").lower()
    if content_type not in JSON_TYPES:
        raise UnsupportedMediaType("the request body must be JSON (Content-Type: application/json)")
    raw = request.get_data(cache=False)  # bounded by MAX_CONTENT_LENGTH: 413 beyond it
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("the request body is not valid UTF-8") from None
    except RecursionError:
        raise BadRequest("the request body is nested too deeply") from None
    except ValueError:
        raise BadRequest("the request body is not valid JSON") from None


def create_app(settings: Settings | None = None, services: list[ServiceDefinition] | None = None) -> Flask:
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    if services is None:
        from cds_service.services import all_services

        services = all_services()
    registry = {service.id: service for service in services}

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False
    CORS(
        app,
        origins=list(settings.cors_origins),
        allow_headers=["Authorization", "Content-Type"],
        methods=["GET", "POST", "OPTIONS"],
        supports_credentials=False,
        max_age=600,
    )

    engine = make_engine(settings.database_url)
    store = Store(engine)
    metrics = Metrics()
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=16, pool_maxsize=32, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    executor = ThreadPoolExecutor(max_workers=max(2, settings.fhir_max_workers), thread_name_prefix="fhir")
    card_log = CardLog(store)
    # Site governance (issue 13): the one place the site file becomes the settings the service uses.
    site = load_for_service(settings.site_config, settings.local_valuesets)
    log_site_values(site, log)
    governance = Governance(
        site,
        LockoutStore(engine, timeout=settings.lockout_timeout),
        on_fail_open=lambda reason: metrics.lockout_fail_open.labels(reason).inc(),
        flush_cards=card_log.flush,
    )
    pipeline = HookPipeline(
        settings=settings,
        resolver=PrefetchResolver(
            settings, session, executor, on_fetch=lambda kind, outcome: metrics.fhir_fetches.labels(kind, outcome).inc()
        ),
        store=store,
        value_sets=load_value_sets(site.local_valuesets or settings.local_valuesets or None),
        pathway=site.pathway,
        metrics=metrics,
        card_writer=card_log.record,
        governance=governance,
    )

    authenticator = None
    if settings.auth == "required" and not settings.public_base_url:
        # Without it the expected `aud` would come from the caller's Host header.
        raise SettingsError("CDS_AUTH=required needs CDS_PUBLIC_BASE_URL: the JWT audience is checked against it")
    if settings.auth == "required":
        from cds_service.auth import Authenticator

        authenticator = Authenticator(settings, engine)
    else:
        log.warning("authentication is OFF: every caller is trusted (CDS_AUTH=off); never in production")

    app.extensions["cds"] = {"settings": settings, "store": store, "pipeline": pipeline, "metrics": metrics, "card_log": card_log,
                             "registry": registry, "site": site}

    def base_url() -> str:
        return (settings.public_base_url or request.host_url).rstrip("/")

    @app.before_request
    def start_request():
        g.started = time.perf_counter()
        g.request_id = str(uuid.uuid4())
        g.service = ""
        if request.method == "OPTIONS" or is_public(request.path):
            return None
        if request.path.startswith("/fixtures-fhir") and settings.dev_mode:
            return None
        if authenticator is None:
            return None
        from cds_service.auth import AuthenticationFailed

        try:
            g.jwt_claims = authenticator.authenticate(request.headers.get("Authorization"), base_url() + request.path)
        except AuthenticationFailed as failure:
            metrics.auth_failures.labels(failure.reason).inc()
            log.warning("authentication failed", extra={"reason": failure.reason, "issuer": failure.issuer or "",
                                                        "path": request.path, "request_id": g.request_id})
            if failure.reason == "replay-store-unavailable":  # our fault, not the caller's
                raise StorageUnavailable("The service cannot check tokens right now; retry shortly.") from None
            raise AuthenticationRequired("Authentication failed.") from None
        return None

    @app.after_request
    def finish_request(response: Response) -> Response:
        duration = time.perf_counter() - getattr(g, "started", time.perf_counter())
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        service = getattr(g, "service", "")
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

    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError):
        response = _json_error(error, error.status, error.message)
        if error.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="cds-services"'
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        messages = {
            404: "No such endpoint.",
            405: "Method not allowed on this endpoint.",
            413: f"The request body is larger than the limit of {settings.max_body_bytes} bytes.",
        }
        status = error.code or 500
        return _json_error(error, status, messages.get(status, error.description or "Request error."))

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        log.error("unexpected error", extra={"error_type": type(error).__name__,
                                             "request_id": getattr(g, "request_id", "")})
        response = jsonify(operation_outcome("Internal error. The request id is in the X-Request-ID header.",
                                             code="exception"))
        response.status_code = 500
        return response

    def service_for(service_id: str) -> ServiceDefinition:
        service = registry.get(service_id)
        if service is None:
            raise NotFound("No CDS service with this id.")
        g.service = service.id
        return service

    @app.get("/cds-services")
    def discovery():
        return jsonify({"services": [service.discovery_json() for service in registry.values()]})

    @app.post("/cds-services/<service_id>")
    def call_service(service_id: str):
        service = service_for(service_id)
        return jsonify(pipeline.run(service, _read_json_body(), base_url()))

    @app.post("/cds-services/<service_id>/feedback")
    def feedback(service_id: str):
        service = service_for(service_id)
        stored = pipeline.feedback(service, _read_json_body())
        return jsonify({"stored": stored})

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    @app.get("/readyz")
    def readyz():
        try:
            store.ping()
        except Exception as error:  # any database failure means not ready
            log.warning("database not reachable", extra={"error_type": type(error).__name__})
            response = jsonify({"status": "unavailable", "database": "unreachable"})
            response.status_code = 503
            return response
        return jsonify({"status": "ok", "database": "ok"})

    @app.get("/metrics")
    def metrics_endpoint():
        body, content_type = metrics.exposition()
        return Response(body, content_type=content_type)

    from cds_service.web.routes import register_pages

    register_pages(app, settings, site)
    return app
