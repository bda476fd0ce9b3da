"""Benchmark a real `cds-service serve` on loopback and print the five figures of issue 6.

Run by hand:  python benchmarks/run.py [--workers N] [--rounds N] [--seconds S]

Every figure is a ratio measured in the same run, so it holds on any machine:
1. typical patient-view latency / GET /healthz latency            (target <= 3)
2. patient-view + 5,000 irrelevant Observations / json.loads of it (target <= 4)
3. no prefetch, FHIR server answering after 200 ms / 200 ms       (target <= 1.6)
4. patient-view requests/s / /healthz requests/s, 8 clients       (target >= 0.4)
5. peak RSS of a worker after case 2                              (target < 300 MB)

A separate case, `python benchmarks/run.py --fhir-memory` (issue 11):
6. peak RSS of one worker (1 worker, 8 threads) serving 8 concurrent calls without prefetch whose
   FHIR server answers each key with the most the service will read: responses that fill the
   per-call byte cap exactly (all parsed), then 20 MB responses (cut at the cap)  (target < 300 MB)
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
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


def fresh_content(request: dict) -> dict:
    """The same record with every resource's content new (meta.versionId): nothing cached applies."""
    version = uuid.uuid4().hex
    fresh = copy.deepcopy(request)
    for value in fresh["prefetch"].values():
        resources = [e["resource"] for e in value.get("entry", [])] if value and value.get("resourceType") == "Bundle" else [value]
        for resource in resources:
            if resource:
                resource["meta"] = {"versionId": version}
    return fresh


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


def median_latency(session: requests.Session, method: str, url: str, rounds: int, body: bytes | None = None,
                   fresh_body=None) -> float:
    timings = []
    for _ in range(rounds):
        data = fresh_body() if fresh_body else body
        started = time.perf_counter()
        response = session.request(method, url, data=data, headers={"Content-Type": "application/json"})
        timings.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}: {response.text[:300]}")
    return statistics.median(timings)


