"""What a person sees: the rule pages and the override report, rendered by headless Chromium.

The Flask app is served on a free loopback port; Chromium (Debian's package,
installed by `.ci/run`) loads each page and hands back the rendered DOM or a
screenshot. Assertions are on the text a reader sees, not on the HTML source.

Set CDS_SCREENSHOT_DIR to keep the screenshots (`docs/images/` is regenerated with
`CDS_SCREENSHOT_DIR=docs/images python -m pytest tests/web/test_browser.py -k screenshot`).
"""
from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import tempfile
import threading
import zlib
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterator
from urllib.parse import urljoin
from urllib.request import urlopen

import pytest

from cds_service.config import Settings
from cds_service.protocol.feedback import FeedbackEntry
from cds_service.rules.registry import rule_by_id
from cds_service.store.repository import Store, hash_patient, make_engine

pytestmark = pytest.mark.browser

CHROMIUM_TIMEOUT_S = 60
SCREEN_WIDTH, SCREEN_HEIGHT = 1280, 1600
# Only loopback names resolve: a page that tried to load anything from outside would fail visibly.
KEEP_ON_LOOPBACK = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


# ---------------------------------------------------------------- chromium

def _chromium_path() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if found:
        return found
    message = "headless Chromium is not installed (apt-get install chromium; .ci/run does it)"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests: {message}")
    pytest.skip(message)


@pytest.fixture(scope="module")
def chromium() -> str:
    return _chromium_path()


def _run_chromium(chromium: str, *args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="cds-chromium-") as profile:
        command = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--host-resolver-rules={KEEP_ON_LOOPBACK}", f"--user-data-dir={profile}", *args,
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S)
    assert result.returncode == 0, f"chromium exited {result.returncode}: {result.stderr[-2000:]}"
    return result


def dump_dom(chromium: str, url: str) -> str:
    dom = _run_chromium(chromium, "--dump-dom", url).stdout
    assert "<body" in dom, f"no DOM came back for {url}"
    return dom


