"""Dev mode's SMART authorization server for the fixture FHIR endpoint, its Flask-free parts: the
endpoints it announces and the signed, self-contained launch ids and codes (every gunicorn worker can
read them). The routes are in `cds_service.web.fixtures_smart`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

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
