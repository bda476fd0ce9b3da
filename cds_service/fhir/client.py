"""A small FHIR R4 read/search client for the EHR's FHIR server.

Safety properties (each tested): only allowlisted servers are contacted
(server-side request forgery); redirects are never followed; every call has a
connect and read timeout and the whole hook call a total time budget; responses
are read up to a size cap; `next` links are followed only on the same server,
up to a page cap. Tokens are sent, never logged.

The budget (`CallBudget`) is one per hook call and shared by all its reads: time, checked
before every read of a body chunk (a server trickling one byte a second is cut off when the
budget ends, not after a read timeout per byte), and bytes across every key and page
(`CDS_FHIR_MAX_CALL_BYTES`). Bodies are read into one growing buffer and parsed from it:
no list of chunks, no joined copy.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

from cds_service.protocol import json_text

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json, application/json;q=0.9"
CHUNK = 65536
MIN_SOCKET_TIMEOUT = 0.05  # seconds: a socket timeout of 0 would mean non-blocking


class FhirError(Exception):
    """A FHIR query that could not be answered; `reason` is a PHI-free slug."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def is_allowed(url: str, prefixes: tuple[str, ...]) -> bool:
    """True when `url` lies under one of the allowlisted prefixes (never a look-alike host).

    A prefix's port may be `*` (`http://127.0.0.1:*`): any port of that host, as dev mode needs.
    """
    if not url or not prefixes:
        return False
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return False
    for prefix in prefixes:
        base = prefix.rstrip("/")
        if ":*" in base:
            allowed = urlsplit(base.replace(":*", "", 1))
            path = allowed.path.rstrip("/")
            if (parts.scheme, parts.hostname) == (allowed.scheme, allowed.hostname) and (
                parts.path == path or parts.path.startswith(path + "/")
            ):
                return True
        elif url == base or url.startswith(base + "/") or url.startswith(base + "?"):
            return True
    return False


@dataclass
class CallBudget:
    """One hook call's FHIR allowance, shared by all its reads: seconds and bytes."""

    expires_at: float
    max_bytes: int = 1 << 62
    used_bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def after(cls, seconds: float, max_bytes: int = 1 << 62) -> CallBudget:
        return cls(time.monotonic() + seconds, max_bytes)

    def remaining(self) -> float:
        return self.expires_at - time.monotonic()

    def spend(self, count: int) -> None:
        """Count `count` bytes read; FhirError once the call has read more than it may."""
        with self._lock:
            self.used_bytes += count
            over = self.used_bytes > self.max_bytes
        if over:
            raise FhirError("call-byte-cap-exceeded")


class FhirClient:
    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        access_token: str | None,
        connect_timeout: float,
        read_timeout: float,
        max_response_bytes: int,
        max_pages: int,
        deadline: CallBudget,
    ):
        self.session = session
        self.base_url = base_url.rstrip("/")
        self._access_token = access_token
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_response_bytes = max_response_bytes
        self.max_pages = max_pages
        self.deadline = deadline

    def __repr__(self) -> str:
        return f"FhirClient(base_url={self.base_url!r})"

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": FHIR_JSON, "Accept-Encoding": "identity"}  # no compressed body to inflate
        if self._access_token:
            headers["Authorization"] = f"Bearer {self._access_token}"
        return headers

    def get_json(self, url: str) -> dict:
        """GET an absolute URL on this server and return its JSON object."""
        if not (url == self.base_url or url.startswith(self.base_url + "/")):
            raise FhirError("off-server-url")
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise FhirError("time-budget-exhausted")
        timeout = (min(self.connect_timeout, remaining), min(self.read_timeout, remaining))
        try:
            response = self.session.get(
                url, headers=self._headers(), timeout=timeout, allow_redirects=False, stream=True
            )
        except requests.Timeout:  # the budget's end, when it was shorter than the connect or read timeout
            raise FhirError("time-budget-exhausted" if self.deadline.remaining() <= MIN_SOCKET_TIMEOUT else "timeout") from None
        except requests.RequestException:
            raise FhirError("connection-failed") from None
        try:
            if 300 <= response.status_code < 400:
                raise FhirError("redirect-refused")
            if response.status_code != 200:
                raise FhirError(f"http-{response.status_code}")
            if response.headers.get("Content-Encoding", "identity").lower() != "identity":
                raise FhirError("compressed-response")
            body = self._read_capped(response)
        finally:
            response.close()
        try:
            document = json_text.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise FhirError("not-json") from None
        del body
        if not isinstance(document, dict):
            raise FhirError("not-a-resource")
        return document

    def _read_capped(self, response: requests.Response) -> bytearray:
        """The body, read chunk by chunk with the budget checked before each read."""
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_response_bytes:
            raise FhirError("response-too-large")
        body = bytearray()
        raw = response.raw
        try:
            while True:
                remaining = self.deadline.remaining()
                if remaining <= 0:
                    raise FhirError("time-budget-exhausted")
                _set_socket_timeout(raw, min(self.read_timeout, remaining))
                chunk = raw.read1(CHUNK) if hasattr(raw, "read1") else raw.read(CHUNK)
                if not chunk:
                    return body
                if len(body) + len(chunk) > self.max_response_bytes:
                    raise FhirError("response-too-large")
                self.deadline.spend(len(chunk))
                body += chunk
        except FhirError:
            raise
        except Exception as error:  # socket timeouts and resets, urllib3's ProtocolError / ReadTimeoutError
            timed_out = isinstance(error, TimeoutError) or "timed out" in str(error).lower()
            raise FhirError("time-budget-exhausted" if timed_out else "read-failed") from None

    def query(self, relative: str) -> dict:
        """Run a relative read (`Patient/1`) or search (`Condition?patient=1`), following `next` pages.

        A search returns one Bundle holding the entries of every page read.
        A `next` link back to a page already read is a loop: the key fails (its data is unknown).
        """
        document = self.get_json(f"{self.base_url}/{relative.lstrip('/')}")
        if document.get("resourceType") == "OperationOutcome":
            raise FhirError("operation-outcome")
        if document.get("resourceType") != "Bundle":
            return document
        return self.follow_pages(document)

    def follow_pages(self, bundle: dict) -> dict:
        entries = list(bundle.get("entry") or []) if isinstance(bundle.get("entry"), list) else []
        page, pages, seen = bundle, 1, set()
        while pages < self.max_pages:
            next_url = next_link(page)
            if not next_url:
                break
            if next_url in seen:
                raise FhirError("paging-loop")
            seen.add(next_url)
            page = self.get_json(next_url)
            if page.get("resourceType") != "Bundle":
                raise FhirError("bad-page")
            if isinstance(page.get("entry"), list):
                entries.extend(page["entry"])
            pages += 1
        else:
            if next_link(page):
                log.warning("fhir paging stopped at the page cap", extra={"pages": pages})
        merged = {k: v for k, v in bundle.items() if k not in ("entry", "link")}
        merged["entry"] = entries
        return merged


def next_link(bundle: dict) -> str | None:
    links = bundle.get("link")
    if not isinstance(links, list):
        return None
    for link in links:
        if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return link["url"]
    return None


def _set_socket_timeout(raw, seconds: float) -> None:
    """Bound the next socket read by what is left of the budget (urllib3 sets it once per request)."""
    connection = getattr(raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        try:
            sock.settimeout(max(MIN_SOCKET_TIMEOUT, seconds))
        except OSError:
            pass