def screenshot(chromium: str, url: str, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()
    _run_chromium(chromium, f"--screenshot={target.resolve()}", f"--window-size={SCREEN_WIDTH},{SCREEN_HEIGHT}",
                  "--hide-scrollbars", url)
    assert target.exists(), f"chromium wrote no screenshot for {url}"
    return target


def screenshot_target(tmp_path: Path, name: str) -> Path:
    keep = os.environ.get("CDS_SCREENSHOT_DIR")
    return Path(keep) / name if keep else tmp_path / name


# ---------------------------------------------------------------- reading what the browser shows

class _VisibleText(HTMLParser):
    """Text a reader sees (no <head>, <style>, <script>), plus every table row and link."""

    HIDDEN = {"head", "style", "script", "template", "noscript"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hidden_depth = 0
        self.chunks: list[str] = []
        self.rows: list[list[str]] = []
        self.links: list[str] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden_depth += 1
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)
        if tag in ("br", "p", "div", "tr", "td", "th", "h1", "h2", "li", "blockquote"):
            self.chunks.append(" ")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self.hidden_depth = max(0, self.hidden_depth - 1)
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(_squash("".join(self._cell)))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self.hidden_depth:
            return
        self.chunks.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class Page:
    def __init__(self, dom: str):
        parser = _VisibleText()
        parser.feed(dom)
        self.text = _squash("".join(parser.chunks))
        self.rows = parser.rows
        self.links = parser.links

    def row_starting(self, first_cell: str) -> list[str]:
        matches = [row for row in self.rows if row and row[0] == first_cell]
        assert matches, f"no table row for {first_cell!r}; rows: {[r[:1] for r in self.rows]}"
        return matches[0]


# ---------------------------------------------------------------- PNG check (no imaging library needed)

def png_summary(path: Path) -> tuple[int, int, int]:
    """(width, height, distinct byte values of the image data): a blank page has very few."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    position, width, height, compressed = 8, 0, 0, bytearray()
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind = data[position + 4:position + 8]
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            compressed += body
        position += 12 + length
    pixels = zlib.decompress(bytes(compressed))
    return width, height, len(set(pixels))


def assert_real_screenshot(path: Path) -> None:
    width, height, distinct = png_summary(path)
    assert (width, height) == (SCREEN_WIDTH, SCREEN_HEIGHT)
    # Rendered text and coloured badges give dozens of byte values; an empty white page gives 2 or 3.
    assert distinct > 20, f"{path} looks blank ({distinct} distinct byte values)"


# ---------------------------------------------------------------- the service on loopback

@pytest.fixture(scope="module")
def service_url(tmp_path_factory) -> Iterator[str]:
    from werkzeug.serving import make_server

    from cds_service.app import create_app

    database = tmp_path_factory.mktemp("browser-db") / "x.db"
    app = create_app(Settings(auth="off", database_url=f"sqlite:///{database}", log_level="WARNING"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


# ---------------------------------------------------------------- rule pages

def test_rule_index_lists_the_rules_of_both_hooks_and_every_link_opens_a_rule_page(chromium, service_url):
    page = Page(dump_dom(chromium, f"{service_url}/rules"))

    assert "rule catalogue" in page.text
    assert "Patient view" in page.text and "Orders" in page.text
    stent = page.row_starting("STENT-LENGTH")
    assert "critical" in stent and any("G:38" in cell for cell in stent)
    anticoagulate = page.row_starting("DVT-ANTICOAGULATE")
    assert "critical" in anticoagulate and any("G:8" in cell for cell in anticoagulate)

    rule_links = [urljoin(f"{service_url}/rules", href) for href in page.links if "rules/" in href]
    assert len(rule_links) >= 20, "the index should link every rule of RULES.md"
    assert f"{service_url}/rules/STENT-LENGTH" in rule_links
    for link in rule_links:
        with urlopen(link, timeout=10) as response:
            assert response.status == 200, link
            assert response.headers.get_content_type() == "text/html", link


def test_stent_length_page_shows_the_60_mm_minimum_its_evidence_and_the_guideline(chromium, service_url):
    page = Page(dump_dom(chromium, f"{service_url}/rules/STENT-LENGTH"))

    assert rule_by_id("STENT-LENGTH").title in page.text
    assert "STENT-LENGTH" in page.text
    assert "critical" in page.text
    assert "60 mm" in page.text
    threshold = page.row_starting("min_stent_length_mm")
    assert threshold[1] == "60", threshold
    assert "G:38" in threshold[3]
    assert "82.6" in page.text and "16.2" in page.text
    assert "Stent length must be ≥60 mm to minimize migration risk" in page.text
    assert "(G:38)" in page.text and "(G:52)" in page.text
    assert "Do not use stents <60 mm in length due to catastrophic migration risk" in page.text


def test_dvt_anticoagulate_page_shows_the_lmwh_regimen_and_its_settings(chromium, service_url):
    page = Page(dump_dom(chromium, f"{service_url}/rules/DVT-ANTICOAGULATE"))

    assert rule_by_id("DVT-ANTICOAGULATE").title in page.text
    assert "DVT-ANTICOAGULATE" in page.text
    assert "critical" in page.text
    assert "Initiate therapeutic anticoagulation immediately with low molecular weight heparin (LMWH) " \
           "twice daily at weight-adjusted doses" in page.text
    assert "(G:8)" in page.text
    assert page.row_starting("enoxaparin_mg_per_kg")[1] == "1"
    assert page.row_starting("egfr_renal_dosing")[1] == "30"
    assert page.row_starting("enoxaparin_rounding_mg")[1] == "10"


def test_unknown_rule_is_not_rendered_as_a_rule_page(chromium, service_url):
    page = Page(dump_dom(chromium, f"{service_url}/rules/NO-SUCH-RULE"))

    assert "No rule with this id" in page.text
    assert "Thresholds" not in page.text


def test_rule_page_screenshot_is_a_rendered_page(chromium, service_url, tmp_path):
    target = screenshot_target(tmp_path, "rule-page-stent-length.png")
    assert_real_screenshot(screenshot(chromium, f"{service_url}/rules/STENT-LENGTH", target))


# ---------------------------------------------------------------- override report

REPORT_NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
PATIENT_ID = "browser-test-patient-7"


def _card(uuid: str, rule_id: str, indicator: str, minutes: int) -> dict:
    return {
        "card_uuid": uuid,
        "rule_id": rule_id,
        "indicator": indicator,
        "service_id": "iliac-vein-order-sign" if rule_id.startswith("STENT") else "iliac-vein-patient-view",
        "hook_instance": f"hook-{uuid}",
        "patient_hash": hash_patient(PATIENT_ID, "browser-test-salt"),
        "issued_at": REPORT_NOW + timedelta(minutes=minutes),
    }


def _overridden(uuid: str, code: str, display: str, comment: str = "") -> FeedbackEntry:
    return FeedbackEntry(card=uuid, outcome="overridden", outcome_timestamp=REPORT_NOW + timedelta(hours=1),
                         override_system="http://iliac-vein-cds.org/fhir/CodeSystem/override-reason",
                         override_code=code, override_display=display, user_comment=comment)


def _accepted(uuid: str) -> FeedbackEntry:
    return FeedbackEntry(card=uuid, outcome="accepted", outcome_timestamp=REPORT_NOW + timedelta(hours=1),
                         accepted_suggestions=(f"suggestion-{uuid}",))


@pytest.fixture
def report_file(tmp_path) -> Path:
    from cds_service.report_formats import as_html
    from cds_service.store.report import build_report

    store = Store(make_engine(f"sqlite:///{tmp_path}/report.db"))
    store.record_cards([
        _card("c-stent-1", "STENT-LENGTH", "critical", 0),
        _card("c-stent-2", "STENT-LENGTH", "critical", 5),
        _card("c-stent-3", "STENT-LENGTH", "critical", 10),
        _card("c-anticoag-1", "DVT-ANTICOAGULATE", "critical", 15),
        _card("c-anticoag-2", "DVT-ANTICOAGULATE", "critical", 20),
        _card("c-workup-1", "NIVL-WORKUP", "info", 25),
        _card("c-filter-1", "IVC-FILTER-NOT-INDICATED", "warning", 30),
        _card("c-filter-2", "IVC-FILTER-NOT-INDICATED", "warning", 35),
        _card("c-filter-3", "IVC-FILTER-NOT-INDICATED", "warning", 40),
    ])
    store.store_feedback("iliac-vein-order-sign", [
        _accepted("c-stent-1"),
        _overridden("c-stent-2", "sized-on-table", "Length chosen on the table from IVUS", "IVUS length 64 mm"),
        _overridden("c-stent-3", "sized-on-table", "Length chosen on the table from IVUS"),
    ])
    store.store_feedback("iliac-vein-order-sign", [
        _accepted("c-filter-1"),
        _accepted("c-filter-2"),
        _overridden("c-filter-3", "contraindication-not-coded", "Contraindication not coded in the record",
                    "Recent intracranial bleed, see neurosurgery note"),
    ])
    store.store_feedback("iliac-vein-patient-view", [_accepted("c-anticoag-1")])
    target = tmp_path / "override-report.html"
    target.write_text(as_html(build_report(store)), encoding="utf-8")
    return target


def test_override_report_shows_rates_reasons_and_comments_per_rule(chromium, report_file):
    dom = dump_dom(chromium, report_file.as_uri())
    page = Page(dom)

    assert "Card override report" in page.text
    stent = page.row_starting("STENT-LENGTH")
    assert stent[1:5] == ["3", "1", "2", "67%"], stent
    assert "Length chosen on the table from IVUS (2)" in stent[5]
    assert "IVUS length 64 mm" in stent[6]
    anticoagulate = page.row_starting("DVT-ANTICOAGULATE")
    assert anticoagulate[1:5] == ["2", "1", "0", "0%"], anticoagulate
    ivc_filter = page.row_starting("IVC-FILTER-NOT-INDICATED")
    assert ivc_filter[1:5] == ["3", "2", "1", "33%"], ivc_filter
    assert "Contraindication not coded in the record (1)" in ivc_filter[5]
    workup = page.row_starting("NIVL-WORKUP")
    assert workup[1:5] == ["1", "0", "0", "-"], workup
    # The most overridden rule comes first, in the chart and in the table.
    order = [page.text.index(rule) for rule in
             ("STENT-LENGTH", "IVC-FILTER-NOT-INDICATED", "DVT-ANTICOAGULATE", "NIVL-WORKUP")]
    assert order == sorted(order), order
    stent_bar = r'<code>STENT-LENGTH</code>\s*<div class="bar"><div class="fill\s*" style="width:\s*67%'
    assert re.search(stent_bar, dom), "the STENT-LENGTH bar should be 67 % wide and red (50 % or more)"
    filter_bar = r'<code>IVC-FILTER-NOT-INDICATED</code>\s*<div class="bar"><div class="fill mid" style="width:\s*33%'
    assert re.search(filter_bar, dom), "the IVC filter bar should be 33 % wide and amber (20 to 49 %)"
    assert PATIENT_ID not in dom and hash_patient(PATIENT_ID, "browser-test-salt") not in dom


def test_override_report_screenshot_is_a_rendered_page(chromium, report_file, tmp_path):
    target = screenshot_target(tmp_path, "override-report.png")
    assert_real_screenshot(screenshot(chromium, report_file.as_uri(), target))


# ---------------------------------------------------------------- override report with site governance (issue 13)

def _governed(uuid: str, rule_id: str, status: str, minutes: int, repeats: str = "") -> dict:
    return dict(_card(uuid, rule_id, "info" if rule_id == "NIVL-WORKUP" else "warning", minutes),
                status=status, repeats_card=repeats, fact_refs="[]", evidence_fingerprint="f" * 64)


def test_override_report_shows_silent_and_suppressed_counts_per_rule(chromium, tmp_path):
    from cds_service.report_formats import as_html
    from cds_service.store.report import build_report

    store = Store(make_engine(f"sqlite:///{tmp_path}/governed.db"))
    store.record_cards(
        [_governed(f"silent-{n}", "NIVL-WORKUP", "silent", n) for n in range(4)]
        + [_governed("duplex-1", "DVT-DUPLEX", "issued", 0)]
        + [_governed(f"duplex-again-{n}", "DVT-DUPLEX", "suppressed", 10 + n, repeats="duplex-1") for n in range(2)]
    )
    store.store_feedback("iliac-vein-patient-view", [_overridden("duplex-1", "already-addressed", "Already ordered")])
    target = tmp_path / "governed-report.html"
    target.write_text(as_html(build_report(store)), encoding="utf-8")
    page = Page(dump_dom(chromium, target.as_uri()))

    header = page.row_starting("Rule")
    assert header[-2:] == ["Silent", "Suppressed"], header
    workup = page.row_starting("NIVL-WORKUP")
    assert workup[1:4] == ["0", "0", "0"] and workup[-2:] == ["4", "0"], workup
    duplex = page.row_starting("DVT-DUPLEX")
    assert duplex[1:5] == ["1", "0", "1", "100%"] and duplex[-2:] == ["0", "2"], duplex
    assert "Cards per rule" in page.text
    chart = page.text[page.text.index("Cards per rule"):page.text.index("Details")]
    assert "NIVL-WORKUP issued 0 accepted 0 overridden 0 silent 4 suppressed 0" in chart, chart
    assert "DVT-DUPLEX issued 1 accepted 0 overridden 1 silent 0 suppressed 2" in chart, chart
    target_png = screenshot_target(tmp_path, "override-report-governance.png")
    assert_real_screenshot(screenshot(chromium, target.as_uri(), target_png))
