"""A non-editable install, run from an empty folder, serves the fixtures and answers the README's example.

`evaluate` and `load-fixtures` find the bundled fixtures there too.

Builds a wheel from exactly the files the Docker image gets, installs it (no dependencies)
into a fresh virtual environment that borrows this environment's installed dependencies,
and runs `cds-service serve --dev` there on a free loopback port, without PYTHONPATH and far
from the checkout. Then the server is stopped and nothing of it may be left in its TMPDIR.
"""
from __future__ import annotations

import json
import os
import re
import signal
import site
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest
import requests

from tests.helpers.distribution import REPO, copy_image_files
from tests.helpers.servers import free_port

pytestmark = pytest.mark.slow

STARTUP_TIMEOUT = 30.0



def readme_example(port: int) -> tuple[str, dict]:
    """(URL, JSON body) of the README's curl POST, moved to `port`."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    command = re.search(r"curl -s -X POST (\S+).*?-d '(.*?)'", readme, re.DOTALL)
    assert command, "the README has a curl POST example"
    url, body = (part.replace("127.0.0.1:8080", f"127.0.0.1:{port}") for part in command.groups())
    return url, json.loads(body)


def run(command: list, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, **kwargs)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed; dependencies come from this environment's site-packages."""
    work = tmp_path_factory.mktemp("wheel")
    source = copy_image_files(work / "source")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(source)])
    wheel = next((work / "dist").glob("iliac_vein_cds-*.whl"))
    target = work / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(target)])
    python = target / "bin" / "python"
    purelib = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    # A plain path in a .pth file: the borrowed site-packages' own .pth files (an editable install) stay inert.
    borrowed = {*site.getsitepackages(), sysconfig.get_paths()["purelib"]}
    (purelib / "borrowed-dependencies.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)])
    return target


def clean_env(home: Path, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDS_", "PYTHON", "PROMETHEUS_"))}
    return {**env, "HOME": str(home), "TMPDIR": str(tmp), "CDS_LOG_LEVEL": "WARNING"}


def test_the_installed_package_is_the_wheel_with_its_fixtures(venv, tmp_path):
    code = "import cds_service, cds_service.fixtures as f; print(cds_service.__file__); print(len(f.fixture_paths()))"
    done = run([str(venv / "bin" / "python"), "-c", code], cwd=tmp_path, env=clean_env(tmp_path, tmp_path))
    location, count = done.stdout.split()
    assert Path(location).is_relative_to(venv)
    assert int(count) == len(list((REPO / "fhir_fixtures").glob("*.json")))
    version = run([str(venv / "bin" / "cds-service"), "--version"], cwd=tmp_path, env=clean_env(tmp_path, tmp_path))
    assert version.stdout.strip() == "cds-service 0.1.0"


def test_evaluate_and_load_fixtures_find_the_bundled_fixtures(venv, tmp_path):
    env = clean_env(tmp_path, tmp_path)
    command = str(venv / "bin" / "cds-service")
    evaluate = run([command, "evaluate", "--hook", "patient-view", "fhir_fixtures/left-leg-swelling-no-imaging.json"],
                   cwd=tmp_path, env=env)
    assert "DVT-DUPLEX" in evaluate.stdout
    # A closed port: every post fails at once, but the command has found and read every fixture.
    closed = f"http://127.0.0.1:{free_port()}/fhir"
    load = subprocess.run([command, "load-fixtures", "--fhir-server", closed], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    count = len(list((REPO / "fhir_fixtures").glob("*.json")))
    assert load.returncode == 1 and "no fixture files found" not in load.stderr
    assert f"[{count}/{count}]" in load.stderr and f"loaded 0 of {count} fixtures" in load.stderr


def test_serve_dev_from_an_empty_folder_answers_the_readme_example(venv, tmp_path):
    empty, home, tmp = tmp_path / "empty", tmp_path / "home", tmp_path / "tmp"
    for folder in (empty, home, tmp):
        folder.mkdir()
    port = free_port()
    log_path = tmp_path / "server.log"
    command = [str(venv / "bin" / "cds-service"), "serve", "--dev", "--port", str(port), "--workers", "1"]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, cwd=empty, env=clean_env(home, tmp), stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        wait_until_healthy(port, server, log_path)
        assert requests.get(f"http://127.0.0.1:{port}/fixtures-fhir/Patient/left-leg-swelling-no-imaging",
                            timeout=10).status_code == 200
        url, body = readme_example(port)
        answer = requests.post(url, json=body, timeout=30)
        assert answer.status_code == 200, answer.text[:500]
        assert answer.json()["cards"], "the README's example answers with cards"
    finally:
        stop(server)
    assert "NO FIXTURE PATIENTS FOUND" not in log_path.read_text(errors="replace")
    assert sorted(p.name for p in tmp.iterdir()) == [], "serve left files in its TMPDIR"


def wait_until_healthy(port: int, server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"serve exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"serve was not healthy after {STARTUP_TIMEOUT} s:\n{log_path.read_text()[-3000:]}")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=5)
