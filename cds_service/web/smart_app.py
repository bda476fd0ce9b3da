"""The SMART on FHIR pathway app under /app/ (docs/smart-app.md): launch, callback, the pathway page.

The browser carries no CDS Hooks JWT, so /app/ is outside the hook authentication; its own
server-side session protects it. Every failure is an HTML page with a 4xx/5xx status that says
what to do; no token, code or state is ever logged or put in a page.
"""
from __future__ import annotations

import hmac
import logging
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, redirect, render_template, request
from flask.blueprints import BlueprintSetupState
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as BaseResponse

from cds_service.config import Settings
from cds_service.fhir.client import FhirClient, is_allowed
from cds_service.fhir.prefetch import call_budget
from cds_service.pipeline import missing_required
from cds_service.smart import bridge
from cds_service.smart.discovery import discover
from cds_service.smart.errors import LaunchError
from cds_service.smart.links import parse_app_context
from cds_service.smart.oauth import Client, authorization_request, exchange_code
from cds_service.smart.sessions import SessionStore
from cds_service.smart.sizing import stent_sizing
from cds_service.smart.timeline import layout
from cds_service.smart.view_model import pathway_view
from cds_service.web.state import base_url, state

log = logging.getLogger("cds_service.smart_app")

COOKIE = "cds_app_session"
PENDING_TTL = 600  # seconds between /app/launch and /app/callback
MAX_SESSION = 8 * 3600  # the session ends with the token, and after 8 h at most
DEV_CLIENT_ID = "iliac-vein-cds-dev"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                               "base-uri 'none'; form-action 'self'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

smart_app = Blueprint("smart_app", __name__, url_prefix="/app", template_folder="templates")


@smart_app.record_once
def _open_sessions(setup: BlueprintSetupState) -> None:
    setup.app.extensions["smart_app"] = SessionStore(setup.app.extensions["cds"]["store"].engine)


def _settings() -> Settings:
    return state()["settings"]


def _sessions() -> SessionStore:
    sessions: SessionStore = current_app.extensions["smart_app"]
    return sessions


def _client() -> Client:
    settings = _settings()
    client_id = settings.smart_client_id or (DEV_CLIENT_ID if settings.dev_mode else "")
    if not client_id:
        raise LaunchError(503, "The pathway app is not registered",
                          "Set CDS_SMART_CLIENT_ID to the client id the EHR issued for this app (docs/smart-app.md).",
                          "no-client-id")
    return Client(client_id, settings.smart_client_secret, f"{base_url()}/app/callback")


def _page(template: str, status: int = 200, **values) -> Response:
    response = Response(render_template(template, **values), status=status, content_type="text/html; charset=utf-8")
    response.headers.update(SECURITY_HEADERS)
    return response


def _with_cookie(response: BaseResponse, secret: str, max_age: int) -> BaseResponse:
    response.set_cookie(COOKIE, secret, max_age=max_age, path="/app", secure=True, httponly=True, samesite="Lax")
    return response


@smart_app.errorhandler(LaunchError)
def launch_error(error: LaunchError):
    log.warning("smart app launch failed", extra={"reason": error.reason, "status": error.status})
    return _page("app/message.html", error.status, title=error.title, advice=error.advice)


@smart_app.errorhandler(SQLAlchemyError)
def storage_error(error: SQLAlchemyError):
    log.warning("smart app session storage unavailable", extra={"error_type": type(error).__name__})
    return _page("app/message.html", 503, title="The app cannot reach its session storage",
                 advice="Nothing was shown or stored. Retry in a moment; if it persists, tell the CDS service's team.")


@smart_app.get("/launch")
def launch():
    iss = request.args.get("iss", "").strip().rstrip("/")
    launch_id = request.args.get("launch", "").strip()
    settings = _settings()
    if not iss:
        raise LaunchError(400, "The launch names no FHIR server",
                          "The app is launched with ?iss=<FHIR base URL> (and &launch=<id> from an EHR).", "no-iss")
    if not is_allowed(iss, settings.fhir_allowlist) or len(launch_id) > 1024:
        raise LaunchError(400, "This FHIR server is not allowed",
                          "The FHIR server in the launch is not on this service's allowlist (CDS_FHIR_ALLOWLIST). "
                          "Nothing was contacted.", "iss-not-allowed")
    client = _client()
    fhir = FhirClient(bridge_session(), iss, None, settings.fhir_connect_timeout, settings.fhir_read_timeout,
                      settings.fhir_max_response_bytes, 1, call_budget(settings))
    endpoints = discover(fhir, settings.fhir_allowlist)
    auth = authorization_request(client, endpoints, iss, launch_id)
    pending = {"stage": "pending", "state": auth.state, "verifier": auth.code_verifier, "iss": iss,
               "token_url": endpoints.token_url}
    secret = _sessions().create(pending, PENDING_TTL)
    _sessions().delete(request.cookies.get(COOKIE))  # a new launch replaces any earlier session
    return _with_cookie(redirect(auth.url, code=302), secret, PENDING_TTL)


