"""Clinical scenario fixtures: load them, serve them like a FHIR server, and turn them into hook requests.

A fixture is one FHIR R4 Bundle (`type: collection`) per clinical story in
`fhir_fixtures/` (the format is in `fhir_fixtures/README.md`): the patient's
record, the draft orders of an order hook, and, in `meta.tag`, the hook, the
story and the cards the service is expected to answer with.

Used by the acceptance tests, by the dev-mode FHIR endpoint and by
`cds-service evaluate`: so no Flask here, and nothing that only tests need.
"""
from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from cds_service.fhir.prefetch import fill_template

FIXTURE_SYSTEM = "http://iliac-vein-cds.org/fhir/CodeSystem/fixture"
RULES_SYSTEM = "http://iliac-vein-cds.org/fhir/CodeSystem/rules"
SELECTION_SYSTEM = "http://iliac-vein-cds.org/fhir/CodeSystem/fixture-selection"
HOOKS = ("patient-view", "order-select", "order-sign")
SERVER_DOWN = "fhir-server-down"
INDICATORS = ("critical", "warning", "info")
# Request resources that an EHR hands over as `context.draftOrders` while they are drafts.
ORDER_TYPES = (
    "MedicationRequest",
    "ServiceRequest",
    "DeviceRequest",
    "NutritionOrder",
    "VisionPrescription",
    "CommunicationRequest",
)
FIXTURE_USER = "Practitioner/fixture-clinician"


def fixture_directory() -> Path:
    """Where the fixture patients are: the package data of an installed wheel, else the checkout's fhir_fixtures/.

    setup.py ships `fhir_fixtures/` as `cds_service/fixture_data/`. A source checkout
    (editable install, PYTHONPATH) has no such folder: there the fixtures sit beside the package.
    """
    package = resources.files("cds_service")
    packaged = package.joinpath("fixture_data")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(str(package)).parent / "fhir_fixtures"


DEFAULT_DIRECTORY = fixture_directory()
_PATIENT_REFERENCES = ("subject", "patient")


class FixtureError(ValueError):
    """A fixture file that does not follow `fhir_fixtures/README.md`."""


@dataclass
class Fixture:
    id: str
    hook: str
    now: datetime  # aware (UTC): the story's clinical "now", Bundle.timestamp
    story: str
    expected: dict[str, str]  # rule ID -> indicator; empty: the answer is {"cards": []}
    patient: dict
    resources: list[dict]  # the record, without the draft orders
    draft_orders: list[dict] = field(default_factory=list)
    selections: list[str] = field(default_factory=list)  # order-select: "Type/id"
    fhir_server_down: bool = False
    path: Path | None = None

    @property
    def patient_id(self) -> str:
        return self.patient["id"]

    def record(self) -> list[dict]:
        """The patient and the record: what an EHR's FHIR server holds for this story."""
        return [self.patient, *self.resources]


def _parse_instant(value: object) -> datetime:
    if not isinstance(value, str) or "T" not in value:
        raise FixtureError(f"Bundle.timestamp must be an instant, not {value!r}")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise FixtureError(f"Bundle.timestamp needs a time zone: {value!r}")
    return moment.astimezone(UTC)


def _tags(bundle: dict, system: str) -> list[dict]:
    return [t for t in (bundle.get("meta") or {}).get("tag") or [] if isinstance(t, dict) and t.get("system") == system]


def is_draft_order(resource: dict) -> bool:
    return resource.get("resourceType") in ORDER_TYPES and resource.get("status") == "draft"


def fixture_from_bundle(bundle: dict, path: Path | None = None) -> Fixture:
    """Read one fixture Bundle (already parsed JSON)."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise FixtureError("a fixture is a FHIR Bundle")
    hook_tags = [t for t in _tags(bundle, FIXTURE_SYSTEM) if t.get("code") in HOOKS]
    if len(hook_tags) != 1:
        raise FixtureError(f"a fixture has exactly one hook tag, found {len(hook_tags)}")
    resources = [e.get("resource") for e in bundle.get("entry") or [] if isinstance(e, dict)]
    if not resources or not isinstance(resources[0], dict) or resources[0].get("resourceType") != "Patient":
        raise FixtureError("entry[0] must be the Patient")
    expected: dict[str, str] = {}
    for tag in _tags(bundle, RULES_SYSTEM):
        if tag.get("display") not in INDICATORS:
            raise FixtureError(f"rule tag {tag.get('code')!r} needs an indicator as display")
        expected[tag["code"]] = tag["display"]
    record = [r for r in resources[1:] if isinstance(r, dict)]
    return Fixture(
        id=str(bundle.get("id") or (path.stem if path else "")),
        hook=hook_tags[0]["code"],
        now=_parse_instant(bundle.get("timestamp")),
        story=hook_tags[0].get("display", ""),
        expected=expected,
        patient=resources[0],
        resources=[r for r in record if not is_draft_order(r)],
        draft_orders=[r for r in record if is_draft_order(r)],
        selections=[t["code"] for t in _tags(bundle, SELECTION_SYSTEM) if t.get("code")],
        fhir_server_down=any(t.get("code") == SERVER_DOWN for t in _tags(bundle, FIXTURE_SYSTEM)),
        path=path,
    )


def load_fixture(path: str | Path) -> Fixture:
    path = Path(path)
    try:
        bundle = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise FixtureError(f"{path.name} is not valid JSON: {error}") from None
    return fixture_from_bundle(bundle, path)


def fixture_paths(directory: str | Path | None = None) -> list[Path]:
    return sorted(Path(directory or DEFAULT_DIRECTORY).glob("*.json"))


def all_fixtures(directory: str | Path | None = None) -> list[Fixture]:
    """Every fixture of the folder (default: the repository's `fhir_fixtures/`), sorted by file name."""
    return [load_fixture(p) for p in fixture_paths(directory)]


def _outcome(severity: str, code: str, text: str) -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": text}],
    }


