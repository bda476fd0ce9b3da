"""The override report with silent and suppressed counts, and one card's audit (issues 13 and 12)."""
from __future__ import annotations

import csv
import io
import json

import pytest

from cds_service.cli import main
from cds_service.report_formats import as_csv, as_html, as_json, as_table
from cds_service.store.report import build_report
from tests.helpers.governance import Service, card_of, fixture_request, write_site

IVUS_FIXTURE = "may-thurner-diagnosis-needs-ivus"  # NIVL-IVUS-REQUIRED (warning), NIVL-WORKUP (info)


@pytest.fixture
def used(tmp_path):
    """Three chart opens with NIVL-WORKUP silent and a 7-day lockout; NIVL-IVUS-REQUIRED answered after the first."""
    body, now = fixture_request(IVUS_FIXTURE)
    site = write_site(tmp_path, {"lockout_days": 7, "rules": {"NIVL-WORKUP": {"mode": "silent"}}})
    service = Service(f"sqlite:///{tmp_path}/used.db", site, now)
    answered = card_of(service.call(body), "NIVL-IVUS-REQUIRED")
    service.feedback(answered)
    service.call(body)
    service.call(body)
    return service, answered


def test_report_counts_silent_and_suppressed_cards_apart_from_issued(used):
    service, _ = used
    reports = {r.rule_id: r for r in build_report(service.store)}
    ivus, workup = reports["NIVL-IVUS-REQUIRED"], reports["NIVL-WORKUP"]
    assert (ivus.issued, ivus.overridden, ivus.silent, ivus.suppressed) == (1, 1, 0, 2)
    assert (workup.issued, workup.silent, workup.suppressed) == (0, 3, 0)


def test_metrics_count_silent_and_suppressed_cards_by_rule(used):
    service, _ = used
    assert service.metric("cds_cards_silent_total", rule="NIVL-WORKUP") == 3
    assert service.metric("cds_cards_suppressed_total", rule="NIVL-IVUS-REQUIRED") == 2
    assert service.metric("cds_cards_issued_total", rule="NIVL-IVUS-REQUIRED", indicator="warning") == 1


def test_every_format_shows_silent_and_suppressed(used):
    reports = build_report(used[0].store)
    rules = {row["rule"]: row for row in json.loads(as_json(reports))["rules"]}
    assert (rules["NIVL-WORKUP"]["silent"], rules["NIVL-WORKUP"]["suppressed"]) == (3, 0)
    assert (rules["NIVL-IVUS-REQUIRED"]["silent"], rules["NIVL-IVUS-REQUIRED"]["suppressed"]) == (0, 2)
    rows = {row["rule"]: row for row in csv.DictReader(io.StringIO(as_csv(reports)))}
    assert (rows["NIVL-WORKUP"]["silent"], rows["NIVL-IVUS-REQUIRED"]["suppressed"]) == ("3", "2")
    table = as_table(reports).splitlines()
    header = table[0].split()
    workup = next(line for line in table if line.startswith("NIVL-WORKUP")).split()
    assert workup[header.index("silent")] == "3" and workup[header.index("suppressed")] == "0"
    page = as_html(reports)
    assert '<div class="fill silent" style="width:100%"></div></div><span class="n">3</span>' in page
    assert '<div class="fill suppressed" style="width:67%"></div></div><span class="n">2</span>' in page


def test_report_card_shows_the_facts_the_card_used_and_its_feedback(used, monkeypatch, capsys):
    service, answered = used
    monkeypatch.setenv("CDS_DATABASE_URL", str(service.store.engine.url))
    assert main(["report", "--card", answered["uuid"]]) == 0
    out = capsys.readouterr().out
    assert "NIVL-IVUS-REQUIRED (warning)" in out and "status      issued" in out
    assert "Condition/pv091-may-thurner" in out
    assert "feedback    overridden" in out and "Already ordered or done" in out
    assert main(["report", "--card", answered["uuid"], "--format", "json"]) == 0
    audit = json.loads(capsys.readouterr().out)
    assert audit["fact_refs"] == ["Condition/pv091-may-thurner"] and len(audit["evidence_fingerprint"]) == 64


def test_report_card_names_the_card_a_suppressed_one_repeats(used, monkeypatch, capsys):
    service, answered = used
    monkeypatch.setenv("CDS_DATABASE_URL", str(service.store.engine.url))
    suppressed = service.log("suppressed")[0]
    assert main(["report", "--card", suppressed.card_uuid, "--format", "json"]) == 0
    audit = json.loads(capsys.readouterr().out)
    assert (audit["status"], audit["repeats_card"]) == ("suppressed", answered["uuid"])


def test_report_card_unknown_uuid_exits_1(used, monkeypatch, capsys):
    monkeypatch.setenv("CDS_DATABASE_URL", str(used[0].store.engine.url))
    assert main(["report", "--card", "no-such-card"]) == 1
    assert "no card no-such-card" in capsys.readouterr().err


def test_a_database_from_before_governance_gains_the_new_columns(tmp_path):
    import sqlite3

    from cds_service.store.repository import Store, make_engine

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE cards_issued (id INTEGER PRIMARY KEY, card_uuid VARCHAR(64) UNIQUE, rule_id VARCHAR(64),"
                    " indicator VARCHAR(16), service_id VARCHAR(64), hook_instance VARCHAR(128),"
                    " patient_hash VARCHAR(64), issued_at DATETIME)")
        old.execute("INSERT INTO cards_issued VALUES (1, 'old-card', 'DVT-DUPLEX', 'warning', 's', 'h', 'x', "
                    "'2026-01-01 00:00:00')")
    store = Store(make_engine(f"sqlite:///{path}"))
    (report,) = build_report(store)
    assert (report.rule_id, report.issued, report.silent) == ("DVT-DUPLEX", 1, 0)
