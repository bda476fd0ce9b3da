"""Benchmark a real `cds-service serve` on loopback and print the figures of issue 15.

Run by hand:  python benchmarks/run.py [--workers N] [--rounds N] [--seconds S] [--runs N] [--fhir-memory]

Every figure is a ratio measured in the same run, so it holds on any machine; each case runs
`--runs` times and the median ratio is judged against the target:
1.  cold patient-view / GET /healthz: the typical record, but every call a new patient (new resource
    ids, references, patient id and one lab value), so that no content-keyed cache helps   (<= 3)
1b. warm patient-view / GET /healthz: the same record sent again and again                  (<= 2.5)
2.  the record + 5,000 irrelevant Observations / json.loads of the body                     (<= 3)
3.  cold patient-view requests/s / /healthz requests/s, 8 clients                           (>= 0.5)
4.  no prefetch, FHIR server answering after 200 ms / 200 ms                                (<= 1.2)
5.  peak RSS of a worker after case 2                                                       (< 300 MB)
Latencies alternate one /healthz call and one hook call (and throughput alternates 2 s windows), so
that the load of a shared machine falls on both sides of a ratio alike.

A separate case, `python benchmarks/run.py --fhir-memory` (issue 11):
6.  peak RSS of one worker (1 worker, 8 threads) serving 8 concurrent calls without prefetch whose
    FHIR server answers each key with the most the service will read: responses that fill the
    per-call byte cap exactly (all parsed), then 20 MB responses (cut at the cap)            (< 300 MB)
"""
from __future__ import annotations

import argparse
import atexit
import copy
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cds_service.fixtures import FixtureStore, all_fixtures, build_request  # noqa: E402

SERVICE = "iliac-vein-patient-view"
FHIR_DELAY = 0.2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def typical_fixture():
    """The patient-view story with the largest record (about 20 resources)."""
    candidates = [f for f in all_fixtures() if f.hook == "patient-view"]
    return max(candidates, key=lambda f: len(f.record()))