def bridge_session():
    """The pooled HTTP session the hook pipeline uses for FHIR (same adapters, no redirects)."""
    return state()["pipeline"].resolver.session


@smart_app.get("/callback")
def callback():
    secret = request.cookies.get(COOKIE)
    pending = _sessions().load(secret)
    if not pending or pending.get("stage") != "pending":
        raise LaunchError.relaunch(400, "This sign-in is not part of a launch, or it took too long", "no-pending-session")
    returned_state = request.args.get("state", "")
    if not hmac.compare_digest(returned_state.encode(), str(pending["state"]).encode()):
        _sessions().delete(secret)
        raise LaunchError.relaunch(400, "The sign-in answer does not match this launch (state)", "state-mismatch")
    if request.args.get("error"):
        _sessions().delete(secret)
        raise LaunchError.relaunch(403, "The EHR did not authorize the app", "authorization-denied")
    code = request.args.get("code", "")
    if not code or len(code) > 4096:
        raise LaunchError.relaunch(400, "The sign-in answer carries no code", "no-code")
    try:
        grant = exchange_code(_client(), pending["token_url"], code, pending["verifier"])
    finally:
        _sessions().delete(secret)  # a code and its verifier are used once
    session = {"stage": "authorized", "iss": pending["iss"], "access_token": grant.access_token,
               "patient": grant.patient, "scope": grant.scope, "app_context": grant.app_context}
    ttl = min(grant.expires_in, MAX_SESSION)
    log.info("smart app launched")
    return _with_cookie(redirect(f"{base_url()}/app/", code=302), _sessions().create(session, ttl), ttl)


@smart_app.get("/signout")
def signout():
    _sessions().delete(request.cookies.get(COOKIE))
    response = _page("app/message.html", title="Signed out", advice="The app's session is closed.", how_to=True)
    response.delete_cookie(COOKIE, path="/app", secure=True, httponly=True, samesite="Lax")
    return response


@smart_app.get("/")
def pathway_page():
    session = _sessions().load(request.cookies.get(COOKIE))
    if not session or session.get("stage") != "authorized":
        return _page("app/message.html", title="Open this app from a patient's chart",
                     advice="No patient is open: the app shows a patient only after a launch from the EHR.",
                     how_to=True, expired=bool(request.cookies.get(COOKIE)))
    return _page("app/pathway.html", **_pathway_values(session))


def _pathway_values(session: dict) -> dict:
    cds = state()
    pipeline, settings = cds["pipeline"], cds["settings"]
    if not is_allowed(session["iss"], settings.fhir_allowlist):  # the allowlist may have changed since
        raise LaunchError.relaunch(400, "This FHIR server is no longer allowed", "iss-not-allowed")
    service = bridge.patient_view_service(cds["registry"])
    if service is None:
        raise LaunchError(503, "The patient-view service is not deployed", "The app needs it to read the pathway.",
                          "no-patient-view")
    fhir_request = bridge.hook_request(session["iss"], session["access_token"], session["patient"],
                                       session.get("scope", ""))
    record = bridge.read_record(pipeline, service, fhir_request)
    if record.patient is None:
        raise LaunchError.relaunch(502, "The patient's record could not be read from the EHR", "patient-unreadable")
    call = bridge.view_call(pipeline, service, fhir_request, record, base_url())
    view = pathway_view(call)
    rule_id, draft_id = parse_app_context(session.get("app_context", ""))
    order, note = (None, "")
    if draft_id:
        order, note = bridge.read_draft_stent_order(pipeline, call, fhir_request, draft_id)
    return {
        "patient": _patient_summary(record.patient),
        "view": view,
        "timeline": layout(view.rows, view.now, view.threshold_pct),
        "sizing": stent_sizing(view.assessment, pipeline.pathway, order, note),
        "cards": bridge.open_cards(pipeline, service, call),
        "missing": missing_required(service, record),
        "notes": record.notes,
        "launched_from": rule_id,
        "server": urlsplit(session["iss"]).netloc,
    }


def _patient_summary(patient: dict) -> dict:
    names = patient.get("name") if isinstance(patient.get("name"), list) else []
    name = names[0] if names and isinstance(names[0], dict) else {}
    given = " ".join(g for g in name.get("given", []) if isinstance(g, str)) if isinstance(name.get("given"), list) else ""
    text = name.get("text") if isinstance(name.get("text"), str) else f"{given} {name.get('family') or ''}".strip()
    return {"name": text or "(no name recorded)", "gender": str(patient.get("gender") or "not recorded"),
            "birth_date": str(patient.get("birthDate") or "not recorded"), "id": str(patient.get("id") or "")}
