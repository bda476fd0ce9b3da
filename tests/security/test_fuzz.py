"""Property test: no request, however malformed or hostile, makes the app fail (5xx) or leak a traceback.

Authentication is off so that the generated requests reach every parser and the
pathway itself. Hypothesis is derandomized (the same examples on every run) and has
no deadline; 2 000 examples run in total across the endpoints (700 + 250 + 300 + 400 + 350).

Strategies:
- real requests built from `fhir_fixtures/`, with a few values anywhere in them
  replaced by hostile JSON (wrong types, huge or empty strings, NaN, deep nesting);
- hook requests generated from scratch, with clinical-looking resources;
- feedback bodies;
- raw bodies: invalid UTF-8, deep nesting, huge strings, wrong content types;
- random paths, methods, query strings and headers.
Hostile values include NaN, infinities and huge or tiny exponents as raw JSON tokens, integers
beyond any float, and dates in year 0001 and 9999 with offsets (issue 11: each once gave a 500).
A mocked FHIR server answers every query with generated JSON and status.
"""
from __future__ import annotations

import copy
import json
import re
import uuid
from functools import lru_cache
from pathlib import Path

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds_service.app import create_app
from cds_service.config import Settings
from cds_service.fixtures import all_fixtures, build_request

FHIR_BASE = "https://fhir.example.test/r4"
VALUESET_DIR = Path(__file__).resolve().parents[2] / "cds_service" / "fhir" / "valuesets"
HOOKS = ("patient-view", "order-select", "order-sign")
FUZZ = dict(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)

# --- the app under test ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app():
    settings = Settings(
        auth="off",
        database_url="sqlite://",  # in memory: thousands of card writes without an fsync each
        public_base_url="http://cds.test",
        fhir_allowlist=(FHIR_BASE,),
        fhir_open_servers=(FHIR_BASE,),
        max_body_bytes=256 * 1024,  # small, so that oversized bodies are cheap to send
        fhir_total_budget=2.0,
        log_level="ERROR",
    )
    application = create_app(settings)
    application.config["PROPAGATE_EXCEPTIONS"] = True
    # The app turns any unexpected exception into a 500. Here it must surface instead, with its
    # traceback, so that Hypothesis reports the bug itself rather than only its status code.
    application.register_error_handler(Exception, _surface)
    return application


def _surface(error: Exception):
    raise error


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def services(app) -> dict:
    """service id -> discovery entry, as the app itself advertises them."""
    return {entry["id"]: entry for entry in app.test_client().get("/cds-services").get_json()["services"]}


