import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from cds_service.cli import main
from cds_service.protocol.feedback import parse_feedback
from cds_service.report_formats import as_csv, as_html, as_json, as_table
from cds_service.store.report import build_report
from cds_service.store.repository import Store, make_engine

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


def issue(store, uuid, rule, when=NOW):
    store.record_cards([{"card_uuid": uuid, "rule_id": rule, "indicator": "critical", "service_id": "svc",
                         "hook_instance": "h", "patient_hash": "x" * 64, "issued_at": when}])


def override(uuid, code, display="", comment="", at="2026-11-26T12:01:00Z"):
    reason = {"reason": {"system": "http://x", "code": code, "display": display}}
    if comment:
        reason["userComment"] = comment
    return {"card": uuid, "outcome": "overridden", "overrideReason": reason, "outcomeTimestamp": at}


def accept(uuid, at="2026-11-26T12:01:00Z"):
    return {"card": uuid, "outcome": "accepted", "acceptedSuggestions": [{"id": "s"}], "outcomeTimestamp": at}


@pytest.fixture
def store(tmp_path):
    store = Store(make_engine(f"sqlite:///{tmp_path}/r.db"))
    for n in range(4):
        issue(store, f"len-{n}", "STENT-LENGTH")
    issue(store, "ivus-0", "STENT-IVUS-REQUIRED")
    issue(store, "old-0", "DVT-DUPLEX", when=NOW - timedelta(days=60))
    store.store_feedback("svc", parse_feedback({"feedback": [
        override("len-0", "anatomy-confirmed", "Anatomy confirmed", comment="short landing zone"),
        override("len-1", "anatomy-confirmed", "Anatomy confirmed"),
        override("len-2", "will-revise", "Will revise"),
        accept("len-3"),
        accept("ivus-0"),
        # a card first overridden then accepted counts once, as accepted (latest wins)
        override("old-0", "not-applicable", "N/A", at="2026-10-01T00:00:00Z"),
        accept("old-0", at="2026-10-02T00:00:00Z"),
    ]}))
    return store


def test_report_counts_and_rates(store):
    reports = {r.rule_id: r for r in build_report(store)}
    length = reports["STENT-LENGTH"]
    assert (length.issued, length.accepted, length.overridden) == (4, 1, 3)
    assert length.override_rate == pytest.approx(0.75)
    assert length.top_reasons()[0] == ("Anatomy confirmed", 2)
    assert length.comments == ["short landing zone"]
    assert reports["STENT-IVUS-REQUIRED"].override_rate == 0
    assert (reports["DVT-DUPLEX"].accepted, reports["DVT-DUPLEX"].overridden) == (1, 0)


def test_report_since_excludes_older_cards(store):
    rules = [r.rule_id for r in build_report(store, since=NOW - timedelta(days=30))]
    assert "DVT-DUPLEX" not in rules and "STENT-LENGTH" in rules


def test_four_formats(store):
    reports = build_report(store)
    assert "STENT-LENGTH" in as_table(reports) and "75%" in as_table(reports)
    rows = list(csv.DictReader(io.StringIO(as_csv(reports))))
    assert rows[0]["rule"] == "STENT-LENGTH" and rows[0]["override_rate"] == "75%"
    data = json.loads(as_json(reports))
    assert data["rules"][0]["overridden"] == 3 and data["rules"][0]["override_rate"] == 0.75
    page = as_html(reports)
    assert page.startswith("<!DOCTYPE html>") and "width:75%" in page and "short landing zone" in page


def test_html_escapes_comments(tmp_path):
    store = Store(make_engine(f"sqlite:///{tmp_path}/x.db"))
    issue(store, "c", "STENT-LENGTH")
    store.store_feedback("svc", parse_feedback({"feedback": [override("c", "x", comment="<script>alert(1)</script>")]}))
    page = as_html(build_report(store))
    assert "<script>alert" not in page and "&lt;script&gt;" in page


@pytest.mark.parametrize("fmt, marker", [("table", "override rate"), ("csv", "rule,issued"), ("json", '"rules"'),
                                         ("html", "<!DOCTYPE html>")])
def test_report_command(store, monkeypatch, capsys, fmt, marker):
    monkeypatch.setenv("CDS_DATABASE_URL", str(store.engine.url))
    assert main(["report", "--format", fmt]) == 0
    assert marker in capsys.readouterr().out


def test_report_command_writes_a_file(store, monkeypatch, tmp_path):
    monkeypatch.setenv("CDS_DATABASE_URL", str(store.engine.url))
    target = tmp_path / "report.html"
    assert main(["report", "--format", "html", "--output", str(target), "--since", "2026-11-01"]) == 0
    assert "STENT-LENGTH" in target.read_text() and "DVT-DUPLEX" not in target.read_text()


def test_report_command_rejects_a_bad_date(store, monkeypatch):
    monkeypatch.setenv("CDS_DATABASE_URL", str(store.engine.url))
    assert main(["report", "--since", "last week"]) == 2


def test_reason_codes_without_display_are_labelled(tmp_path):
    store = Store(make_engine(f"sqlite:///{tmp_path}/l.db"))
    issue(store, "c", "STENT-LENGTH")
    store.store_feedback("svc", parse_feedback({"feedback": [override("c", "anatomy-confirmed")]}))
    (report,) = build_report(store, reason_labels={"anatomy-confirmed": "Anatomy confirmed by the vascular team"})
    assert report.top_reasons() == [("Anatomy confirmed by the vascular team", 1)]
    (unlabelled,) = build_report(store)
    assert unlabelled.top_reasons() == [("anatomy-confirmed", 1)]
