"""The pathway app as a browser shows it: headless Chromium follows a whole dev-mode EHR launch
(launch -> authorize -> callback -> page) on loopback and gets the page with its SVG timeline.

`CDS_SCREENSHOT_DIR=docs/images python -m pytest tests/web/test_smart_app_browser.py` keeps the
screenshot of docs/images/smart-app-pathway.png.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote
from urllib.request import Request, urlopen

import pytest

from cds_service.config import Settings
from cds_service.fixtures import all_fixtures

pytestmark = pytest.mark.browser

PATIENT = "may-thurner-stent-candidate"
STENT_PATIENT = "stent-1000-days-yearly-surveillance-current"  # the most marks of any fixture
KEEP_ON_LOOPBACK = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
WIDTH, HEIGHT = 1280, 1000


def _chromium() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("CI must run the browser tests: headless Chromium is not installed")
    pytest.skip("headless Chromium is not installed (apt-get install chromium; .ci/run does it)")


def _run(*args: str) -> str:
    with tempfile.TemporaryDirectory(prefix="cds-chromium-") as profile:
        command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   f"--host-resolver-rules={KEEP_ON_LOOPBACK}", f"--user-data-dir={profile}", *args]
        result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    from werkzeug.serving import make_server

    from cds_service.app import create_app

    now = next(f.now for f in all_fixtures() if f.id == PATIENT)
    database = tmp_path_factory.mktemp("smart-db") / "x.db"
    settings = Settings(auth="off", database_url=f"sqlite:///{database}", dev_mode=True, log_level="WARNING",
                        fhir_allowlist=("http://127.0.0.1:*",), fhir_open_servers=("http://127.0.0.1:*",),
                        clock=lambda: now)
    httpd = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)


def launch_url(server: str, patient: str, app_context: str = "") -> str:
    """What the CDS Hooks sandbox does with a smart link: ask the FHIR server for a launch id first."""
    body = json.dumps({"launchUrl": f"{server}/app/launch",
                       "parameters": {"patient": patient, "appContext": app_context}}).encode()
    request = Request(f"{server}/fixtures-fhir/_services/smart/Launch", data=body,
                      headers={"Content-Type": "application/json"})
    with urlopen(request, timeout=10) as response:
        launch_id = json.load(response)["launch_id"]
    return f"{server}/app/launch?iss={quote(server + '/fixtures-fhir', safe='')}&launch={quote(launch_id, safe='')}"


def test_the_launch_ends_on_the_pathway_page_with_its_svg_timeline(server):
    dom = _run("--dump-dom", launch_url(server, PATIENT, "NIVL-STENT-CANDIDATE"))

    svg = re.search(r'<svg id="pathway-timeline".*?</svg>', dom, re.DOTALL)
    assert svg, "the page has no SVG timeline"
    lanes = re.findall(r'<g class="lane" id="lane-(\w+)" data-state="([\w-]+)"', svg.group(0))
    assert lanes == [("dvt", "excluded"), ("lesion", "nivl-confirmed"), ("stent", "none")]
    assert re.search(r'<line id="ivus-threshold"', svg.group(0))
    assert "IVUS threshold 61 %" in svg.group(0)
    assert 'data-date="2026-11-16" data-value="75 %"' in svg.group(0)  # the IVUS mark, by value
    assert "Pat Fixture" in dom and "15 to 18 mm" in dom
    assert "access_token" not in dom and "dev-" not in dom  # the token never reaches the page


def test_the_page_prints_on_one_page(server, tmp_path):
    pdf = tmp_path / "pathway.pdf"
    _run(f"--print-to-pdf={pdf}", "--no-pdf-header-footer", launch_url(server, STENT_PATIENT, "POST-STENT-FOLLOWUP"))
    pages = re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes())
    assert len(pages) == 1, f"{len(pages)} printed pages"


@pytest.mark.parametrize("name,patient,app_context", [
    ("smart-app-pathway.png", PATIENT, "NIVL-STENT-CANDIDATE"),
    ("smart-app-pathway-stent.png", STENT_PATIENT, "POST-STENT-FOLLOWUP"),
])
def test_screenshot_of_the_pathway_view(server, tmp_path, name, patient, app_context):
    keep = os.environ.get("CDS_SCREENSHOT_DIR")
    target = (Path(keep) if keep else tmp_path) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    _run(f"--screenshot={target.resolve()}", f"--window-size={WIDTH},{HEIGHT}", "--hide-scrollbars",
         launch_url(server, patient, app_context))
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 30_000, "no rendered screenshot"
