"""The CDS Clients (EHRs) this service trusts, read once at start-up.

File format (JSON or YAML), path in CDS_TRUSTED_CLIENTS:

    {"clients": [
      {"iss": "https://ehr-a.example.org", "jwks": {"keys": [...]}},
      {"iss": "https://ehr-b.example.org", "jwks_file": "ehr-b-jwks.json"},
      {"iss": "https://ehr-c.example.org", "jku": "https://ehr-c.example.org/jwks.json",
       "tenants": ["org-1"]}
    ]}

`jwks_file` is relative to the clients file. `jku` (a string or a list) names key
sets the service fetches itself; a token's `jku` header is honoured only when it
equals one of them. `tenants`, when given, must contain the token's `tenant`.
Any mistake is a TrustedClientsError at start-up: a typo must not quietly
widen or narrow who is trusted.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from .errors import TrustedClientsError
from .keys import UnusableKey, VerificationKey, keys_of_jwks

SANDBOX_ISS = "https://sandbox.cds-hooks.org"
SANDBOX_JKU = "https://sandbox.cds-hooks.org/.well-known/jwks.json"
SANDBOX_JWKS_RESOURCE = "cds-hooks-sandbox-jwks.json"

CLIENT_FIELDS = frozenset({"iss", "jwks", "jwks_file", "jku", "tenants", "description"})


@dataclass(frozen=True)
class TrustedClient:
    iss: str
    keys: Mapping[str, VerificationKey] = field(default_factory=dict)  # kid -> key, from configuration
    jkus: tuple[str, ...] = ()  # key sets fetched over HTTPS
    # Values a token's `jku` header may take. Usually the fetched jkus; for the
    # sandbox, its published jku whose keys ship with the service instead.
    accepted_jkus: frozenset[str] = frozenset()
    tenants: frozenset[str] = frozenset()  # empty: the issuer's tokens may name any tenant or none


def load_trusted_clients(path: str | Path) -> dict[str, TrustedClient]:
    """Read the trusted-clients file; iss -> client."""
    path = Path(path)
    document = _read_document(path)
    if not isinstance(document, Mapping) or not isinstance(document.get("clients"), list):
        raise TrustedClientsError(f"{path}: expected an object with a 'clients' list")
    unknown_top = set(document) - {"clients"}
    if unknown_top:
        raise TrustedClientsError(f"{path}: unknown top-level field(s) {sorted(unknown_top)}")
    clients: dict[str, TrustedClient] = {}
    for position, entry in enumerate(document["clients"], start=1):
        client = _client_from_entry(entry, path, position)
        if client.iss in clients:
            raise TrustedClientsError(f"{path}: client {position}: iss {client.iss!r} is listed twice")
        clients[client.iss] = client
    return clients


def sandbox_client(jwks: Mapping[str, Any] | None = None) -> TrustedClient:
    """The public CDS Hooks sandbox. Its private key is published: never trust it in production.

    `jwks` replaces the shipped key set (tests sign with a key of their own).
    """
    if jwks is None:
        jwks = json.loads(resources.files(__package__).joinpath(SANDBOX_JWKS_RESOURCE).read_text("utf-8"))
    try:
        keys = keys_of_jwks(jwks)
    except UnusableKey as error:
        raise TrustedClientsError(f"sandbox key set: {error}") from None
    return TrustedClient(iss=SANDBOX_ISS, keys=keys, accepted_jkus=frozenset({SANDBOX_JKU}))


def configured_clients(
    trusted_clients_file: str, trust_sandbox: bool, sandbox_jwks: Mapping[str, Any] | None = None
) -> dict[str, TrustedClient]:
    """All trusted clients for these settings; refuse a configuration that trusts nobody."""
    clients = load_trusted_clients(trusted_clients_file) if trusted_clients_file else {}
    if trust_sandbox:
        if SANDBOX_ISS in clients:
            raise TrustedClientsError(
                f"{trusted_clients_file}: {SANDBOX_ISS} is configured and CDS_TRUST_CDS_HOOKS_SANDBOX is on; keep one"
            )
        clients[SANDBOX_ISS] = sandbox_client(sandbox_jwks)
    if not clients:
        raise TrustedClientsError(
            "authentication is required but no client is trusted: set CDS_TRUSTED_CLIENTS "
            "(or CDS_TRUST_CDS_HOOKS_SANDBOX=true for a demo), or CDS_AUTH=off for local development"
        )
    return clients


def _read_document(path: Path) -> Any:
    try:
        text = path.read_text("utf-8")
    except OSError as error:
        raise TrustedClientsError(f"cannot read trusted clients file {path}: {error.strerror or error}") from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)  # YAML is a superset of JSON: any other suffix reads both
    except (ValueError, yaml.YAMLError) as error:
        raise TrustedClientsError(f"{path} is not valid JSON/YAML: {_first_line(error)}") from None


def _client_from_entry(entry: Any, path: Path, position: int) -> TrustedClient:
    where = f"{path}: client {position}"
    if not isinstance(entry, Mapping):
        raise TrustedClientsError(f"{where}: expected an object")
    unknown = set(entry) - CLIENT_FIELDS
    if unknown:
        raise TrustedClientsError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(CLIENT_FIELDS)}")
    iss = entry.get("iss")
    if not isinstance(iss, str) or not iss.strip() or iss != iss.strip():
        raise TrustedClientsError(f"{where}: 'iss' must be a non-empty string without surrounding spaces")
    where = f"{path}: client {iss!r}"
    keys = _static_keys(entry, path, where)
    jkus = _jkus(entry.get("jku"), where)
    if not keys and not jkus:
        raise TrustedClientsError(f"{where}: give its keys as 'jwks', 'jwks_file' or 'jku'")
    return TrustedClient(
        iss=iss, keys=keys, jkus=jkus, accepted_jkus=frozenset(jkus), tenants=_tenants(entry.get("tenants"), where)
    )


def _static_keys(entry: Mapping[str, Any], path: Path, where: str) -> dict[str, VerificationKey]:
    if "jwks" in entry and "jwks_file" in entry:
        raise TrustedClientsError(f"{where}: give 'jwks' or 'jwks_file', not both")
    if "jwks" in entry:
        jwks = entry["jwks"]
    elif "jwks_file" in entry:
        jwks = _read_jwks_file(entry["jwks_file"], path, where)
    else:
        return {}
    try:
        return keys_of_jwks(jwks)
    except UnusableKey as error:
        raise TrustedClientsError(f"{where}: {error}") from None


def _read_jwks_file(name: Any, path: Path, where: str) -> Any:
    if not isinstance(name, str) or not name:
        raise TrustedClientsError(f"{where}: 'jwks_file' must be a file name")
    jwks_path = path.parent / name  # an absolute name stays absolute
    try:
        return json.loads(jwks_path.read_text("utf-8"))
    except OSError as error:
        raise TrustedClientsError(f"{where}: cannot read {jwks_path}: {error.strerror or error}") from None
    except ValueError as error:
        raise TrustedClientsError(f"{where}: {jwks_path} is not valid JSON: {_first_line(error)}") from None


def _jkus(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    jkus = [value] if isinstance(value, str) else value
    if not isinstance(jkus, list) or not jkus:
        raise TrustedClientsError(f"{where}: 'jku' must be a URL or a list of URLs")
    for jku in jkus:
        parts = urlsplit(jku) if isinstance(jku, str) else None
        # Key sets travel only over TLS: a key set read in clear text could be swapped in transit.
        if parts is None or parts.scheme != "https" or not parts.hostname or parts.fragment:
            raise TrustedClientsError(f"{where}: jku {jku!r} must be an https:// URL")
    return tuple(dict.fromkeys(jkus))


def _tenants(value: Any, where: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(tenant, str) and tenant for tenant in value)
    ):
        raise TrustedClientsError(f"{where}: 'tenants' must be a non-empty list of strings (omit it to allow any)")
    return frozenset(value)


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