def _references_patient(resource: dict, patient_id: str) -> bool:
    for key in _PATIENT_REFERENCES:
        value = resource.get(key)
        if isinstance(value, dict) and value.get("reference") == f"Patient/{patient_id}":
            return True
    return False


class FixtureStore:
    """Answers relative FHIR R4 URLs from fixtures, as a read-only FHIR server would.

    Reads (`Patient/1`, `Condition/abc`), and type-level searches by `patient=`
    or `subject=` (with or without the `Patient/` prefix) and `_id=`, paged by
    `_count` / `_offset` with `next` links. `max_page_size` caps every page, as
    real servers do whatever `_count` asks, so that a client has to follow
    `next`. Draft orders are not on the server: they exist only in the EHR's
    order entry.
    """

    def __init__(self, fixtures: Iterable[Fixture], max_page_size: int | None = None):
        self.max_page_size = max_page_size
        self._by_key: dict[tuple[str, str], dict] = {}
        self._origin: dict[tuple[str, str], str] = {}
        for fixture in fixtures:
            for resource in fixture.record():
                self._add(resource, fixture.id)

    def _add(self, resource: dict, fixture_id: str) -> None:
        key = (resource.get("resourceType", ""), resource.get("id", ""))
        if not all(key):
            raise FixtureError(f"fixture {fixture_id}: every resource needs a resourceType and an id")
        if key in self._by_key and self._by_key[key] != resource:
            raise FixtureError(
                f"{key[0]}/{key[1]} is in fixtures {self._origin[key]} and {fixture_id} with different content"
            )
        self._by_key[key] = resource
        self._origin[key] = fixture_id

    def resources(self, resource_type: str) -> list[dict]:
        return [r for (t, _), r in self._by_key.items() if t == resource_type]

    def respond(self, relative_url: str, base: str = "") -> tuple[int, dict]:
        """(HTTP status, JSON body) for a GET of `relative_url` (e.g. `Condition?patient=1&_count=5`)."""
        parts = urlsplit(relative_url.lstrip("/"))
        segments = [s for s in parts.path.split("/") if s]
        if len(segments) == 2 and not parts.query:
            return self.read(*segments)
        if len(segments) == 1:
            return self.search(segments[0], parse_qsl(parts.query, keep_blank_values=True), base)
        return 400, _outcome("error", "not-supported", "only reads (Type/id) and type-level searches are served")

    def read(self, resource_type: str, resource_id: str) -> tuple[int, dict]:
        resource = self._by_key.get((resource_type, resource_id))
        if resource is None:
            return 404, _outcome("error", "not-found", f"{resource_type}/{resource_id} is not known")
        return 200, resource

    def search(self, resource_type: str, params: list[tuple[str, str]], base: str = "") -> tuple[int, dict]:
        if not re.fullmatch(r"[A-Z][A-Za-z]+", resource_type):
            return 400, _outcome("error", "not-supported", "not a resource type")
        try:
            count, offset = self._paging(params)
        except ValueError:
            return 400, _outcome("error", "invalid", "_count and _offset must be non-negative integers")
        matches = [r for r in self.resources(resource_type) if self._matches(r, params)]
        page = matches[offset: offset + count] if count is not None else matches[offset:]
        bundle: dict = {
            "resourceType": "Bundle",
            "id": str(uuid.uuid4()),
            "type": "searchset",
            "total": len(matches),
            "link": [{"relation": "self", "url": self._url(base, resource_type, params, count, offset)}],
            "entry": [self._entry(r, base) for r in page],
        }
        if count and offset + count < len(matches):
            bundle["link"].append(
                {"relation": "next", "url": self._url(base, resource_type, params, count, offset + count)}
            )
        if not bundle["entry"]:
            del bundle["entry"]
        return 200, bundle

    def _paging(self, params: list[tuple[str, str]]) -> tuple[int | None, int]:
        """(page size or None for everything, offset). `_count=0` asks for the total only."""
        values = dict(params)
        count = int(values["_count"]) if values.get("_count") else None
        offset = int(values.get("_offset") or 0)
        if (count is not None and count < 0) or offset < 0:
            raise ValueError("negative paging")
        if self.max_page_size is not None:
            count = self.max_page_size if count is None else min(count, self.max_page_size)
        return count, offset

    @staticmethod
    def _matches(resource: dict, params: list[tuple[str, str]]) -> bool:
        for name, value in params:
            if name in ("patient", "subject"):
                patient_id = value.split("/", 1)[1] if value.startswith("Patient/") else value
                if resource.get("resourceType") == "Patient" and name == "patient":
                    return False  # Patient has no `patient` search parameter of its own
                if not _references_patient(resource, patient_id):
                    return False
            elif name == "_id":
                if resource.get("id") not in value.split(","):
                    return False
        return True

    @staticmethod
    def _url(base: str, resource_type: str, params: list[tuple[str, str]], count: int | None, offset: int) -> str:
        kept = [(k, v) for k, v in params if k not in ("_count", "_offset")]
        if count is not None:
            kept += [("_count", str(count)), ("_offset", str(offset))]
        query = urlencode(kept, safe="/,")
        return f"{base.rstrip('/')}/{resource_type}" + (f"?{query}" if query else "")

    @staticmethod
    def _entry(resource: dict, base: str) -> dict:
        entry: dict = {"resource": resource, "search": {"mode": "match"}}
        if base:
            entry["fullUrl"] = f"{base.rstrip('/')}/{resource['resourceType']}/{resource['id']}"
        return entry

    def resolve_all(self, relative_url: str) -> dict | None:
        """The whole answer to a read or search (every page merged): what a prefetch carries. None on 404."""
        status, body = self.respond(relative_url)
        if status == 404:
            return None
        if status != 200:
            return body
        if body.get("resourceType") != "Bundle" or not body.get("link"):
            return body
        entries = list(body.get("entry") or [])
        page = body
        while (next_url := _next_link(page)) is not None:
            parts = urlsplit(next_url)
            status, page = self.respond(f"{parts.path.rsplit('/', 1)[-1]}?{parts.query}")
            entries.extend(page.get("entry") or [])
        merged = {k: v for k, v in body.items() if k not in ("entry", "link")}
        if entries:
            merged["entry"] = entries
        return merged


