"""A real `cds-service serve` (gunicorn, 2 workers) under protocol faults and a killed worker.

Promises (docs/operations.md, docs/deployment.md): a chunked body over the limit gets 413;
gunicorn's own errors are JSON; a 16 KiB JWT header passes; ten clients that stall mid-request
do not hold a hook call beyond the idle timeout; a worker killed under load costs only the
connections it held: no 5xx, no acknowledged feedback lost.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from cds_service.store.repository import Store, make_engine
from tests.helpers.faults import wait_for
from tests.helpers.servers import free_port, workers_booted

pytestmark = [pytest.mark.faults, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
IDLE_TIMEOUT = 2.0
MAX_BODY = 256 * 1024
SERVICE = "iliac-vein-patient-view"


def serve_command(port: int) -> list[str]:
    installed = shutil.which("cds-service")
    base = [installed] if installed else [sys.executable, "-m", "cds_service.cli"]
    return base + ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2", "--threads", "4"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("server")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    database_url = f"sqlite:///{tmp_path / 'cds.db'}"
    env = {**os.environ, "CDS_AUTH": "off", "CDS_DATABASE_URL": database_url, "CDS_LOG_LEVEL": "WARNING",
           "CDS_CLIENT_IDLE_TIMEOUT": str(IDLE_TIMEOUT), "CDS_MAX_BODY_BYTES": str(MAX_BODY),
           "CDS_REQUEST_BODY_TIMEOUT": "3", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")]))}
    (tmp_path / "metrics").mkdir()
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(serve_command(port), cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        if not wait_for(lambda: _healthy(base_url), 60, step=0.2):
            pytest.fail(f"the server did not start:\n{log_path.read_text()[-3000:]}")
        yield base_url, process, database_url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def _healthy(base_url: str) -> bool:
    try:
        return requests.get(f"{base_url}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def raw_exchange(base_url: str, data: bytes, timeout: float = 10) -> tuple[int, dict, bytes]:
    """Send raw bytes, read the whole answer (the server closes): (status, headers, body)."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer:
                head, _, body = answer.partition(b"\r\n\r\n")
                length = [int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")]
                if length and len(body) >= length[0]:
                    break
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers, body


def test_a_chunked_body_over_the_limit_gets_413(server):
    base_url, _, _ = server

    def chunks():
        for _ in range(MAX_BODY // 8192 + 4):
            yield b" " * 8192

    response = requests.post(f"{base_url}/cds-services/{SERVICE}", data=chunks(), timeout=10,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("request_bytes, status", [
    (b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"GET /cds-services HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + b"a" * 40_000 + b"\r\n\r\n", 431),
    (b"NOT A REQUEST\r\n\r\n", 400),
], ids=["request-line-too-long", "header-too-large", "malformed"])
def test_gunicorn_errors_are_json_operation_outcomes(server, request_bytes, status):
    got, headers, body = raw_exchange(server[0], request_bytes)
    assert got == status
    assert headers["Content-Type"] == "application/fhir+json"
    assert json.loads(body)["resourceType"] == "OperationOutcome"
    assert b"aaaa" not in body  # never echoes the request


def test_a_16_kib_jwt_header_passes(server):
    token = "e" * (16 * 1024)
    response = requests.get(f"{server[0]}/cds-services", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200


def test_stalled_clients_do_not_hold_a_hook_call(server, hook_body):
    base_url, _, _ = server
    host, port = base_url.removeprefix("http://").split(":")
    for _ in range(4):  # warm both workers: the first call of a worker loads its FHIR models
        requests.post(f"{base_url}/cds-services/{SERVICE}", json=hook_body, timeout=60)
    stalled = []
    for _ in range(10):  # each promises 1,000 bytes and sends 10: more than the 8 threads of 2 workers
        sock = socket.create_connection((host, int(port)))
        sock.sendall(f"POST /cds-services/{SERVICE} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Content-Length: 1000\r\n\r\n{\"hook\": \"".encode())
        stalled.append(sock)
    try:
        time.sleep(0.5)
        started = time.monotonic()
        response = requests.post(f"{base_url}/cds-services/{SERVICE}", json=hook_body, timeout=60)
        seconds = time.monotonic() - started
    finally:
        for sock in stalled:
            sock.close()
    assert response.status_code == 200
    assert seconds < IDLE_TIMEOUT + 3.0, f"the hook call waited {seconds:.1f} s behind stalled clients"


def test_a_worker_killed_under_load_costs_only_its_connections(server, hook_body):
    base_url, process, database_url = server
    results: list[tuple[str, int]] = []  # (kind, status); status 0 = connection failed
    acknowledged: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def client() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                body = dict(hook_body, hookInstance=str(uuid.uuid4()))
                try:
                    answer = session.post(f"{base_url}/cds-services/{SERVICE}", json=body, timeout=10)
                    with lock:
                        results.append(("hook", answer.status_code))
                    if answer.status_code != 200 or not answer.json()["cards"]:
                        continue
                    card = answer.json()["cards"][0]["uuid"]
                    feedback = {"feedback": [{"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-11-26T10:00:00Z",
                                              "overrideReason": {"userComment": card}}]}
                    answer = session.post(f"{base_url}/cds-services/{SERVICE}/feedback", json=feedback, timeout=10)
                    with lock:
                        results.append(("feedback", answer.status_code))
                        if answer.status_code == 200:
                            acknowledged.append(card)
                except requests.RequestException:
                    with lock:
                        results.append(("connection", 0))

    threads = [threading.Thread(target=client) for _ in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    victims = sorted(workers_booted(process.pid, 2))
    assert len(victims) == 2
    os.kill(victims[0], signal.SIGKILL)
    time.sleep(2.5)  # the master starts a new worker; load goes on
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    server_errors = [status for _, status in results if status >= 500]
    dropped = [kind for kind, status in results if status == 0]
    assert not server_errors, f"{len(server_errors)} x 5xx"
    assert len(dropped) <= 6, f"{len(dropped)} connections failed; only those the killed worker held may"
    stored = {row.card_uuid for row in Store(make_engine(database_url)).feedback()}
    assert acknowledged and set(acknowledged) <= stored, f"{len(set(acknowledged) - stored)} acknowledged feedback lost"
    assert len(workers_booted(process.pid, 2)) == 2
