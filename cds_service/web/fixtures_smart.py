"""Dev mode only: a SMART authorization server for the fixture FHIR endpoint, so that the pathway app
launches from a card in the CDS Hooks sandbox without any other software (docs/smart-app.md).

- `/fixtures-fhir/.well-known/smart-configuration` (and `rest.security` in the CapabilityStatement);
- `/fixtures-fhir/_services/smart/Launch`: the sandbox's launch API (`{"launchUrl", "parameters":
  {"patient", "appContext"}}` -> `{"launch_id"}`), with CORS;
- `/fixtures-fhir/auth/authorize`: approves at once with the launch's patient (a standalone launch
  gets `STANDALONE_PATIENT`), and redirects with a code;
- `/fixtures-fhir/auth/token`: checks the PKCE verifier and hands out a token.

Launch ids and codes are signed, self-contained strings, so every gunicorn worker can read them.
Registered only by `register_fixtures_fhir`, which only dev mode calls.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, redirect, request

from cds_service.config import Settings

STANDALONE_PATIENT = "may-thurner-stent-candidate"
CODE_TTL = 120  # seconds
TOKEN_TTL = 3600
SCOPES = ("launch", "launch/patient", "openid", "fhirUser", "patient/*.rs", "patient/*.read")
PATIENT_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def smart_configuration(base: str) -> dict:
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/auth/authorize",
        "token_endpoint": f"{base}/auth/token",
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
        "grant_types_supported": ["authorization_code"],
        "response_types_supported": ["code"],
        "scopes_supported": list(SCOPES),
        "code_challenge_methods_supported": ["S256"],
        "capabilities": ["launch-ehr", "launch-standalone", "client-public", "client-confidential-symmetric",
                         "context-ehr-patient", "context-standalone-patient", "permission-patient", "permission-v2",
                         "permission-v1"],
    }


def security_extension(base: str) -> dict:
    """`CapabilityStatement.rest.security` with the SMART OAuth URIs extension."""
    return {
        "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                 "code": "SMART-on-FHIR"}]}],
        "extension": [{"url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                       "extension": [{"url": "authorize", "valueUri": f"{base}/auth/authorize"},
                                     {"url": "token", "valueUri": f"{base}/auth/token"}]}],
    }


class Signer:
    """Self-contained, signed dev tokens (base64url JSON + HMAC-SHA256); the key is the site's salt."""

    def __init__(self, key: str):
        self.key = hashlib.sha256(f"dev-smart:{key}".encode()).digest()

    def seal(self, data: dict) -> str:
        body = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")
        return f"{body}.{self._mac(body)}"

    def open(self, value: str) -> dict | None:
        body, _, mac = value.partition(".")
        if not body or not hmac.compare_digest(mac, self._mac(body)):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def _mac(self, body: str) -> str:
        return hmac.new(self.key, body.encode(), hashlib.sha256).hexdigest()[:32]


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def register_fixtures_smart(app: Flask, settings: Settings, base) -> None:
    signer = Signer(settings.patient_hash_salt)

    @app.get("/fixtures-fhir/.well-known/smart-configuration")
    def fixtures_smart_configuration():
        return jsonify(smart_configuration(base()))

    @app.post("/fixtures-fhir/_services/smart/Launch")
    def fixtures_smart_launch():
        body = request.get_json(silent=True)
        parameters = body.get("parameters") if isinstance(body, dict) else None
        patient = parameters.get("patient") if isinstance(parameters, dict) else None
        if not isinstance(patient, str) or not PATIENT_ID.fullmatch(patient):
            return _oauth_error("invalid_request", "parameters.patient (a FHIR id) is required")
        app_context = parameters.get("appContext")
        launch = {"patient": patient, "appContext": app_context if isinstance(app_context, str) else ""}
        return jsonify({"launch_id": signer.seal(launch)})

    @app.get("/fixtures-fhir/auth/authorize")
    def fixtures_smart_authorize():
        args = request.args
        redirect_uri = args.get("redirect_uri", "")
        if not _own_callback(redirect_uri, settings):
            return _oauth_error("invalid_request", "redirect_uri must be this service's /app/callback")
        if args.get("response_type") != "code" or args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
            return _back(redirect_uri, args, error="invalid_request")
        if args.get("aud", "").rstrip("/") != base():
            return _back(redirect_uri, args, error="invalid_request")
        launch = signer.open(args.get("launch", "")) if args.get("launch") else {"patient": STANDALONE_PATIENT}
        if launch is None:
            return _back(redirect_uri, args, error="invalid_request")
        code = signer.seal({**launch, "challenge": args["code_challenge"], "redirect_uri": redirect_uri,
                            "client_id": args.get("client_id", ""), "scope": args.get("scope", ""),
                            "exp": time.time() + CODE_TTL})
        return _back(redirect_uri, args, code=code)

    @app.post("/fixtures-fhir/auth/token")
    def fixtures_smart_token():
        form = request.form
        grant = signer.open(form.get("code", ""))
        if form.get("grant_type") != "authorization_code" or grant is None or grant.get("exp", 0) < time.time():
            return _oauth_error("invalid_grant", "unknown or expired code")
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        if not hmac.compare_digest(challenge, grant["challenge"]) or form.get("redirect_uri") != grant["redirect_uri"]:
            return _oauth_error("invalid_grant", "the PKCE verifier or the redirect_uri does not match")
        token = {"access_token": "dev-" + secrets.token_urlsafe(24), "token_type": "Bearer", "expires_in": TOKEN_TTL,
                 "scope": grant["scope"], "patient": grant["patient"], "need_patient_banner": True}
        if grant.get("appContext"):
            token["appContext"] = grant["appContext"]
        response = jsonify(token)
        response.headers["Cache-Control"] = "no-store"
        return response


def _own_callback(redirect_uri: str, settings: Settings) -> bool:
    base = (settings.public_base_url or request.host_url).rstrip("/")
    return redirect_uri == f"{base}/app/callback"


def _back(redirect_uri: str, args, **values: str):
    query = {**values, "state": args.get("state", "")}
    return redirect(f"{redirect_uri}?{urlencode(query)}", code=302)
