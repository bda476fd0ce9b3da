"""The CDS Hooks 2.0 request: validated into a `HookRequest`, or a BadRequest that says why.

Unknown extra fields and `extension` are accepted (the spec reserves them);
`prefetch` values are passed on untouched for `cds_service.fhir.prefetch`.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from cds_service.errors import BadRequest, ServiceError

MAX_ID_LENGTH = 256
REFERENCE = re.compile(r"^[A-Za-z]+/[A-Za-z0-9\-.]{1,64}$")
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")

BODY_CHUNK = 16384


class PayloadTooLarge(ServiceError):
    status = 413
    code = "too-costly"


class RequestTimeout(ServiceError):
    status = 408
    code = "timeout"


def read_body(stream: BinaryIO, declared_length: int | None, limit: int, timeout: float) -> bytes:
    """The request body, at most `limit` bytes (413 beyond, chunked or not), within `timeout` seconds (408).

    A declared Content-Length over the limit is refused before anything is read. The clock is
    checked between chunks; a client silent mid-chunk is cut off by the server's idle timeout.
    """
    if declared_length is not None and declared_length > limit:
        raise PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.")
    expires = time.monotonic() + timeout
    body = bytearray()
    try:
        while True:
            # never read past a declared length: some servers' streams would wait for more
            size = BODY_CHUNK if declared_length is None else min(BODY_CHUNK, declared_length - len(body))
            chunk = stream.read(size) if size > 0 else b""
            if not chunk:
                break
            body += chunk
            if len(body) > limit:
                raise PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.")
            if time.monotonic() > expires:
                raise RequestTimeout(f"The request body did not arrive within {timeout:g} s.")
    except OSError:  # the idle timeout, or the client went away
        raise RequestTimeout("The request body stopped arriving.") from None
    return bytes(body)


# Required context fields per hook (HL7 CDS Hooks Library STU1).
HOOK_CONTEXT = {
    "patient-view": ("userId", "patientId"),
    "order-select": ("userId", "patientId", "selections", "draftOrders"),
    "order-sign": ("userId", "patientId", "draftOrders"),
}


@dataclass(frozen=True)
class FhirAuthorization:
    access_token: str
    token_type: str = "Bearer"
    scope: str = ""
    patient: str = ""

    def __repr__(self) -> str:  # never print a token
        return f"FhirAuthorization(token_type={self.token_type!r}, scope={self.scope!r})"


@dataclass(frozen=True)
class HookRequest:
    hook: str
    hook_instance: str
    context: dict
    fhir_server: str = ""
    fhir_authorization: FhirAuthorization | None = field(default=None, repr=False)
    prefetch: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def patient_id(self) -> str:
        return self.context["patientId"]

    @property
    def draft_order_resources(self) -> list[dict]:
        """Resources of `context.draftOrders` (a Bundle; `type` not required, entries without a resource skipped)."""
        bundle = self.context.get("draftOrders")
        if not isinstance(bundle, dict):
            return []
        return [
            entry["resource"]
            for entry in bundle.get("entry") or []
            if isinstance(entry, dict) and isinstance(entry.get("resource"), dict)
        ]

    @property
    def selections(self) -> list[str]:
        return list(self.context.get("selections") or [])


def _string(value: Any, name: str, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"'{name}' must be a non-empty string")
    if len(value) > 2048:
        raise BadRequest(f"'{name}' is too long")
    return value


def _parse_context(hook: str, context: Any) -> dict:
    if not isinstance(context, dict):
        raise BadRequest("'context' must be a JSON object")
    for name in HOOK_CONTEXT[hook]:
        if name not in context or context[name] in (None, "", [], {}):
            if name == "selections" and context.get(name) == []:
                continue
            raise BadRequest(f"context.{name} is required for the {hook} hook")
    user_id = _string(context["userId"], "context.userId")
    if len(user_id) > MAX_ID_LENGTH:
        raise BadRequest("context.userId is too long")
    patient_id = _string(context["patientId"], "context.patientId")
    if not FHIR_ID.match(patient_id):
        raise BadRequest("context.patientId must be a FHIR id (letters, digits, '-' and '.', at most 64)")
    encounter_id = context.get("encounterId")
    if encounter_id is not None and (not isinstance(encounter_id, str) or not FHIR_ID.match(encounter_id)):
        raise BadRequest("context.encounterId must be a FHIR id")
    if "draftOrders" in HOOK_CONTEXT[hook]:
        draft = context["draftOrders"]
        if not isinstance(draft, dict) or draft.get("resourceType") != "Bundle":
            raise BadRequest("context.draftOrders must be a FHIR Bundle")
        if not isinstance(draft.get("entry", []), list):
            raise BadRequest("context.draftOrders.entry must be an array")
    if hook == "order-select":
        selections = context["selections"]
        if not isinstance(selections, list) or not all(isinstance(s, str) and REFERENCE.match(s) for s in selections):
            raise BadRequest("context.selections must be an array of 'Type/id' references")
    return context


def _parse_authorization(raw_auth: Any, fhir_server: str) -> FhirAuthorization | None:
    if raw_auth is None:
        return None
    if not fhir_server:
        raise BadRequest("'fhirAuthorization' is only allowed together with 'fhirServer'")
    if not isinstance(raw_auth, dict):
        raise BadRequest("'fhirAuthorization' must be a JSON object")
    if raw_auth.get("access_token") == "":
        return None  # what an EHR sends when its OAuth exchange failed: no token, not a bad request
    token = _string(raw_auth.get("access_token"), "fhirAuthorization.access_token")
    token_type = raw_auth.get("token_type", "Bearer")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise BadRequest("fhirAuthorization.token_type must be 'Bearer'")
    scope = raw_auth.get("scope", "")
    patient = raw_auth.get("patient", "")
    return FhirAuthorization(
        access_token=token,
        scope=scope if isinstance(scope, str) else "",
        patient=patient if isinstance(patient, str) else "",
    )


def parse_request(body: Any, expected_hook: str) -> HookRequest:
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    hook = body.get("hook")
    if hook != expected_hook:
        raise BadRequest(f"this service answers the '{expected_hook}' hook, not {hook!r}"[:200])
    hook_instance = _string(body.get("hookInstance"), "hookInstance")
    if len(hook_instance) > 128:
        raise BadRequest("'hookInstance' is too long")
    context = _parse_context(hook, body.get("context"))

    fhir_server = _string(body.get("fhirServer"), "fhirServer", required=False)
    if fhir_server and not re.match(r"^https?://", fhir_server):
        raise BadRequest("'fhirServer' must be an http(s) URL")
    authorization = _parse_authorization(body.get("fhirAuthorization"), fhir_server)
    prefetch = body.get("prefetch", {})
    if prefetch is None:
        prefetch = {}
    if not isinstance(prefetch, dict):
        raise BadRequest("'prefetch' must be a JSON object")
    return HookRequest(
        hook=hook,
        hook_instance=hook_instance,
        context=context,
        fhir_server=fhir_server.rstrip("/"),
        fhir_authorization=authorization,
        prefetch=prefetch,
    )