def routine_record(patient_id: str, now) -> list[dict]:
    """Ordinary data every such patient has (vitals, labs, a medication): read by the rules, no card."""
    day = now.date().isoformat()
    subject = {"reference": f"Patient/{patient_id}"}

    def lab(n, loinc, value, unit):
        return {"resourceType": "Observation", "id": f"routine-{n}", "status": "final", "subject": subject,
                "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
                "effectiveDateTime": f"{day}T06:0{n}:00Z",
                "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}}

    return [
        lab(1, "29463-7", 82, "kg"), lab(2, "98979-8", 74, "mL/min/{1.73_m2}"), lab(3, "777-3", 236, "10*3/uL"),
        lab(4, "1751-7", 3.9, "g/dL"), lab(5, "2885-2", 6.8, "g/dL"), lab(6, "8480-6", 128, "mm[Hg]"),
        lab(7, "8480-6", 124, "mm[Hg]"), lab(8, "2345-7", 96, "mg/dL"),
        {"resourceType": "MedicationRequest", "id": "routine-med", "status": "active", "intent": "order",
         "subject": subject, "medicationCodeableConcept": {"coding": [{
             "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "617311",
             "display": "atorvastatin 40 MG Oral Tablet"}]}},
    ]


def with_routine_data(request: dict, records: list[dict]) -> dict:
    enriched = copy.deepcopy(request)
    prefetch = enriched["prefetch"]
    for resource in records:
        key = "observations" if resource["resourceType"] == "Observation" else "medicationRequests"
        bundle = prefetch.get(key) or {"resourceType": "Bundle", "type": "searchset"}
        bundle.setdefault("entry", []).append({"resource": resource})
        prefetch[key] = bundle
    return enriched


MARK = "@@fresh@@"
VALUE_MARK = '"@@value@@"'


def fresh_template(request: dict) -> str:
    """The request as JSON with a marker after every resource id (and every reference to one) and in place
    of one routine value: `fresh_body` fills them per call, so each call is a new patient whose resources
    no content-keyed cache has seen, at the cost of two `str.replace`."""
    template = copy.deepcopy(request)
    resources = [r for value in template["prefetch"].values() if isinstance(value, dict)
                 for r in ([e["resource"] for e in value.get("entry", [])] if value["resourceType"] == "Bundle" else [value])]
    known = {f"{r['resourceType']}/{r['id']}" for r in resources if r.get("id")}
    for resource in resources:
        if resource.get("id") == "routine-8":  # glucose: read by no rule, so the cards stay the same
            resource["valueQuantity"]["value"] = "@@value@@"
        if resource.get("id"):
            resource["id"] += MARK

    def mark_references(node: object) -> None:
        if isinstance(node, dict):
            reference = node.get("reference")
            if isinstance(reference, str) and reference in known:
                node["reference"] = reference + MARK
            for child in node.values():
                mark_references(child)
        elif isinstance(node, list):
            for child in node:
                mark_references(child)

    mark_references(template["prefetch"])
    template["context"]["patientId"] += MARK
    template["hookInstance"] = "@@instance@@"
    return json.dumps(template)


def fresh_body(template: str) -> bytes:
    suffix = uuid.uuid4().hex
    body = template.replace(MARK, "-" + suffix[:12]).replace("@@instance@@", str(uuid.UUID(suffix)))
    return body.replace(VALUE_MARK, str(70 + int(suffix[12:14], 16) % 60)).encode()


def irrelevant_observations(patient_id: str, count: int) -> list[dict]:
    return [
        {
            "resourceType": "Observation",
            "id": f"noise-{n}",
            "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "laboratory"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose [Mass/volume] in Serum or Plasma"}],
                     "text": "Glucose"},
            "subject": {"reference": f"Patient/{patient_id}"},
            "effectiveDateTime": f"2026-{(n % 12) + 1:02d}-{(n % 27) + 1:02d}T08:00:00Z",
            "valueQuantity": {"value": 90 + n % 40, "unit": "mg/dL", "system": "http://unitsofmeasure.org",
                              "code": "mg/dL"},
            "referenceRange": [{"low": {"value": 70, "unit": "mg/dL"}, "high": {"value": 99, "unit": "mg/dL"}}],
            "note": [{"text": "Fasting sample, routine panel, no action needed."}],
        }
        for n in range(count)
    ]


class SlowFhir(BaseHTTPRequestHandler):
    store: FixtureStore
    base: str

    def do_GET(self):  # noqa: N802 (http.server API)
        time.sleep(FHIR_DELAY)
        parts = urlsplit(self.path)
        relative = parts.path.split("/fhir/", 1)[-1] + (f"?{parts.query}" if parts.query else "")
        status, body = self.store.respond(relative, self.base)
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def timed_post(session: requests.Session, method: str, url: str, body: bytes | None) -> float:
    started = time.perf_counter()
    response = session.request(method, url, data=body, headers={"Content-Type": "application/json"})
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}: {response.text[:300]}")
    return elapsed


def paired_medians(session: requests.Session, reference_url: str, hook_url: str, rounds: int,
                   make_body: Callable[[], bytes]) -> tuple[float, float]:
    """Median latency of GET reference_url and of POST hook_url, one call of each in turn, so that the
    load of a shared machine falls on both alike."""
    reference, hook = [], []
    for _ in range(rounds):
        reference.append(timed_post(session, "GET", reference_url, None))
        hook.append(timed_post(session, "POST", hook_url, make_body()))
    return statistics.median(reference), statistics.median(hook)


def throughput(url: str, method: str, seconds: float, clients: int,
               make_body: Callable[[], bytes] | None = None) -> tuple[int, float]:
    """(successful requests, elapsed seconds) of `clients` threads calling `url` for `seconds`."""
    stop = time.perf_counter() + seconds
    counts = [0] * clients

    def client(index: int) -> None:
        session = requests.Session()
        while time.perf_counter() < stop:
            data = make_body() if make_body else None
            response = session.request(method, url, data=data, headers={"Content-Type": "application/json"})
            if response.status_code == 200:
                counts[index] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts), time.perf_counter() - started


