"""Dev mode only: the SMART endpoints of the fixture FHIR server, so that the pathway app launches from a
card in the CDS Hooks sandbox without any other software (docs/smart-app.md).

- `/fixtures-fhir/.well-known/smart-configuration` (and `rest.security` in the CapabilityStatement);
- `/fixtures-fhir/_services/smart/Launch`: the sandbox's launch API (`{"launchUrl", "parameters":
  {"patient", "appContext"}}` -> `{"launch_id"}`), with CORS;
- `/fixtures-fhir/auth/authorize`: approves at once with the launch's patient (a standalone launch
  gets `STANDALONE_PATIENT`), and redirects with a code;
- `/fixtures-fhir/auth/token`: checks the PKCE verifier and hands out a token.

The app factory registers this blueprint only in dev mode, next to `fixtures_fhir`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, redirect, request
from flask.blueprints import BlueprintSetupState
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from cds_service.smart.dev_server import (
    CODE_TTL,
    PATIENT_ID,
    STANDALONE_PATIENT,
    TOKEN_TTL,
    Signer,
    smart_configuration,
)
from cds_service.web.fixtures_fhir import FIXTURES_PREFIX, fixtures_base
from cds_service.web.state import base_url

fixtures_smart = Blueprint("fixtures_smart", __name__, url_prefix=FIXTURES_PREFIX)


@fixtures_smart.record_once
def _make_signer(setup: BlueprintSetupState) -> None:
    setup.app.extensions["fixtures_smart"] = Signer(setup.app.extensions["cds"]["settings"].patient_hash_salt)


def _signer() -> Signer:
    signer: Signer = current_app.extensions["fixtures_smart"]
    return signer


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@fixtures_smart.get("/.well-known/smart-configuration")
def configuration() -> Response:
    return jsonify(smart_configuration(fixtures_base()))


@fixtures_smart.post("/_services/smart/Launch")
def launch() -> Response:
    body = request.get_json(silent=True)
    parameters = body.get("parameters") if isinstance(body, dict) else None
    patient = parameters.get("patient") if isinstance(parameters, dict) else None
    if not isinstance(parameters, dict) or not isinstance(patient, str) or not PATIENT_ID.fullmatch(patient):
        return _oauth_error("invalid_request", "parameters.patient (a FHIR id) is required")
    app_context = parameters.get("appContext")
    launch = {"patient": patient, "appContext": app_context if isinstance(app_context, str) else ""}
    return jsonify({"launch_id": _signer().seal(launch)})


@fixtures_smart.get("/auth/authorize")
def authorize() -> BaseResponse:
    args = request.args
    redirect_uri = args.get("redirect_uri", "")
    if redirect_uri != f"{base_url()}/app/callback":
        return _oauth_error("invalid_request", "redirect_uri must be this service's /app/callback")
    if args.get("response_type") != "code" or args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
        return _back(redirect_uri, args, error="invalid_request")
    if args.get("aud", "").rstrip("/") != fixtures_base():
        return _back(redirect_uri, args, error="invalid_request")
    launch = _signer().open(args.get("launch", "")) if args.get("launch") else {"patient": STANDALONE_PATIENT}
    if launch is None:
        return _back(redirect_uri, args, error="invalid_request")
    code = _signer().seal({**launch, "challenge": args["code_challenge"], "redirect_uri": redirect_uri,
                           "client_id": args.get("client_id", ""), "scope": args.get("scope", ""),
                           "exp": time.time() + CODE_TTL})
    return _back(redirect_uri, args, code=code)


@fixtures_smart.post("/auth/token")
def token() -> Response:
    form = request.form
    grant = _signer().open(form.get("code", ""))
    if form.get("grant_type") != "authorization_code" or grant is None or grant.get("exp", 0) < time.time():
        return _oauth_error("invalid_grant", "unknown or expired code")
    verifier = form.get("code_verifier", "")
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    if not hmac.compare_digest(challenge, grant["challenge"]) or form.get("redirect_uri") != grant["redirect_uri"]:
        return _oauth_error("invalid_grant", "the PKCE verifier or the redirect_uri does not match")
    answer = {"access_token": "dev-" + secrets.token_urlsafe(24), "token_type": "Bearer", "expires_in": TOKEN_TTL,
              "scope": grant["scope"], "patient": grant["patient"], "need_patient_banner": True}
    if grant.get("appContext"):
        answer["appContext"] = grant["appContext"]
    response = jsonify(answer)
    response.headers["Cache-Control"] = "no-store"
    return response


def _back(redirect_uri: str, args: MultiDict[str, str], **values: str) -> BaseResponse:
    query = {**values, "state": args.get("state", "")}
    return redirect(f"{redirect_uri}?{urlencode(query)}", code=302)