def assert_survived(response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    assert "Traceback" not in response.get_data(as_text=True)


# --- JSON building blocks ---------------------------------------------------------------------


RAW = "__raw_json_token__:"  # a string standing for a JSON token that Python cannot produce from a value
RAW_TOKEN = re.compile('"' + re.escape(RAW) + r'([^"]*)"')
SPECIAL_VALUES = [
    "", " ", "\u0000", "\ud7ff\ufffd", "9" * 400, "x" * 5000, "-1", "NaN", "null", "2026-13-45", "0000-00-00",
    "1900-01-01T00:00:00Z", "2999-12-31", "T", -1, 0, 1, 2**63, -(2**63), 10**400, 1e308, -1e-308,
    float("nan"), float("inf"), True, False, None, [], {}, [None], {"": None}, "Patient/", "Patient/../x",
    # dates at the ends of the calendar, where converting an offset to UTC overflows
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01", "9999-12-31", "9999-12-31T23:59:59.999999-23:59",
    "0001-01-01T00:00:00Z", "0001", "9999-12",
    # numbers as raw JSON tokens (see `post_json`): non-finite, huge exponents, beyond any float, tiny
    *(RAW + token for token in ("NaN", "Infinity", "-Infinity", "1e400", "-1E+999999", "1e308", "-1e308", "1e-300",
                                 "5e-324", "123456789012345678901234567890", "-0", "0.1e-400")),
    1e-300, 5e-324, 1.7976931348623157e308, -0.0,
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(SPECIAL_VALUES)
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


@lru_cache(maxsize=1)
def known_codings() -> list[dict]:
    """Codes the service recognises, so generated resources reach the rules and not only the parsers."""
    codings = []
    for path in sorted(VALUESET_DIR.glob("*.json")):
        document = json.loads(path.read_text("utf-8"))
        for value_set in document.get("valueSets", []):
            codings.extend({"system": c["system"], "code": c["code"]} for c in value_set.get("codes", []))
    return codings or [{"system": "http://loinc.org", "code": "00000-0"}]


codings = st.builds(lambda pick: dict(pick), st.sampled_from(known_codings() or [{}])) | json_values
concepts = st.fixed_dictionaries({"coding": st.lists(codings, max_size=3)}, optional={"text": st.text(max_size=20)}) | json_values
quantities = (
    st.fixed_dictionaries(
        {"value": scalars},
        optional={"unit": st.sampled_from(["mm", "cm", "mg", "mg/kg", "mL/min/1.73m2", "g/L", "g/dL", "%", "kg", "[in_i]", "?"]),
                  "system": st.just("http://unitsofmeasure.org"), "code": st.text(max_size=10)},
    )
    | json_values
)
dates = st.sampled_from(["2026-11-20", "2026-11-26T11:00:00Z", "2020-01", "2026", "yesterday", "", "2026-11-26T25:61:00+99:00"]) | json_values

RESOURCE_TYPES = [
    "Patient", "Condition", "Observation", "ImagingStudy", "DiagnosticReport", "Procedure", "MedicationRequest",
    "MedicationStatement", "Medication", "ServiceRequest", "DeviceRequest", "OperationOutcome", "Bundle", "Device",
]
RESOURCE_FIELDS = {
    "code": concepts, "category": st.lists(concepts, max_size=2) | json_values, "bodySite": st.lists(concepts, max_size=2),
    "valueQuantity": quantities, "valueCodeableConcept": concepts, "valueString": scalars,
    "component": st.lists(st.fixed_dictionaries({"code": concepts, "valueQuantity": quantities}), max_size=3) | json_values,
    "effectiveDateTime": dates, "issued": dates, "onsetDateTime": dates, "recordedDate": dates, "authoredOn": dates,
    "performedDateTime": dates, "started": dates, "occurrenceDateTime": dates,
    "status": st.sampled_from(["final", "active", "draft", "completed", "entered-in-error", "cancelled"]) | scalars,
    "clinicalStatus": concepts, "verificationStatus": concepts, "intent": st.sampled_from(["order", "plan"]) | scalars,
    "medicationCodeableConcept": concepts, "medicationReference": st.fixed_dictionaries({"reference": st.text(max_size=20)}),
    "codeCodeableConcept": concepts, "parameter": json_values, "conclusionCode": st.lists(concepts, max_size=2),
    "dosageInstruction": st.lists(
        st.fixed_dictionaries({}, optional={"doseAndRate": st.lists(st.fixed_dictionaries({"doseQuantity": quantities}), max_size=2),
                                            "timing": json_values, "route": concepts}),
        max_size=2,
    ) | json_values,
    "series": json_values, "ingredient": json_values, "issue": json_values, "extension": json_values,
}


@st.composite
def resources(draw, patient_id: str):
    resource = {"resourceType": draw(st.sampled_from(RESOURCE_TYPES) | st.text(max_size=10)), "id": draw(st.text(max_size=12))}
    resource["subject"] = draw(st.sampled_from([{"reference": f"Patient/{patient_id}"}, {"reference": "Patient/other"}]) | json_values)
    for name in draw(st.lists(st.sampled_from(sorted(RESOURCE_FIELDS)), max_size=6, unique=True)):
        resource[name] = draw(RESOURCE_FIELDS[name])
    return resource


def bundles(patient_id: str):
    entries = st.lists(st.fixed_dictionaries({"resource": resources(patient_id)}) | json_values, max_size=5)
    return st.fixed_dictionaries({"resourceType": st.just("Bundle"), "type": st.sampled_from(["searchset", "collection"]) | scalars,
                                  "entry": entries})


@st.composite
def fhir_replies(draw):
    """What the mocked FHIR server answers: a status and a body, valid or not."""
    status = draw(st.sampled_from([200, 200, 200, 401, 403, 404, 410, 429, 500, 503]))
    body = draw(bundles("p1") | resources("p1") | json_values)
    raw = draw(st.sampled_from(["json", "json", "garbage"]))
    return status, (json.dumps(body) if raw == "json" else "<html>\u00ff")


# --- hook requests ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def fixture_documents() -> tuple:
    return tuple(all_fixtures())


def request_for(fixture, services: dict) -> tuple[str, dict] | None:
    entry = next((e for e in services.values() if e["hook"] == fixture.hook), None)
    if entry is None:
        return None
    return entry["id"], build_request(fixture, entry, prefetch=True)


def json_paths(document, prefix=()):
    yield prefix
    if isinstance(document, dict):
        for key, value in document.items():
            yield from json_paths(value, prefix + (key,))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from json_paths(value, prefix + (index,))


@st.composite
def mutation_of(draw, document):
    """The document with 1 to 4 values anywhere in it replaced, removed or nested deeper."""
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = [path for path in json_paths(document) if path]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "replace", "delete", "wrap", "stringify"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "wrap":
            parent[path[-1]] = [parent[path[-1]]]
        elif action == "stringify":
            parent[path[-1]] = json.dumps(parent[path[-1]], allow_nan=True)
        else:
            parent[path[-1]] = draw(json_values)
    return document


@st.composite
def generated_hook_requests(draw, services: dict):
    service_id = draw(st.sampled_from(sorted(services)))
    hook = draw(st.sampled_from([services[service_id]["hook"]] * 3 + list(HOOKS)) | st.text(max_size=15))
    patient_id = draw(st.sampled_from(["p1", "", "x" * 300, "../../etc", "p1?_id=x", "p1#a"]) | st.text(max_size=20))
    context = {"userId": draw(st.sampled_from(["Practitioner/1", "Patient/p1", "", "bogus"]) | json_values),
               "patientId": patient_id}
    if draw(st.booleans()):
        context["draftOrders"] = draw(bundles(patient_id) | json_values)
    if draw(st.booleans()):
        context["selections"] = draw(st.lists(st.sampled_from(["MedicationRequest/a", "DeviceRequest/b", "bad"]) | st.text(max_size=10), max_size=3) | json_values)
    if draw(st.booleans()):
        context["encounterId"] = draw(scalars)
    body = {"hook": hook, "hookInstance": draw(st.sampled_from([str(uuid.UUID(int=1)), ""]) | scalars), "context": context}
    if draw(st.booleans()):
        keys = list(services[service_id].get("prefetch", {})) + ["unexpected"]
        prefetch_values = st.none() | bundles(patient_id) | resources(patient_id) | json_values
        body["prefetch"] = draw(st.dictionaries(st.sampled_from(keys), prefetch_values, max_size=len(keys)) | json_values)
    if draw(st.booleans()):
        body["fhirServer"] = draw(st.sampled_from([FHIR_BASE, FHIR_BASE + "/", "https://evil.example.net/fhir", "ftp://x", ""]) | scalars)
    if draw(st.booleans()):
        body["fhirAuthorization"] = draw(
            st.fixed_dictionaries({"access_token": scalars, "token_type": st.sampled_from(["Bearer", "MAC"]), "expires_in": scalars,
                                   "scope": scalars, "subject": scalars}, optional={"patient": scalars})
            | json_values
        )
    if draw(st.booleans()):
        body[draw(st.sampled_from(["extension", "unknownField", "hook", "context"]))] = draw(json_values)
    return service_id, body


def post_json(client, path: str, body) -> object:
    text = RAW_TOKEN.sub(lambda match: match.group(1), json.dumps(body, allow_nan=True))
    return client.post(path, data=text, content_type="application/json")


def with_fhir_server(reply):
    """A mocked FHIR server answering every query with `reply`; nothing else is reachable."""
    status, body = reply
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    mock.add(responses.GET, re.compile(re.escape(FHIR_BASE) + ".*"), body=body, status=status, content_type="application/fhir+json")
    return mock


# --- the properties ----------------------------------------------------------------------------


def test_mutated_real_requests_never_fail(client, services):
    requests_ = [r for r in (request_for(f, services) for f in fixture_documents()) if r is not None]
    assert len(requests_) >= 10, "too few fixture requests to fuzz from"

    @settings(max_examples=700, **FUZZ)
    @given(data=st.data(), reply=fhir_replies())
    def property_(data, reply):
        service_id, body = data.draw(st.sampled_from(requests_), label="fixture")
        mutated = data.draw(mutation_of(body), label="mutated")
        with with_fhir_server(reply):
            assert_survived(post_json(client, f"/cds-services/{service_id}", mutated))

    property_()


def test_generated_hook_requests_never_fail(client, services):
    @settings(max_examples=250, **FUZZ)
    @given(call=generated_hook_requests(services), reply=fhir_replies())
    def property_(call, reply):
        service_id, body = call
        with with_fhir_server(reply):
            assert_survived(post_json(client, f"/cds-services/{service_id}", body))

    property_()


feedback_items = st.fixed_dictionaries(
    {},
    optional={
        "card": st.sampled_from([str(uuid.UUID(int=7)), "", "x" * 100]) | scalars,
        "outcome": st.sampled_from(["accepted", "overridden", "ACCEPTED"]) | scalars,
        "outcomeTimestamp": st.sampled_from(["2026-11-26T10:00:00Z", "2026-11-26T10:00:00", "2026-02-30T00:00:00Z",
                                             "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"]) | scalars,
        "acceptedSuggestions": st.lists(st.fixed_dictionaries({"id": scalars}) | json_values, max_size=3) | json_values,
        "overrideReason": st.fixed_dictionaries({}, optional={"reason": codings, "userComment": scalars}) | json_values,
    },
) | json_values


def test_feedback_bodies_never_fail(client, services):
    @settings(max_examples=300, **FUZZ)
    @given(service_id=st.sampled_from(sorted(services)) | st.text(min_size=1, max_size=10).filter(lambda s: "/" not in s and "?" not in s and "#" not in s),
           body=st.fixed_dictionaries({"feedback": st.lists(feedback_items, max_size=4) | json_values}) | json_values)
    def property_(service_id, body):
        assert_survived(post_json(client, f"/cds-services/{service_id}/feedback", body))

    property_()


def deep_nesting(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


raw_bodies = (
    st.binary(max_size=300)
    | st.sampled_from([b"\xff\xfe\x00", b'{"hook": "\xc3\x28"}', b"\xef\xbb\xbf{}", b"", b"null", b"[]", b"NaN", b"1e999999",
                       b'{"hook": "patient-view", "context": ' + b'{"a": ' * 3000 + b"1" + b"}" * 3000 + b"}"])
    | st.sampled_from([10, 500, 5_000, 100_000]).map(deep_nesting)
    | st.sampled_from([10, 500, 5_000]).map(lambda depth: ('{"a":' * depth + "1" + "}" * depth).encode())
    | st.sampled_from([1_000, 100_000, 300_000]).map(lambda size: json.dumps({"hook": "x" * size}).encode())
    | json_values.map(lambda value: json.dumps(value, allow_nan=True).encode())
)
content_types = st.sampled_from([
    "application/json", "application/json; charset=utf-8", "application/json; charset=latin-1", "application/json; charset=utf-16",
    "application/fhir+json", "application/cds-hooks+json", "text/plain", "text/html", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz", "application/xml", "", "*/*", "application/json;;;", "\u00e9/\u00e9",
])


def test_raw_bodies_and_content_types_never_fail(client, services):
    paths = ["/cds-services"] + [f"/cds-services/{s}" for s in services] + [f"/cds-services/{s}/feedback" for s in services]

    @settings(max_examples=400, **FUZZ)
    @given(path=st.sampled_from(paths), body=raw_bodies, content_type=content_types,
           method=st.sampled_from(["POST", "POST", "POST", "PUT", "GET"]))
    def property_(path, body, content_type, method):
        headers = {"Content-Type": content_type} if content_type else {}
        assert_survived(client.open(path, method=method, data=body, headers=headers))

    property_()


path_segments = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="?#"), max_size=20
) | st.sampled_from(["..", ".", "%2e%2e", "%00", "%ff", "cds-services", "feedback", "rules", "STENT-LENGTH", "healthz", "metrics"])


def test_random_paths_methods_and_headers_never_fail(client, services):
    known = ["/cds-services", "/healthz", "/readyz", "/metrics", "/rules", "/rules/STENT-LENGTH", "/rules/NOPE"]
    known += [f"/cds-services/{s}" for s in services] + [f"/cds-services/{s}/feedback" for s in services]

    @settings(max_examples=350, **FUZZ)
    @given(
        path=st.sampled_from(known) | st.lists(path_segments, min_size=1, max_size=5).map(lambda parts: "/" + "/".join(parts)),
        method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "PROPFIND"]),
        query=st.dictionaries(st.text(max_size=8), st.text(max_size=30), max_size=3),
        headers=st.dictionaries(
            st.sampled_from(["Origin", "Accept", "Authorization", "Access-Control-Request-Method", "X-Forwarded-For",
                             "X-Forwarded-Proto", "Content-Length-Ignored", "Accept-Encoding", "Host"]),
            st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
            max_size=4,
        ),
        body=st.none() | json_values,
    )
    def property_(path, method, query, headers, body):
        data = None if body is None else json.dumps(body, allow_nan=True)
        # PATH_INFO as a WSGI server passes it (UTF-8 bytes as latin-1), so that paths such as
        # "//x:" reach the app instead of being read as a host name by the test client.
        raw_path = {"PATH_INFO": path.encode("utf-8").decode("latin-1")}
        response = client.open("/", method=method, query_string=query, headers=headers, data=data,
                               content_type="application/json" if data is not None else None, environ_overrides=raw_path)
        assert_survived(response)

    property_()