def paired_throughput(healthz_url: str, hook_url: str, seconds: float, make_body: Callable[[], bytes],
                      windows: int = 4) -> tuple[float, float]:
    """Requests/s of /healthz and of the hook, 8 clients, in alternating windows (load falls on both alike)."""
    totals = {"healthz": [0, 0.0], "hook": [0, 0.0]}
    for _ in range(windows):
        for name, url, method, body in (("healthz", healthz_url, "GET", None), ("hook", hook_url, "POST", make_body)):
            count, elapsed = throughput(url, method, seconds / windows, 8, body)
            totals[name][0] += count
            totals[name][1] += elapsed
    return totals["healthz"][0] / totals["healthz"][1], totals["hook"][0] / totals["hook"][1]


def worker_pids(master_pid: int) -> list[int]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class BigFhir(BaseHTTPRequestHandler):
    """Answers every search with `body` (one big searchset), every read with the patient."""

    protocol_version = "HTTP/1.1"
    body = b""
    patient = b""

    def do_GET(self):  # http.server's name
        payload = self.body if "?" in self.path else self.patient
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        if len(payload) < 2**20:
            self.send_header("Content-Length", str(len(payload)))
        else:  # no length announced: the service must count the bytes as they come
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        try:
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the service stopped reading at its byte cap

    def log_message(self, *args):
        pass


