"""Hostile FHIR servers (loopback stubs): trickle, hang, redirect, loop `next` links, huge bodies.

Promises (docs/operations.md, "FHIR budget"): a hook call's FHIR reads end with its total
budget, however the server behaves; patient-view then answers 412 and order-sign its
context-only checks plus DATA-UNAVAILABLE, both within budget + 1 s; one call's slow server
never delays another call's healthy one; a call reads at most CDS_FHIR_MAX_CALL_BYTES.
"""
from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from cds_service.app import create_app
from cds_service.config import Settings
from cds_service.fixtures import DEFAULT_DIRECTORY, FixtureStore, build_request, load_fixture
from cds_service.services import all_services
from tests.helpers.faults import StubFhir, send_json

pytestmark = pytest.mark.faults
BUDGET = 2.0
LOOPBACK = ("http://127.0.0.1:*",)
PATIENT_VIEW = "iliac-vein-patient-view"
ORDER_SIGN = "iliac-vein-order-sign"
STOP = threading.Event()  # set at module teardown: stub handlers that hang give up


@pytest.fixture(scope="module", autouse=True)
def release_hanging_stubs():
    yield
    STOP.set()


def make_app(tmp_path, **overrides):
    settings = Settings(auth="off", database_url=f"sqlite:///{tmp_path}/cds.db", fhir_allowlist=LOOPBACK,
                        fhir_open_servers=LOOPBACK, fhir_total_budget=BUDGET, log_level="CRITICAL", **overrides)
    return create_app(settings)


def entry(service_id: str) -> dict:
    return next(s.discovery_json() for s in all_services() if s.id == service_id)


def request_to(server: str, story_id: str = "malignant-iliac-mass-with-acute-dvt", service_id: str = PATIENT_VIEW) -> dict:
    """The story's request without prefetch: every key is read from `server`."""
    story = load_fixture(DEFAULT_DIRECTORY / f"{story_id}.json")
    return build_request(story, entry(service_id), prefetch=False, fhir_server=server)


def timed_post(client, service_id: str, body: dict):
    started = time.monotonic()
    response = client.post(f"/cds-services/{service_id}", json=body)
    return response, time.monotonic() - started


def trickle(handler):
    handler.send_response(200)
    handler.send_header("Content-Type", "application/fhir+json")
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    while not STOP.is_set():
        handler.wfile.write(b" ")
        handler.wfile.flush()
        time.sleep(0.1)


def hang(handler):
    STOP.wait(60)


def redirect(handler):
    if handler.path.startswith("/elsewhere"):
        send_json(handler, b'{"resourceType": "Bundle", "type": "searchset", "entry": []}')
        return
    handler.send_response(302)
    handler.send_header("Location", "/elsewhere" + handler.path)
    handler.send_header("Content-Length", "0")
    handler.end_headers()


@pytest.mark.parametrize("behaviour", [trickle, hang], ids=["trickle", "hang"])
def test_patient_view_answers_412_within_budget_plus_1_s(tmp_path, behaviour):
    with StubFhir(behaviour) as stub:
        response, seconds = timed_post(make_app(tmp_path).test_client(), PATIENT_VIEW, request_to(stub.base))
    assert response.status_code == 412, response.get_data(as_text=True)[:300]
    assert seconds < BUDGET + 1.0, f"{behaviour.__name__}: answered after {seconds:.2f} s"
    reason = response.get_json()["issue"][0]["diagnostics"]
    assert "time budget (CDS_FHIR_TOTAL_BUDGET)" in reason, reason
    assert stub.base not in reason and "127.0.0.1" not in reason


def test_order_sign_answers_its_context_checks_and_data_unavailable_within_budget_plus_1_s(tmp_path):
    body = request_to("", "order-sign-stent-fhir-server-down", ORDER_SIGN)
    with StubFhir(trickle) as stub:
        body["fhirServer"] = stub.base
        response, seconds = timed_post(make_app(tmp_path).test_client(), ORDER_SIGN, body)
    assert response.status_code == 200
    rules = [card["source"]["topic"]["code"] for card in response.get_json()["cards"]]
    assert rules == ["STENT-LENGTH", "DATA-UNAVAILABLE"]
    assert seconds < BUDGET + 1.0, f"answered after {seconds:.2f} s"


def test_redirects_are_never_followed(tmp_path):
    with StubFhir(redirect) as stub:
        response, seconds = timed_post(make_app(tmp_path).test_client(), PATIENT_VIEW, request_to(stub.base))
        followed = stub.requests
    assert response.status_code == 412 and seconds < BUDGET  # refused at once, not waited out
    assert followed == len(entry(PATIENT_VIEW)["prefetch"])  # one request per key, none to /elsewhere


