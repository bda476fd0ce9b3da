"""The Flask app factory: builds the service's parts once, then registers the request hooks, the
blueprints and the error handlers. Wiring only: each route lives in `cds_service/web/`."""
from __future__ import annotations

import logging

import requests
from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask_cors import CORS
from requests.adapters import HTTPAdapter
from sqlalchemy.engine import Engine

from cds_service.auth import Authenticator
from cds_service.config import Settings, SettingsError
from cds_service.fhir.prefetch import PrefetchResolver
from cds_service.fhir.valuesets import load_value_sets
from cds_service.governance import Governance
from cds_service.logs import configure_logging
from cds_service.metrics import Metrics
from cds_service.pipeline import HookPipeline
from cds_service.services import all_services
from cds_service.services.base import ServiceDefinition
from cds_service.site_config import load_for_service, log_site_values
from cds_service.store.card_log import CardLog
from cds_service.store.database import replay_engine
from cds_service.store.lockouts import LockoutStore
from cds_service.store.repository import DbLimits, Store, make_engine
from cds_service.web.errors import register_error_handlers
from cds_service.web.fixtures_fhir import fixtures_fhir
from cds_service.web.fixtures_smart import fixtures_smart
from cds_service.web.hooks import hooks
from cds_service.web.lifecycle import finish_request, start_request
from cds_service.web.ops import ops
from cds_service.web.rule_pages import rule_pages
from cds_service.web.smart_app import smart_app
from cds_service.web.state import CdsState

log = logging.getLogger("cds_service.app")


class InOrderJSON(DefaultJSONProvider):
    sort_keys = False  # cards keep the field order of the CDS Hooks specification


def create_app(settings: Settings | None = None, services: list[ServiceDefinition] | None = None) -> Flask:
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json = InOrderJSON(app)
    CORS(app, origins=list(settings.cors_origins), allow_headers=["Authorization", "Content-Type"],
         methods=["GET", "POST", "OPTIONS"], supports_credentials=False, max_age=600)
    app.extensions["cds"] = build_state(settings, all_services() if services is None else services)
    app.before_request(start_request)
    app.after_request(finish_request)
    register_error_handlers(app)
    for blueprint in (hooks, ops, rule_pages, smart_app):
        app.register_blueprint(blueprint)
    if settings.dev_mode:  # the fixture FHIR server and its SMART authorization server: never without --dev
        app.register_blueprint(fixtures_fhir)
        app.register_blueprint(fixtures_smart)
    return app


def build_state(settings: Settings, services: list[ServiceDefinition]) -> CdsState:
    """The parts every request shares: store, metrics, the hook pipeline, the authenticator."""
    engine = make_engine(settings.database_url, DbLimits.from_settings(settings))
    store = Store(engine, request_timeout=settings.db_statement_timeout + 1.0)
    metrics = Metrics()
    card_log = CardLog(store, metrics, max_pending=settings.card_log_max_pending)
    # Site governance (issue 13): the one place the site file is read; the pipeline holds it, and the
    # cards, discovery text and rule pages read its values and modes from there.
    site = load_for_service(settings.site_config, settings.local_valuesets)
    log_site_values(site, log)
    governance = Governance(
        site,
        LockoutStore(engine, timeout=settings.lockout_timeout),
        on_fail_open=lambda reason: metrics.lockout_fail_open.labels(reason).inc(),
        flush_cards=card_log.flush_for_feedback,
    )
    pipeline = HookPipeline(
        settings=settings,
        resolver=PrefetchResolver(
            settings, _http_session(),
            on_fetch=lambda kind, outcome: metrics.fhir_fetches.labels(kind, outcome).inc(),
        ),
        store=store,
        value_sets=load_value_sets(site.local_valuesets or settings.local_valuesets or None),
        metrics=metrics,
        card_writer=card_log.record,
        governance=governance,
    )
    return CdsState(settings=settings, store=store, pipeline=pipeline, metrics=metrics, card_log=card_log,
                    registry={service.id: service for service in services},
                    authenticator=_authenticator(settings, engine))


def _http_session() -> requests.Session:
    """One pooled session for the FHIR server calls; retries are the resolver's decision, not urllib3's."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=16, pool_maxsize=32, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _authenticator(settings: Settings, engine: Engine) -> Authenticator | None:
    if settings.auth != "required":
        log.warning("authentication is OFF: every caller is trusted (CDS_AUTH=off); never in production")
        return None
    if not settings.public_base_url:
        # Without it the expected `aud` would come from the caller's Host header.
        raise SettingsError("CDS_AUTH=required needs CDS_PUBLIC_BASE_URL: the JWT audience is checked against it")
    return Authenticator(settings, replay_engine(settings, engine))
