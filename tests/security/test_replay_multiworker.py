"""A replayed JWT is refused even when the replay reaches another gunicorn worker.

Starts `cds-service serve --workers 2` on a free loopback port with a temporary SQLite
database and a trusted-clients file, and talks to it over real, fresh HTTP connections.
The server is always terminated.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from cds_service.auth.testkit import cds_claims, jwks_of, new_es384_key, write_trusted_clients
from tests.helpers.servers import free_port, workers_booted

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
ISS = "https://ehr.example.org/multiworker"
STARTUP_TIMEOUT = 60.0



def serve_command(port: int) -> list[str]:
    installed = shutil.which("cds-service")
    base = [installed] if installed else [sys.executable, "-m", "cds_service.cli"]
    return base + ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]




@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module: each test signs tokens of its own, so they cannot interfere."""
    tmp_path = tmp_path_factory.mktemp("multiworker")
    key = new_es384_key("multiworker-1")
    clients = write_trusted_clients(tmp_path / "trusted-clients.json", [{"iss": ISS, "jwks": jwks_of([key])}])
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CDS_AUTH": "required",
        "CDS_TRUSTED_CLIENTS": str(clients),
        "CDS_DATABASE_URL": f"sqlite:///{tmp_path / 'cds.db'}",
        "CDS_PUBLIC_BASE_URL": base_url,
        "CDS_LOG_LEVEL": "WARNING",
        "CDS_TRUST_CDS_HOOKS_SANDBOX": "false",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])),
    }
    (tmp_path / "metrics").mkdir()
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            serve_command(port), cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_until_healthy(base_url, process, log_path)
        yield base_url, key, process
    finally:
        stop(process)


def wait_until_healthy(base_url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            if requests.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"the server did not become healthy in {STARTUP_TIMEOUT} s:\n{log_path.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    """Stop the gunicorn master we started and its workers (its own process group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def discovery(base_url: str, token: str) -> int:
    """One GET /cds-services on a fresh connection (a new session, Connection: close)."""
    with requests.Session() as session:
        response = session.get(
            f"{base_url}/cds-services",
            headers={"Authorization": f"Bearer {token}", "Connection": "close"},
            timeout=10,
        )
    return response.status_code


def test_replay_is_refused_across_workers(server):
    base_url, key, process = server
    assert len(workers_booted(process.pid, 2)) == 2, "expected gunicorn to run two workers"

    def token() -> str:
        return key.sign(cds_claims(ISS, f"{base_url}/cds-services"))

    distinct = [discovery(base_url, token()) for _ in range(10)]
    assert distinct == [200] * 10

    replayed = token()
    assert discovery(base_url, replayed) == 200
    assert discovery(base_url, replayed) == 401
    # More replays on fresh connections: with two workers some land on the other one.
    assert [discovery(base_url, replayed) for _ in range(10)] == [401] * 10


def test_concurrent_replays_let_exactly_one_through(server):
    base_url, key, _ = server
    for _ in range(3):
        racing = key.sign(cds_claims(ISS, f"{base_url}/cds-services"))
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = sorted(pool.map(lambda _: discovery(base_url, racing), range(8)))
        assert statuses == [200] + [401] * 7
