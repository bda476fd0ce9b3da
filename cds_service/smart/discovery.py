"""Where the EHR's authorization server is: `{iss}/.well-known/smart-configuration` first, then the
CapabilityStatement's OAuth extension (SMART App Launch 2.0, "Discovery of server capabilities").

Both documents are read through the service's FHIR client: only an allowlisted `iss` is contacted,
with its timeouts, size cap and no redirects.
"""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.fhir.client import FhirClient, FhirError, is_allowed
from cds_service.smart.errors import LaunchError

WELL_KNOWN = ".well-known/smart-configuration"
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
# SMART v2 scopes; servers that do not declare `permission-v2` get the v1 `.read` form.
PATIENT_SCOPE_V2 = "patient/*.rs"
PATIENT_SCOPE_V1 = "patient/*.read"


@dataclass(frozen=True)
class SmartEndpoints:
    authorize_url: str
    token_url: str
    smart_v2: bool  # the server declares SMART v2 permissions (`patient/*.rs`)

    def scope(self, ehr_launch: bool) -> str:
        """`launch openid fhirUser patient/*.rs`; a standalone launch asks the server to pick a patient."""
        launch = "launch" if ehr_launch else "launch/patient"
        patient = PATIENT_SCOPE_V2 if self.smart_v2 else PATIENT_SCOPE_V1
        return f"{launch} openid fhirUser {patient}"


def discover(fhir: FhirClient, allowlist: tuple[str, ...]) -> SmartEndpoints:
    try:
        return _from_well_known(fhir.get_json(f"{fhir.base_url}/{WELL_KNOWN}"), allowlist)
    except (FhirError, LaunchError):
        pass  # an older server: its CapabilityStatement may still name the endpoints
    try:
        statement = fhir.get_json(f"{fhir.base_url}/metadata")
    except FhirError as error:
        raise _not_found(f"discovery-{error.reason}") from None
    return _from_capability_statement(statement, allowlist)


def _from_well_known(document: dict, allowlist: tuple[str, ...]) -> SmartEndpoints:
    capabilities = _strings(document.get("capabilities"))
    scopes = _strings(document.get("scopes_supported"))
    methods = document.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise LaunchError(502, "The EHR's authorization server does not support PKCE S256",
                          "Ask the EHR team to enable PKCE (S256) for this app.", "no-pkce-s256")
    v2 = "permission-v2" in capabilities or PATIENT_SCOPE_V2 in scopes
    return _endpoints(document.get("authorization_endpoint"), document.get("token_endpoint"), v2, allowlist)


def _from_capability_statement(statement: dict, allowlist: tuple[str, ...]) -> SmartEndpoints:
    uris: dict[str, object] = {}
    for rest in _dicts(statement.get("rest")):
        security = rest.get("security")
        for extension in _dicts(security.get("extension") if isinstance(security, dict) else None):
            if extension.get("url") == OAUTH_URIS:
                uris.update({str(e.get("url")): e.get("valueUri") for e in _dicts(extension.get("extension"))})
    return _endpoints(uris.get("authorize"), uris.get("token"), False, allowlist)


def _endpoints(authorize: object, token: object, v2: bool, allowlist: tuple[str, ...]) -> SmartEndpoints:
    if not (_usable(authorize, allowlist) and _usable(token, allowlist)):
        raise _not_found("discovery-no-endpoints")
    return SmartEndpoints(str(authorize), str(token), v2)


def _usable(url: object, allowlist: tuple[str, ...]) -> bool:
    """HTTPS, or plain HTTP only on an allowlisted server (a loopback test server in dev mode)."""
    if not isinstance(url, str) or "@" in url or any(c.isspace() for c in url):
        return False
    return url.startswith("https://") or is_allowed(url, allowlist)


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _dicts(value: object) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _not_found(reason: str) -> LaunchError:
    return LaunchError(502, "The EHR's SMART configuration could not be read",
                       "The FHIR server named in the launch publishes no usable SMART endpoints "
                       "(.well-known/smart-configuration or CapabilityStatement). Check the EHR's registration.",
                       reason)