def _next_link(bundle: dict) -> str | None:
    for link in bundle.get("link") or []:
        if link.get("relation") == "next":
            return link.get("url")
    return None


def _context(fixture: Fixture, hook: str) -> dict:
    context: dict = {"userId": FIXTURE_USER, "patientId": fixture.patient_id}
    if hook in ("order-select", "order-sign"):
        context["draftOrders"] = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": order} for order in fixture.draft_orders],
        }
    if hook == "order-select":
        context["selections"] = list(fixture.selections)
    return context


def _scope(prefetch_templates: dict[str, str]) -> str:
    types = sorted({re.split(r"[/?]", t, maxsplit=1)[0] for t in prefetch_templates.values()} | {"Patient"})
    return " ".join(f"patient/{t}.read" for t in types)


def build_request(
    fixture: Fixture,
    service_discovery_entry: dict,
    prefetch: bool = True,
    fhir_server: str | None = None,
    access_token: str | None = None,
    hook: str | None = None,
) -> dict:
    """The CDS Hooks request an EHR would send for this fixture to the service of `service_discovery_entry`.

    With `prefetch`, every prefetch template is answered from the fixture (a
    read gives the resource or null, a search one `searchset` Bundle with all
    its pages). With `fhir_server`, the request names it, and with
    `access_token` it carries a `fhirAuthorization` for it.
    """
    hook = hook or fixture.hook
    context = _context(fixture, hook)
    body: dict = {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context}
    templates: dict[str, str] = service_discovery_entry.get("prefetch") or {}
    if fhir_server:
        body["fhirServer"] = fhir_server
        if access_token:
            body["fhirAuthorization"] = {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": _scope(templates),
                "subject": "iliac-vein-cds",
            }
    if prefetch:
        store = FixtureStore([fixture])
        answers: dict = {}
        for key, template in templates.items():
            query = fill_template(template, context)
            answers[key] = store.resolve_all(query) if query is not None else None
        body["prefetch"] = answers
    return body