def searchset_of_size(patient_id: str, size: int) -> bytes:
    """A searchset of irrelevant Observations, about `size` bytes of JSON."""
    one = len(json.dumps({"resource": irrelevant_observations(patient_id, 1)[0]})) + 2
    observations = irrelevant_observations(patient_id, max(1, size // one))
    return json.dumps({"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in observations]}).encode()


def fhir_memory_case(call_cap: int = 8 * 1024 * 1024, response_cap: int = 20 * 1024 * 1024, clients: int = 8) -> int:
    """Case 6: the peak RSS of one worker while `clients` calls each receive the maximum FHIR sizes."""
    fixture = typical_fixture()
    fhir_port, cds_port = free_port(), free_port()
    fhir_base = f"http://127.0.0.1:{fhir_port}/fhir"
    BigFhir.patient = json.dumps(fixture.patient).encode()
    fhir = ThreadingHTTPServer(("127.0.0.1", fhir_port), BigFhir)
    fhir.daemon_threads = True
    threading.Thread(target=fhir.serve_forever, daemon=True).start()
    workdir = tempfile.mkdtemp(prefix="cds-bench-")
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)  # the card-log database: nothing left behind
    env = dict(os.environ, CDS_AUTH="off", CDS_DATABASE_URL=f"sqlite:///{workdir}/bench.db", CDS_FHIR_ALLOWLIST=fhir_base,
               CDS_FHIR_OPEN_SERVERS=fhir_base, CDS_FIXED_NOW=fixture.now.isoformat(), CDS_LOG_LEVEL="WARNING",
               CDS_FHIR_MAX_CALL_BYTES=str(call_cap), CDS_FHIR_MAX_RESPONSE_BYTES=str(response_cap),
               CDS_FHIR_TOTAL_BUDGET="20")
    server = subprocess.Popen(
        [sys.executable, "-m", "cds_service.cli", "serve", "--port", str(cds_port), "--workers", "1", "--threads", str(clients)],
        env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{cds_port}"
    rows = []
    try:
        for _ in range(100):
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            raise SystemExit("the service did not start")
        entry = next(s for s in requests.get(f"{base}/cds-services").json()["services"] if s["id"] == SERVICE)
        searches = sum(1 for template in entry["prefetch"].values() if "?" in template)
        request = build_request(fixture, entry, prefetch=False, fhir_server=fhir_base)
        sizes = (("responses filling the call cap", call_cap // searches - 4096),
                 ("unannounced responses of 20 MB", response_cap - 4096))
        for label, size in sizes:
            BigFhir.body = searchset_of_size(fixture.patient_id, size)
            statuses: list[int] = []

            def call(into: list[int] = statuses) -> None:
                body = dict(request, hookInstance=str(uuid.uuid4()))
                into.append(requests.post(f"{base}/cds-services/{SERVICE}", json=body, timeout=60).status_code)

            threads = [threading.Thread(target=call) for _ in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            rss = max(peak_rss_mb(pid) for pid in worker_pids(server.pid))
            rows.append((label, len(BigFhir.body), sorted(set(statuses)), rss))
    finally:
        server.terminate()
        server.wait(timeout=15)
        fhir.shutdown()
    print(f"6. {clients} concurrent calls on 1 worker ({clients} threads), {searches} searches each; "
          f"call cap {call_cap / 2**20:.0f} MiB, response cap {response_cap / 2**20:.0f} MiB")
    for label, size, statuses, rss in rows:
        print(f"   {label:32} response {size / 2**20:5.1f} MiB  statuses {statuses}  worker peak RSS {rss:.0f} MB  "
              f"(target < 300 MB) {'yes' if rss < 300 else 'NO'}")
    return 0 if all(row[-1] < 300 for row in rows) else 1


@dataclass
class Row:
    name: str
    target: str
    passes: Callable[[float], bool]
    ratios: list[float] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)  # what was measured, per run

    def add(self, ratio: float, shown: str) -> None:
        self.ratios.append(ratio)
        self.shown.append(shown)

    @property
    def median(self) -> float:
        return statistics.median(self.ratios)


ROWS = (
    Row("1 cold patient-view / healthz", "<= 3", lambda r: r <= 3),
    Row("1b warm (same record) / healthz", "<= 2.5", lambda r: r <= 2.5),
    Row("2 + 5,000 Obs / json.loads", "<= 3", lambda r: r <= 3),
    Row("3 req/s 8 clients / healthz", ">= 0.5", lambda r: r >= 0.5),
    Row("4 no prefetch, FHIR 200 ms", "<= 1.2", lambda r: r <= 1.2),
    Row("5 worker peak RSS (MB)", "< 300", lambda r: r < 300),
)


def start_fhir_server(fixture) -> tuple[ThreadingHTTPServer, str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}/fhir"
    SlowFhir.store, SlowFhir.base = FixtureStore([fixture]), base
    server = ThreadingHTTPServer(("127.0.0.1", port), SlowFhir)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, base


def start_service(fixture, fhir_base: str, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="cds-bench-")
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)  # the card-log database: nothing left behind
    env = dict(os.environ, CDS_AUTH="off", CDS_DATABASE_URL=f"sqlite:///{workdir}/bench.db",
               CDS_FHIR_ALLOWLIST=fhir_base, CDS_FIXED_NOW=fixture.now.isoformat(), CDS_LOG_LEVEL="WARNING")
    server = subprocess.Popen(
        [sys.executable, "-m", "cds_service.cli", "serve", "--port", str(port), "--workers", str(workers)],
        env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                return server, base
        except requests.RequestException:
            pass
        time.sleep(0.1)
    server.terminate()
    raise SystemExit("the service did not start")


def card_codes(session: requests.Session, url: str, body: bytes) -> list[str]:
    response = session.post(url, data=body, headers={"Content-Type": "application/json"})
    return sorted(c["source"]["topic"]["code"] for c in response.json()["cards"])


def measure(args, fixture, entry: dict, base: str, fhir_base: str, server_pid: int) -> None:
    """One run of every case; appends one ratio to each row of ROWS."""
    session = requests.Session()
    healthz_url, hook_url = f"{base}/healthz", f"{base}/cds-services/{SERVICE}"
    typical = with_routine_data(build_request(fixture, entry, prefetch=True), routine_record(fixture.patient_id, fixture.now))
    template = fresh_template(typical)
    warm_body = json.dumps(typical).encode()

    def cold() -> bytes:
        return fresh_body(template)

    paired_medians(session, healthz_url, hook_url, 20, cold)  # steady state: models imported, pools warm
    healthz, cold_latency = paired_medians(session, healthz_url, hook_url, args.rounds, cold)
    ROWS[0].add(cold_latency / healthz, f"{cold_latency * 1000:.1f} / {healthz * 1000:.2f} ms")
    healthz, warm_latency = paired_medians(session, healthz_url, hook_url, args.rounds, lambda: warm_body)
    ROWS[1].add(warm_latency / healthz, f"{warm_latency * 1000:.1f} / {healthz * 1000:.2f} ms")

    large = copy.deepcopy(typical)
    large["prefetch"]["observations"].setdefault("entry", []).extend(
        {"resource": r} for r in irrelevant_observations(fixture.patient_id, 5000))
    large_body = json.dumps(large).encode()
    parse_times, large_times = [], []
    for _ in range(max(10, args.rounds // 4)):
        started = time.perf_counter()
        json.loads(large_body)
        parse_times.append(time.perf_counter() - started)
        large_times.append(timed_post(session, "POST", hook_url, large_body))
    parse, large_latency = statistics.median(parse_times), statistics.median(large_times)
    ROWS[2].add(large_latency / parse, f"{large_latency * 1000:.0f} / {parse * 1000:.0f} ms")
    rss = max(peak_rss_mb(pid) for pid in worker_pids(server_pid))

    healthz_rps, hook_rps = paired_throughput(healthz_url, hook_url, args.seconds, cold)
    ROWS[3].add(hook_rps / healthz_rps, f"{hook_rps:.0f} / {healthz_rps:.0f} req/s")

    remote = json.dumps(build_request(fixture, entry, prefetch=False, fhir_server=fhir_base,
                                      access_token="bench-token")).encode()
    remote_latency = statistics.median(timed_post(session, "POST", hook_url, remote)
                                       for _ in range(max(10, args.rounds // 4)))
    ROWS[4].add(remote_latency / FHIR_DELAY, f"{remote_latency * 1000:.0f} ms")
    ROWS[5].add(rss, f"{rss:.0f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--runs", type=int, default=3, help="repeat every case; the median ratio is judged")
    parser.add_argument("--fhir-memory", action="store_true", help="run case 6 only (worker RSS under maximum FHIR sizes)")
    args = parser.parse_args()
    if args.fhir_memory:
        return fhir_memory_case()

    fixture = typical_fixture()
    fhir, fhir_base = start_fhir_server(fixture)
    server, base = start_service(fixture, fhir_base, args.workers)
    try:
        session = requests.Session()
        entry = next(s for s in session.get(f"{base}/cds-services").json()["services"] if s["id"] == SERVICE)
        typical = with_routine_data(build_request(fixture, entry, prefetch=True), routine_record(fixture.patient_id, fixture.now))
        resource_count = sum(len(v.get("entry", [])) if v and v.get("resourceType") == "Bundle" else 1
                             for v in typical["prefetch"].values() if v)
        hook_url = f"{base}/cds-services/{SERVICE}"
        expected = sorted(fixture.expected)
        for name, body in (("warm", json.dumps(typical).encode()), ("cold", fresh_body(fresh_template(typical)))):
            got = card_codes(session, hook_url, body)
            if got != expected:
                raise SystemExit(f"{name} record: cards {got}, the fixture expects {expected}")
        for _ in range(args.runs):
            measure(args, fixture, entry, base, fhir_base, server.pid)
    finally:
        server.terminate()
        server.wait(timeout=15)
        fhir.shutdown()

    print(f"fixture: {fixture.id} + routine labs ({resource_count} resources in the prefetch), workers: {args.workers}, "
          f"cores: {os.cpu_count()}, python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}, "
          f"runs: {args.runs}")
    print(f"{'case':34} {'median':>7} {'target':>7}  {'ok':4}  per run: ratio (measured)")
    for row in ROWS:
        runs = ", ".join(f"{r:.2f} ({s})" for r, s in zip(row.ratios, row.shown))
        print(f"{row.name:34} {row.median:>7.2f} {row.target:>7}  {'PASS' if row.passes(row.median) else 'FAIL':4}  {runs}")
    return 0 if all(row.passes(row.median) for row in ROWS) else 1


if __name__ == "__main__":
    sys.exit(main())