def test_a_next_link_loop_stops_at_the_page_cap(tmp_path):
    story = load_fixture(DEFAULT_DIRECTORY / "malignant-iliac-mass-with-acute-dvt.json")
    fixtures = FixtureStore([story])
    base_holder = {}

    def looping(handler):
        path = handler.path.split("/fhir/", 1)[1]
        _, document = fixtures.respond(path, base_holder["base"])
        if document.get("resourceType") == "Bundle":
            document = dict(document, link=[{"relation": "next", "url": base_holder["base"] + "/" + path}])
        send_json(handler, json.dumps(document).encode())

    with StubFhir(looping) as stub:
        base_holder["base"] = stub.base
        response, seconds = timed_post(make_app(tmp_path, fhir_max_pages=5).test_client(), PATIENT_VIEW, request_to(stub.base))
        served = stub.requests
    assert response.status_code < 500 and seconds < BUDGET + 1.0
    searches = sum(1 for template in entry(PATIENT_VIEW)["prefetch"].values() if "?" in template)
    assert served <= searches * 5 + len(entry(PATIENT_VIEW)["prefetch"]), f"{served} requests"


def test_huge_bodies_stop_at_the_per_call_byte_cap(tmp_path):
    written = []

    def huge(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/fhir+json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        chunk = b" " * 65536
        sent = 0
        try:
            handler.wfile.write(b"10000\r\n" + chunk + b"\r\n" + b"10000\r\n" + b"{" + chunk[1:] + b"\r\n")
            while sent < 200 * 1024 * 1024 and not STOP.is_set():
                handler.wfile.write(b"10000\r\n" + chunk + b"\r\n")
                sent += len(chunk)
        finally:
            written.append(sent)

    cap = 4 * 1024 * 1024
    with StubFhir(huge) as stub:
        app = make_app(tmp_path, fhir_max_call_bytes=cap, fhir_max_response_bytes=20 * 1024 * 1024)
        response, seconds = timed_post(app.test_client(), PATIENT_VIEW, request_to(stub.base))
        time.sleep(0.2)
    assert response.status_code == 412 and seconds < BUDGET + 1.0
    reason = response.get_json()["issue"][0]["diagnostics"]
    assert "byte budget (CDS_FHIR_MAX_CALL_BYTES)" in reason, reason
    # what the stub got out before the service hung up: the cap, plus what sat in socket buffers
    assert sum(written) < cap + len(written) * 8 * 1024 * 1024, f"{sum(written) / 1e6:.1f} MB sent"


def test_a_slow_server_never_delays_another_calls_healthy_one(tmp_path):
    app = make_app(tmp_path)
    story = load_fixture(DEFAULT_DIRECTORY / "malignant-iliac-mass-with-acute-dvt.json")
    fixtures = FixtureStore([story])

    def healthy(handler):
        status, answer = fixtures.respond(handler.path.split("/fhir/", 1)[1], fast.base)
        send_json(handler, json.dumps(answer).encode(), status)

    with StubFhir(hang) as slow, StubFhir(healthy) as fast:
        with ThreadPoolExecutor(max_workers=9) as pool:
            stuck = [pool.submit(timed_post, app.test_client(), PATIENT_VIEW, request_to(slow.base)) for _ in range(8)]
            time.sleep(0.3)  # the slow calls hold their reads
            response, seconds = timed_post(app.test_client(), PATIENT_VIEW, request_to(fast.base))
            slow_answers = [future.result() for future in stuck]
    assert response.status_code == 200 and seconds < 1.0, f"healthy call: {response.status_code} after {seconds:.2f} s"
    assert max(s for _, s in slow_answers) < BUDGET + 1.0
    assert {r.status_code for r, _ in slow_answers} == {412}


def test_the_smart_app_reads_a_trickling_server_within_the_same_budget(tmp_path):
    """The pathway app (smart/) shares the hook calls' FHIR client and budget: its SMART discovery
    (.well-known, then /metadata) gives up when the budget ends, not after a read timeout per byte."""
    with StubFhir(trickle) as stub:
        client = make_app(tmp_path, smart_client_id="pathway-app").test_client()
        started = time.monotonic()
        response = client.get(f"/app/launch?iss={stub.base}")
        seconds = time.monotonic() - started
    assert response.status_code == 502, response.get_data(as_text=True)[:300]  # the EHR's configuration unreadable
    assert seconds < BUDGET + 1.0, f"answered after {seconds:.2f} s"
