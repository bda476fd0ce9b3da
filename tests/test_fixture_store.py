"""The fixture loader, the FixtureStore (a FHIR server made of fixtures) and build_request."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from cds_service.fixtures import (
    FIXTURE_SYSTEM,
    FIXTURE_USER,
    RULES_SYSTEM,
    SELECTION_SYSTEM,
    FixtureError,
    FixtureStore,
    all_fixtures,
    build_request,
    fixture_from_bundle,
    fixture_paths,
    load_fixture,
)
from cds_service.services.base import PATIENT_PREFETCH

BASE = "https://fhir.example.test/r4"


def condition(resource_id: str, patient_id: str, code: str = "R22.42") -> dict:
    return {
        "resourceType": "Condition",
        "id": resource_id,
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code}]},
        "subject": {"reference": f"Patient/{patient_id}"},
    }


def bundle(patient_id: str = "p1", hook: str = "patient-view", resources: list[dict] | None = None,
           rules: dict[str, str] | None = None, extra_tags: list[dict] | None = None) -> dict:
    tags = [{"system": FIXTURE_SYSTEM, "code": hook, "display": "A story."}]
    tags += [{"system": RULES_SYSTEM, "code": rule, "display": ind} for rule, ind in (rules or {}).items()]
    tags += extra_tags or []
    patient = {"resourceType": "Patient", "id": patient_id, "gender": "female"}
    return {
        "resourceType": "Bundle",
        "id": f"story-of-{patient_id}",
        "meta": {"tag": tags},
        "type": "collection",
        "timestamp": "2026-11-26T12:00:00Z",
        "entry": [{"resource": r} for r in [patient, *(resources or [])]],
    }


def draft_stent(resource_id: str, patient_id: str) -> dict:
    return {
        "resourceType": "DeviceRequest",
        "id": resource_id,
        "status": "draft",
        "intent": "order",
        "codeCodeableConcept": {"text": "Iliac vein stent 14 x 50 mm"},
        "subject": {"reference": f"Patient/{patient_id}"},
    }


# ---------------------------------------------------------------- loading


def test_fixture_from_bundle_reads_every_part():
    document = bundle(
        hook="order-select",
        resources=[condition("c1", "p1"), draft_stent("d1", "p1"), draft_stent("d2", "p1")],
        rules={"STENT-LENGTH": "critical", "STENT-IVUS-REQUIRED": "critical"},
        extra_tags=[{"system": SELECTION_SYSTEM, "code": "DeviceRequest/d1"}],
    )
    fixture = fixture_from_bundle(document)
    assert fixture.id == "story-of-p1"
    assert fixture.hook == "order-select"
    assert fixture.now == datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
    assert fixture.now.tzinfo is not None
    assert fixture.story == "A story."
    assert fixture.expected == {"STENT-LENGTH": "critical", "STENT-IVUS-REQUIRED": "critical"}
    assert fixture.patient_id == "p1"
    assert [r["id"] for r in fixture.resources] == ["c1"]
    assert [r["id"] for r in fixture.draft_orders] == ["d1", "d2"]
    assert fixture.selections == ["DeviceRequest/d1"]
    assert fixture.fhir_server_down is False


def test_active_request_is_record_not_draft():
    active = {**draft_stent("d1", "p1"), "status": "active"}
    fixture = fixture_from_bundle(bundle(resources=[active]))
    assert fixture.draft_orders == []
    assert [r["id"] for r in fixture.resources] == ["d1"]


def test_server_down_tag_is_read():
    document = bundle(extra_tags=[{"system": FIXTURE_SYSTEM, "code": "fhir-server-down"}])
    assert fixture_from_bundle(document).fhir_server_down is True


def test_timestamp_offset_is_converted_to_utc():
    document = bundle()
    document["timestamp"] = "2026-11-26T14:00:00+02:00"
    assert fixture_from_bundle(document).now == datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "breakage",
    [
        lambda b: b["meta"].update(tag=[t for t in b["meta"]["tag"] if t["system"] != FIXTURE_SYSTEM]),
        lambda b: b["meta"]["tag"].append({"system": FIXTURE_SYSTEM, "code": "order-sign"}),
        lambda b: b["entry"].reverse(),
        lambda b: b.update(timestamp="2026-11-26T12:00:00"),
        lambda b: b.update(timestamp="2026-11-26"),
        lambda b: b["meta"]["tag"].append({"system": RULES_SYSTEM, "code": "DVT-DUPLEX", "display": "urgent"}),
        lambda b: b.update(resourceType="Patient"),
    ],
    ids=["no-hook", "two-hooks", "patient-not-first", "naive-timestamp", "date-only", "bad-indicator", "not-bundle"],
)
def test_malformed_fixture_is_refused(breakage):
    document = bundle(resources=[condition("c1", "p1")])
    breakage(document)
    with pytest.raises(FixtureError):
        fixture_from_bundle(document)


def test_load_fixture_and_all_fixtures_with_a_directory(tmp_path):
    (tmp_path / "b-story.json").write_text(json.dumps(bundle("pb")), encoding="utf-8")
    (tmp_path / "a-story.json").write_text(json.dumps(bundle("pa")), encoding="utf-8")
    (tmp_path / "README.md").write_text("not a fixture", encoding="utf-8")
    loaded = all_fixtures(tmp_path)
    assert [f.patient_id for f in loaded] == ["pa", "pb"]  # sorted by file name
    assert loaded[0].path == tmp_path / "a-story.json"
    assert load_fixture(tmp_path / "b-story.json").patient_id == "pb"


def test_load_fixture_refuses_invalid_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(FixtureError):
        load_fixture(path)


def test_default_directory_is_the_repositorys_fhir_fixtures():
    paths = fixture_paths()
    assert paths, "the repository's fhir_fixtures/ holds the fixtures"
    assert all(p.parent.name == "fhir_fixtures" for p in paths)
    assert len(all_fixtures()) == len(paths)


# ---------------------------------------------------------------- the store


@pytest.fixture
def two_patients():
    first = fixture_from_bundle(bundle("p1", resources=[condition(f"c{i}", "p1") for i in range(5)]
                                       + [draft_stent("d1", "p1")]))
    second = fixture_from_bundle(bundle("p2", resources=[condition("other", "p2")]))
    return first, second


def test_read_answers_the_resource(two_patients):
    store = FixtureStore(two_patients)
    status, body = store.respond("Patient/p1")
    assert status == 200 and body["id"] == "p1"
    status, body = store.respond("Condition/c3")
    assert status == 200 and body["id"] == "c3"


@pytest.mark.parametrize("url", ["Patient/nobody", "Condition/missing", "Unknown/x"])
def test_unknown_id_is_404_operation_outcome(two_patients, url):
    status, body = FixtureStore(two_patients).respond(url)
    assert status == 404
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "not-found"


def test_draft_orders_are_not_on_the_server(two_patients):
    store = FixtureStore(two_patients)
    assert store.respond("DeviceRequest/d1")[0] == 404
    assert "entry" not in store.respond("DeviceRequest?patient=p1")[1]


@pytest.mark.parametrize("query", ["patient=p1", "patient=Patient/p1", "subject=p1", "subject=Patient%2Fp1"])
def test_search_by_patient_returns_only_that_patients_resources(two_patients, query):
    status, body = FixtureStore(two_patients).respond(f"Condition?{query}")
    assert status == 200
    assert body["resourceType"] == "Bundle" and body["type"] == "searchset"
    assert body["total"] == 5
    assert sorted(e["resource"]["id"] for e in body["entry"]) == [f"c{i}" for i in range(5)]
    assert all(e["search"]["mode"] == "match" for e in body["entry"])


def test_search_with_no_match_is_an_empty_searchset(two_patients):
    status, body = FixtureStore(two_patients).respond("Observation?patient=p1")
    assert status == 200 and body["total"] == 0 and "entry" not in body


def test_search_by_id(two_patients):
    store = FixtureStore(two_patients)
    status, body = store.respond("Patient?_id=p2")
    assert status == 200 and [e["resource"]["id"] for e in body["entry"]] == ["p2"]
    status, body = store.respond("Condition?_id=c1,other")
    assert sorted(e["resource"]["id"] for e in body["entry"]) == ["c1", "other"]


def test_patient_search_parameter_does_not_return_the_patient(two_patients):
    _, body = FixtureStore(two_patients).respond("Patient?patient=p1")
    assert body["total"] == 0


def follow(store: FixtureStore, first: str) -> tuple[list[str], list[str]]:
    """Page through a search as a client does: (resource ids in order, URLs requested)."""
    ids, urls, url = [], [], first
    while url:
        urls.append(url)
        status, page = store.respond(url.removeprefix(BASE + "/"), base=BASE)
        assert status == 200
        ids += [e["resource"]["id"] for e in page.get("entry", [])]
        url = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
    return ids, urls


def test_count_pages_through_next_links(two_patients):
    store = FixtureStore(two_patients)
    ids, urls = follow(store, f"{BASE}/Condition?patient=p1&_count=2")
    assert sorted(ids) == [f"c{i}" for i in range(5)] and len(ids) == 5
    assert len(urls) == 3
    second = parse_qs(urlsplit(urls[1]).query)
    assert second == {"patient": ["p1"], "_count": ["2"], "_offset": ["2"]}
    assert urls[1].startswith(f"{BASE}/Condition?")


def test_entries_carry_full_urls_on_the_base(two_patients):
    _, body = FixtureStore(two_patients).respond("Condition?patient=p1&_count=1", base=BASE)
    assert body["entry"][0]["fullUrl"].startswith(f"{BASE}/Condition/c")
    assert body["link"][0]["relation"] == "self"


def test_max_page_size_caps_every_page(two_patients):
    store = FixtureStore(two_patients, max_page_size=2)
    ids, urls = follow(store, f"{BASE}/Condition?patient=p1")
    assert len(ids) == 5 and len(urls) == 3
    ids, urls = follow(store, f"{BASE}/Condition?patient=p1&_count=100")
    assert len(ids) == 5 and len(urls) == 3


def test_count_zero_gives_the_total_only(two_patients):
    _, body = FixtureStore(two_patients).respond("Condition?patient=p1&_count=0")
    assert body["total"] == 5 and "entry" not in body
    assert all(link["relation"] != "next" for link in body["link"])


@pytest.mark.parametrize("url", ["Condition?patient=p1&_count=-1", "Condition?patient=p1&_count=two",
                                 "Condition/c1/_history", "condition?patient=p1"])
def test_bad_requests_are_400(two_patients, url):
    status, body = FixtureStore(two_patients).respond(url)
    assert status == 400 and body["resourceType"] == "OperationOutcome"


def test_conflicting_duplicate_ids_are_refused():
    first = fixture_from_bundle(bundle("p1", resources=[condition("shared", "p1")]))
    second = fixture_from_bundle(bundle("p2", resources=[condition("shared", "p2")]))
    with pytest.raises(FixtureError, match="Condition/shared"):
        FixtureStore([first, second])


def test_the_repositorys_fixtures_make_one_store():
    store = FixtureStore(all_fixtures())
    fixture = all_fixtures()[0]
    assert store.respond(f"Patient/{fixture.patient_id}")[1] == fixture.patient


# ---------------------------------------------------------------- requests


DISCOVERY = {"id": "iliac-vein-patient-view", "hook": "patient-view", "prefetch": dict(PATIENT_PREFETCH)}


def test_build_request_with_prefetch(two_patients):
    fixture = two_patients[0]
    body = build_request(fixture, DISCOVERY)
    assert body["hook"] == "patient-view"
    assert str(uuid.UUID(body["hookInstance"])) == body["hookInstance"]
    assert body["context"] == {"userId": FIXTURE_USER, "patientId": "p1"}
    assert "fhirServer" not in body and "fhirAuthorization" not in body
    prefetch = body["prefetch"]
    assert set(prefetch) == set(PATIENT_PREFETCH)
    assert prefetch["patient"] == fixture.patient
    assert sorted(e["resource"]["id"] for e in prefetch["conditions"]["entry"]) == [f"c{i}" for i in range(5)]
    assert prefetch["observations"]["type"] == "searchset" and "entry" not in prefetch["observations"]
    assert "next" not in json.dumps(prefetch)


def test_build_request_gives_a_fresh_hook_instance_each_time(two_patients):
    first = build_request(two_patients[0], DISCOVERY)["hookInstance"]
    assert first != build_request(two_patients[0], DISCOVERY)["hookInstance"]


def test_build_request_prefetch_read_of_an_unknown_resource_is_null(two_patients):
    entry = {**DISCOVERY, "prefetch": {"user": "Practitioner/{{userPractitionerId}}",
                                       "encounter": "Encounter/{{context.encounterId}}"}}
    assert build_request(two_patients[0], entry)["prefetch"] == {"user": None, "encounter": None}


def test_build_request_without_prefetch_names_the_server_and_token(two_patients):
    body = build_request(two_patients[0], DISCOVERY, prefetch=False, fhir_server=BASE, access_token="tok-123")
    assert "prefetch" not in body
    assert body["fhirServer"] == BASE
    authorization = body["fhirAuthorization"]
    assert authorization["access_token"] == "tok-123"
    assert authorization["token_type"] == "Bearer"
    assert authorization["expires_in"] > 0 and authorization["subject"]
    assert "patient/Condition.read" in authorization["scope"].split()
    assert "patient/Patient.read" in authorization["scope"].split()


def test_build_request_server_without_token_has_no_authorization(two_patients):
    body = build_request(two_patients[0], DISCOVERY, prefetch=False, fhir_server=BASE)
    assert body["fhirServer"] == BASE and "fhirAuthorization" not in body


def test_order_sign_request_carries_the_draft_orders():
    fixture = fixture_from_bundle(bundle("p1", hook="order-sign", resources=[condition("c1", "p1"),
                                                                            draft_stent("d1", "p1")]))
    entry = {"id": "iliac-vein-order-sign", "hook": "order-sign", "prefetch": dict(PATIENT_PREFETCH)}
    body = build_request(fixture, entry)
    draft_orders = body["context"]["draftOrders"]
    assert draft_orders["resourceType"] == "Bundle" and draft_orders["type"] == "collection"
    assert [e["resource"]["id"] for e in draft_orders["entry"]] == ["d1"]
    assert "selections" not in body["context"]
    prefetched = [e["resource"] for value in body["prefetch"].values() if value and value["resourceType"] == "Bundle"
                  for e in value.get("entry", [])]
    assert prefetched and "d1" not in {r["id"] for r in prefetched}  # drafts never go into the prefetch


def test_order_select_request_carries_the_selections():
    fixture = fixture_from_bundle(bundle(
        "p1", hook="order-select", resources=[draft_stent("d1", "p1"), draft_stent("d2", "p1")],
        extra_tags=[{"system": SELECTION_SYSTEM, "code": "DeviceRequest/d2"}]))
    entry = {"id": "iliac-vein-order-select", "hook": "order-select", "prefetch": {}}
    body = build_request(fixture, entry)
    assert body["context"]["selections"] == ["DeviceRequest/d2"]
    assert len(body["context"]["draftOrders"]["entry"]) == 2


def test_hook_override(two_patients):
    body = build_request(two_patients[0], DISCOVERY, hook="order-sign")
    assert body["hook"] == "order-sign"
    assert body["context"]["draftOrders"]["entry"] == [{"resource": two_patients[0].draft_orders[0]}]