def throughput(url: str, method: str, seconds: float, clients: int, fresh_body=None) -> float:
    stop = time.perf_counter() + seconds
    counts = [0] * clients

    def client(index: int) -> None:
        session = requests.Session()
        while time.perf_counter() < stop:
            data = fresh_body() if fresh_body else None
            response = session.request(method, url, data=data, headers={"Content-Type": "application/json"})
            if response.status_code == 200:
                counts[index] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - started)


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

    def do_GET(self):  # noqa: N802 (http.server API)
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
        for label, size in (("responses filling the call cap", call_cap // searches - 4096), ("unannounced responses of 20 MB", response_cap - 4096)):
            BigFhir.body = searchset_of_size(fixture.patient_id, size)
            statuses: list[int] = []

            def call() -> None:
                body = dict(request, hookInstance=str(uuid.uuid4()))
                statuses.append(requests.post(f"{base}/cds-services/{SERVICE}", json=body, timeout=60).status_code)

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--rounds", type=int, default=80)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--fhir-memory", action="store_true", help="run case 6 only (worker RSS under maximum FHIR sizes)")
    args = parser.parse_args()
    if args.fhir_memory:
        return fhir_memory_case()

    fixture = typical_fixture()
    store = FixtureStore([fixture])
    fhir_port, cds_port = free_port(), free_port()
    fhir_base = f"http://127.0.0.1:{fhir_port}/fhir"
    SlowFhir.store, SlowFhir.base = store, fhir_base
    fhir = ThreadingHTTPServer(("127.0.0.1", fhir_port), SlowFhir)
    threading.Thread(target=fhir.serve_forever, daemon=True).start()

    workdir = tempfile.mkdtemp(prefix="cds-bench-")
    env = dict(os.environ, CDS_AUTH="off", CDS_DATABASE_URL=f"sqlite:///{workdir}/bench.db",
               CDS_FHIR_ALLOWLIST=fhir_base, CDS_FIXED_NOW=fixture.now.isoformat(), CDS_LOG_LEVEL="WARNING")
    server = subprocess.Popen(
        [sys.executable, "-m", "cds_service.cli", "serve", "--port", str(cds_port), "--workers", str(args.workers)],
        env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{cds_port}"
    try:
        for _ in range(100):
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            raise SystemExit("the service did not start")
        session = requests.Session()
        entry = next(s for s in session.get(f"{base}/cds-services").json()["services"] if s["id"] == SERVICE)
        hook_url = f"{base}/cds-services/{SERVICE}"

        def with_new_instance(request: dict):
            def make() -> bytes:
                request["hookInstance"] = str(uuid.uuid4())
                return json.dumps(request).encode()
            return make

        typical = with_routine_data(build_request(fixture, entry, prefetch=True),
                                    routine_record(fixture.patient_id, fixture.now))
        resource_count = sum(len(v.get("entry", [])) if v and v.get("resourceType") == "Bundle" else 1
                             for v in typical["prefetch"].values() if v)
        expected_rules = sorted(fixture.expected)
        got = sorted(c["source"]["topic"]["code"] for c in session.post(hook_url, json=typical).json()["cards"])
        if got != expected_rules:
            print(f"warning: cards {got} differ from the fixture's expectation {expected_rules}")

        # 1. typical patient-view vs /healthz
        median_latency(session, "GET", f"{base}/healthz", 10)
        healthz = median_latency(session, "GET", f"{base}/healthz", args.rounds)
        # steady state: every worker has imported its FHIR models and seen this record once
        median_latency(session, "POST", hook_url, 20, fresh_body=with_new_instance(typical))
        typical_latency = median_latency(session, "POST", hook_url, args.rounds, fresh_body=with_new_instance(typical))

        def cold_body() -> bytes:
            request = fresh_content(typical)
            request["hookInstance"] = str(uuid.uuid4())
            return json.dumps(request).encode()

        cold_latency = median_latency(session, "POST", hook_url, args.rounds, fresh_body=cold_body)

        # 2. 5,000 irrelevant Observations vs json.loads of the same body
        large = copy.deepcopy(typical)
        observations = large["prefetch"]["observations"]
        observations.setdefault("entry", []).extend(
            {"resource": r} for r in irrelevant_observations(fixture.patient_id, 5000))
        large_body = json.dumps(large).encode()
        parse_times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            json.loads(large_body)
            parse_times.append(time.perf_counter() - started)
        parse = statistics.median(parse_times)
        large_latency = median_latency(session, "POST", hook_url, max(10, args.rounds // 2),
                                       fresh_body=with_new_instance(large))
        rss = max(peak_rss_mb(pid) for pid in worker_pids(server.pid))

        # 3. no prefetch: every search answered by the FHIR server after 200 ms
        remote = build_request(fixture, entry, prefetch=False, fhir_server=fhir_base, access_token="bench-token")
        remote_latency = median_latency(session, "POST", hook_url, max(10, args.rounds // 2),
                                        fresh_body=with_new_instance(remote))

        # 4. throughput with 8 concurrent clients
        healthz_rps = throughput(f"{base}/healthz", "GET", args.seconds, 8)
        hook_rps = throughput(hook_url, "POST", args.seconds, 8, fresh_body=with_new_instance(typical))
    finally:
        server.terminate()
        server.wait(timeout=15)
        fhir.shutdown()

    rows = [
        ("1 typical patient-view", f"{typical_latency * 1000:.1f} ms", f"healthz {healthz * 1000:.1f} ms",
         typical_latency / healthz, "<= 3", typical_latency / healthz <= 3),
        ("1b same, every resource new", f"{cold_latency * 1000:.1f} ms", f"healthz {healthz * 1000:.1f} ms",
         cold_latency / healthz, "(none)", True),
        ("2 + 5,000 Observations", f"{large_latency * 1000:.1f} ms", f"json.loads {parse * 1000:.1f} ms",
         large_latency / parse, "<= 4", large_latency / parse <= 4),
        ("3 no prefetch, FHIR 200 ms", f"{remote_latency * 1000:.1f} ms", "200 ms",
         remote_latency / FHIR_DELAY, "<= 1.6", remote_latency / FHIR_DELAY <= 1.6),
        ("4 throughput, 8 clients", f"{hook_rps:.0f} req/s", f"healthz {healthz_rps:.0f} req/s",
         hook_rps / healthz_rps, ">= 0.4", hook_rps / healthz_rps >= 0.4),
        ("5 worker peak RSS", f"{rss:.0f} MB", "", rss, "< 300 MB", rss < 300),
    ]
    print(f"fixture: {fixture.id} + routine labs ({resource_count} resources in the prefetch), workers: {args.workers}, "
          f"cores: {os.cpu_count()}, python {sys.version.split()[0]}")
    print(f"{'case':28} {'measured':>14} {'reference':>22} {'ratio':>8} {'target':>9}  ok")
    for name, measured, reference, ratio, target, ok in rows:
        print(f"{name:28} {measured:>14} {reference:>22} {ratio:>8.2f} {target:>9}  {'yes' if ok else 'NO'}")
    return 0 if all(row[-1] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
