"""Service settings: one object, read from environment variables (docs/configuration.md).

Clinical thresholds are not here: they live in `cds_service.pathway.settings`.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime


class SettingsError(ValueError):
    pass


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"not a boolean: {value!r}")


def _list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///cds-service.db"
    auth: str = "required"  # "required" | "off"
    public_base_url: str = ""  # e.g. https://cds.example.org ; empty: taken from the request
    fhir_allowlist: tuple[str, ...] = ()  # URL prefixes of FHIR servers the service may call
    # Prefixes of allowlisted servers that may be called without an access token (open test servers).
    fhir_open_servers: tuple[str, ...] = ()
    max_body_bytes: int = 5 * 1024 * 1024
    cors_origins: tuple[str, ...] = ("*",)
    fhir_connect_timeout: float = 3.0  # seconds, per connection
    fhir_read_timeout: float = 5.0  # seconds, per response
    fhir_total_budget: float = 8.0  # seconds for all FHIR traffic of one hook call
    fhir_max_pages: int = 10  # Bundle `next` links followed per query
    fhir_max_response_bytes: int = 20 * 1024 * 1024
    fhir_max_workers: int = 8  # concurrent FHIR queries of one hook call
    fhir_max_call_bytes: int = 8 * 1024 * 1024  # FHIR bytes one hook call may read, all keys and pages together
    # Database limits (docs/operations.md): every call the service makes to the database is bounded.
    db_connect_timeout: float = 3.0  # seconds to open a connection (PostgreSQL counts at least 2)
    db_statement_timeout: float = 5.0  # seconds per statement (server side), plus 1 s client side
    db_pool_size: int = 4  # connections kept per worker (PostgreSQL); as many again may overflow
    db_pool_timeout: float = 2.0  # seconds to wait for a free pooled connection
    db_replay_timeout: float = 1.0  # seconds for the JWT replay check; 503 beyond it (fail closed)
    card_log_max_pending: int = 100_000  # card rows held in memory while the database is away
    request_body_timeout: float = 10.0  # seconds to receive a request body; 408 beyond it
    client_idle_timeout: float = 10.0  # seconds a client may stay silent mid-request (gunicorn)
    trusted_clients_file: str = ""
    trust_cds_hooks_sandbox: bool = False
    jwt_algorithms: tuple[str, ...] = ("ES384", "RS384")
    jwt_clock_skew: int = 60  # seconds
    jwt_max_lifetime: int = 3600  # seconds
    jwks_cache_ttl: int = 3600  # seconds
    local_valuesets: str = ""  # path of a site's extra codes (JSON or YAML)
    site_config: str = ""  # path of the site's governance file (YAML, docs/site-configuration.md)
    lockout_timeout: float = 0.5  # seconds a lockout read may take before the card is shown anyway
    patient_hash_salt: str = "iliac-vein-cds"  # set a secret per site: patient ids are stored hashed
    log_level: str = "INFO"
    dev_mode: bool = False  # serve --dev: fixtures FHIR endpoint, loopback FHIR servers allowed
    # Tests and demos only: a fixed "now" for the pathway (ISO 8601). Never set in production.
    fixed_now: str = ""
    clock: Callable[[], datetime] | None = field(default=None, compare=False)
    # The SMART on FHIR pathway app (docs/smart-app.md): its client id at the EHR's authorization server,
    # and a secret only for a confidential client (client_secret_basic). Never printed.
    smart_client_id: str = ""
    smart_client_secret: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> Settings:
        env = os.environ if environ is None else environ
        values: dict = {}

        def text(name: str, attr: str) -> None:
            if name in env:
                values[attr] = env[name].strip()

        def number(name: str, attr: str, kind=int) -> None:
            if name in env and env[name].strip():
                try:
                    values[attr] = kind(env[name])
                except ValueError:
                    raise SettingsError(f"{name} must be a number, not {env[name]!r}") from None

        text("CDS_DATABASE_URL", "database_url")
        text("CDS_AUTH", "auth")
        text("CDS_PUBLIC_BASE_URL", "public_base_url")
        text("CDS_TRUSTED_CLIENTS", "trusted_clients_file")
        text("CDS_LOCAL_VALUESETS", "local_valuesets")
        text("CDS_SITE_CONFIG", "site_config")
        text("CDS_PATIENT_HASH_SALT", "patient_hash_salt")
        text("CDS_LOG_LEVEL", "log_level")
        text("CDS_FIXED_NOW", "fixed_now")
        text("CDS_SMART_CLIENT_ID", "smart_client_id")
        text("CDS_SMART_CLIENT_SECRET", "smart_client_secret")
        for name, attr in (
            ("CDS_FHIR_ALLOWLIST", "fhir_allowlist"),
            ("CDS_FHIR_OPEN_SERVERS", "fhir_open_servers"),
            ("CDS_CORS_ORIGINS", "cors_origins"),
            ("CDS_JWT_ALGORITHMS", "jwt_algorithms"),
        ):
            if name in env:
                values[attr] = _list(env[name])
        number("CDS_MAX_BODY_BYTES", "max_body_bytes")
        number("CDS_FHIR_CONNECT_TIMEOUT", "fhir_connect_timeout", float)
        number("CDS_FHIR_READ_TIMEOUT", "fhir_read_timeout", float)
        number("CDS_FHIR_TOTAL_BUDGET", "fhir_total_budget", float)
        number("CDS_FHIR_MAX_PAGES", "fhir_max_pages")
        number("CDS_FHIR_MAX_RESPONSE_BYTES", "fhir_max_response_bytes")
        number("CDS_FHIR_MAX_WORKERS", "fhir_max_workers")
        number("CDS_FHIR_MAX_CALL_BYTES", "fhir_max_call_bytes")
        number("CDS_DB_CONNECT_TIMEOUT", "db_connect_timeout", float)
        number("CDS_DB_STATEMENT_TIMEOUT", "db_statement_timeout", float)
        number("CDS_DB_POOL_SIZE", "db_pool_size")
        number("CDS_DB_POOL_TIMEOUT", "db_pool_timeout", float)
        number("CDS_DB_REPLAY_TIMEOUT", "db_replay_timeout", float)
        number("CDS_CARD_LOG_MAX_PENDING", "card_log_max_pending")
        number("CDS_REQUEST_BODY_TIMEOUT", "request_body_timeout", float)
        number("CDS_CLIENT_IDLE_TIMEOUT", "client_idle_timeout", float)
        number("CDS_JWT_CLOCK_SKEW", "jwt_clock_skew")
        number("CDS_JWT_MAX_LIFETIME", "jwt_max_lifetime")
        number("CDS_JWKS_CACHE_TTL", "jwks_cache_ttl")
        number("CDS_LOCKOUT_TIMEOUT", "lockout_timeout", float)
        if "CDS_TRUST_CDS_HOOKS_SANDBOX" in env:
            values["trust_cds_hooks_sandbox"] = _bool(env["CDS_TRUST_CDS_HOOKS_SANDBOX"])
        values.update(overrides)
        return cls(**values).validated()

    def validated(self) -> Settings:
        if self.auth not in ("required", "off"):
            raise SettingsError(f"CDS_AUTH must be 'required' or 'off', not {self.auth!r}")
        if self.lockout_timeout <= 0:
            raise SettingsError("CDS_LOCKOUT_TIMEOUT must be positive")
        if self.max_body_bytes <= 0:
            raise SettingsError("CDS_MAX_BODY_BYTES must be positive")
        for name in ("fhir_max_call_bytes", "db_connect_timeout", "db_statement_timeout", "db_pool_size", "db_pool_timeout",
                     "db_replay_timeout", "card_log_max_pending", "request_body_timeout", "client_idle_timeout"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"CDS_{name.upper()} must be positive")
        for algorithm in self.jwt_algorithms:
            if algorithm.lower() == "none" or algorithm.upper().startswith("HS"):
                raise SettingsError(f"JWT algorithm {algorithm} is not allowed: only asymmetric algorithms")
        return self

    def with_(self, **changes) -> Settings:
        return replace(self, **changes).validated()
