"""The authorization code flow with PKCE S256, done by authlib (SMART App Launch 2.0).

A secret configured: a confidential client authenticating with HTTP Basic (client_secret_basic);
no secret: a public client that sends only its client_id. The token never leaves this module
other than as `TokenGrant`, whose repr hides it.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

import requests
from authlib.common.security import generate_token  # type: ignore[import-untyped]
from authlib.integrations.requests_client import OAuth2Session, OAuthError  # type: ignore[import-untyped]

from cds_service.smart.discovery import SmartEndpoints
from cds_service.smart.errors import LaunchError

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
TOKEN_TIMEOUT = (3.0, 5.0)  # connect, read (seconds)


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str = field(default="", repr=False)
    redirect_uri: str = ""

    def session(self, scope: str = "") -> OAuth2Session:
        method = "client_secret_basic" if self.client_secret else "none"
        return OAuth2Session(self.client_id, self.client_secret or None, token_endpoint_auth_method=method,
                             scope=scope, redirect_uri=self.redirect_uri, code_challenge_method="S256")


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str  # where the browser goes next
    state: str = field(repr=False)
    code_verifier: str = field(repr=False)


@dataclass(frozen=True)
class TokenGrant:
    access_token: str = field(repr=False)
    patient: str
    scope: str
    expires_in: int
    app_context: str = ""


def authorization_request(client: Client, endpoints: SmartEndpoints, iss: str, launch: str) -> AuthorizationRequest:
    """The authorize URL, with a fresh `state` and PKCE verifier (both kept server-side by the caller)."""
    scope = endpoints.scope(ehr_launch=bool(launch))
    verifier = generate_token(64)
    state = secrets.token_urlsafe(32)
    extra = {"aud": iss}
    if launch:
        extra["launch"] = launch
    url, _ = client.session(scope).create_authorization_url(
        endpoints.authorize_url, state=state, code_verifier=verifier, **extra)
    return AuthorizationRequest(url, state, verifier)


def exchange_code(client: Client, token_url: str, code: str, code_verifier: str) -> TokenGrant:
    """POST the code and the PKCE verifier to the token endpoint; a clear LaunchError on any failure."""
    session = client.session()
    try:
        token = session.fetch_token(token_url, grant_type="authorization_code", code=code,
                                    code_verifier=code_verifier, redirect_uri=client.redirect_uri,
                                    timeout=TOKEN_TIMEOUT, allow_redirects=False)
    except OAuthError as error:
        raise _token_failure(f"token-{_slug(error.error)}") from None
    except (requests.RequestException, ValueError):
        raise _token_failure("token-endpoint-unreachable") from None
    finally:
        session.close()
    return _grant(token)


def _grant(token: dict) -> TokenGrant:
    access_token = token.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise _token_failure("token-missing")
    if str(token.get("token_type", "")).lower() != "bearer":
        raise _token_failure("token-not-bearer")
    patient = token.get("patient")
    if not isinstance(patient, str) or not FHIR_ID.fullmatch(patient):
        raise LaunchError(400, "The EHR sent no patient with the launch",
                          "Open the app from a patient's chart, so that the EHR passes the patient.", "no-patient")
    expires_in = token.get("expires_in")
    app_context = token.get("appContext")
    return TokenGrant(access_token=access_token, patient=patient, scope=str(token.get("scope") or ""),
                      expires_in=expires_in if isinstance(expires_in, int) and expires_in > 0 else 3600,
                      app_context=app_context if isinstance(app_context, str) else "")


def _token_failure(reason: str) -> LaunchError:
    return LaunchError(502, "The EHR did not issue an access token",
                       "The authorization server refused the code or could not be reached. "
                       "Open the app again from the patient's chart in the EHR.", reason)


def _slug(value: object) -> str:
    return re.sub(r"[^a-z0-9_-]", "", str(value).lower())[:40] or "error"
