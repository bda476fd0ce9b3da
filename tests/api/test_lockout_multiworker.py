"""The lockout holds whichever gunicorn worker answers: `cds-service serve --workers 2` on one SQLite file.

Every request goes on a fresh connection, so both workers serve some of them; the card answered
through one worker stays locked out on the other, and /metrics adds up both workers' counts.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.helpers.governance import card_of, fixture_request, rules_of, write_site
from tests.helpers.servers import free_port, workers_booted

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 60.0
IVUS_FIXTURE = "may-thurner-diagnosis-needs-ivus"




@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("lockout-workers")
    _, now = fixture_request(IVUS_FIXTURE)
    site = write_site(tmp_path, {"lockout_days": 7, "rules": {"NIVL-WORKUP": {"mode": "silent"}}})
    port = free_port()
    (tmp_path / "metrics").mkdir()
    env = {
        **os.environ,
        "CDS_AUTH": "off",
        "CDS_DATABASE_URL": f"sqlite:///{tmp_path / 'cds.db'}",
        "CDS_SITE_CONFIG": str(site),
        "CDS_FIXED_NOW": now.isoformat(),
        "CDS_LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])),
    }
    installed = shutil.which("cds-service")
    command = ([installed] if installed else [sys.executable, "-m", "cds_service.cli"]) + [
        "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2", "--threads", "2"]
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the server did not start:\n{log_path.read_text()[-3000:]}")
            try:
                if requests.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        yield base_url, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def post(url: str, body: dict) -> dict:
    with requests.Session() as session:  # a fresh connection: either worker may take it
        response = session.post(url, json=body, headers={"Connection": "close"}, timeout=20)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_card_answered_through_one_worker_stays_locked_out_on_both(server):
    base_url, process = server
    assert len(workers_booted(process.pid, 2)) == 2
    body, _ = fixture_request(IVUS_FIXTURE)
    service = f"{base_url}/cds-services/iliac-vein-patient-view"
    first = post(service, body)["cards"]
    assert rules_of(first) == ["NIVL-IVUS-REQUIRED"]  # NIVL-WORKUP is silent
    answered = card_of(first, "NIVL-IVUS-REQUIRED")
    post(f"{service}/feedback", {"feedback": [{"card": answered["uuid"], "outcome": "overridden",
                                               "outcomeTimestamp": "2026-11-26T12:00:00Z"}]})
    again = [rules_of(post(service, body)["cards"]) for _ in range(10)]
    assert again == [[]] * 10

    time.sleep(0.6)  # each worker's card log writes every 0.25 s; /metrics is read from both workers' files
    metrics = requests.get(f"{base_url}/metrics", timeout=10).text
    assert 'cds_cards_suppressed_total{rule="NIVL-IVUS-REQUIRED"} 10.0' in metrics
    assert 'cds_cards_silent_total{rule="NIVL-WORKUP"} 11.0' in metrics
