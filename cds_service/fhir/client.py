"""A small FHIR R4 read/search client for the EHR's FHIR server.

Safety properties (each tested): only allowlisted servers are contacted
(server-side request forgery); redirects are never followed; every call has a
connect and read timeout and the whole hook call a total time budget; responses
are read up to a size cap; `next` links are followed only on the same server,
up to a page cap. Tokens are sent, never logged.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json, application/json;q=0.9"


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
class Deadline:
    """The total time budget of one hook call's FHIR traffic."""

    expires_at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return self.expires_at - time.monotonic()


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
        deadline: Deadline,
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
        headers = {"Accept": FHIR_JSON}
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
        except requests.Timeout:
            raise FhirError("timeout") from None
        except requests.RequestException:
            raise FhirError("connection-failed") from None
        try:
            if 300 <= response.status_code < 400:
                raise FhirError("redirect-refused")
            if response.status_code in (401, 403):
                raise FhirError(f"http-{response.status_code}")
            if response.status_code != 200:
                raise FhirError(f"http-{response.status_code}")
            body = self._read_capped(response)
        finally:
            response.close()
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise FhirError("not-json") from None
        if not isinstance(document, dict):
            raise FhirError("not-a-resource")
        return document

    def _read_capped(self, response: requests.Response) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_response_bytes:
            raise FhirError("response-too-large")
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(chunk_size=65536):
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise FhirError("response-too-large")
                if self.deadline.remaining() <= 0:
                    raise FhirError("time-budget-exhausted")
                chunks.append(chunk)
        except requests.RequestException:
            raise FhirError("read-failed") from None
        return b"".join(chunks)

    def query(self, relative: str) -> dict:
        """Run a relative read (`Patient/1`) or search (`Condition?patient=1`), following `next` pages.

        A search returns one Bundle holding the entries of every page read.
        """
        document = self.get_json(f"{self.base_url}/{relative.lstrip('/')}")
        if document.get("resourceType") == "OperationOutcome":
            raise FhirError("operation-outcome")
        if document.get("resourceType") != "Bundle":
            return document
        return self.follow_pages(document)

    def follow_pages(self, bundle: dict) -> dict:
        entries = list(bundle.get("entry") or []) if isinstance(bundle.get("entry"), list) else []
        page, pages = bundle, 1
        while pages < self.max_pages:
            next_url = next_link(page)
            if not next_url:
                break
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
