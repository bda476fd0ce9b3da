"""Site governance through the HTTP API (issue 13): rule modes, lockout after feedback, fail open, audit."""
from __future__ import annotations

import dataclasses
import json
import time

import pytest

from cds_service.rules import registry
from cds_service.store.lockouts import LockoutStore
from tests.helpers.governance import (
    Service,
    as_patient,
    card_of,
    edited,
    fixture_request,
    rules_of,
    write_site,
)

IVUS_FIXTURE = "may-thurner-diagnosis-needs-ivus"  # NIVL-IVUS-REQUIRED (warning), NIVL-WORKUP (info)
PE_FIXTURE = "acute-pe-with-left-leg-swelling"  # DVT-ANTICOAGULATE (critical), DVT-DUPLEX (warning)
WEIGHT_FIXTURE = "weight-in-pounds-enoxaparin-80-mg"  # DVT-ANTICOAGULATE, weight Observation/pv040-weight
STENT_ORDER_FIXTURE = "order-sign-stent-50mm-devicerequest"  # STENT-LENGTH (critical)


@pytest.fixture
def make_service(tmp_path):
    def make(site: dict | None = None, fixture_now=None, database: str = "cds.db") -> Service:
        path = write_site(tmp_path, site) if site is not None else None
        return Service(f"sqlite:///{tmp_path / database}", path, fixture_now)
    return make


# -- modes ------------------------------------------------------------------------------------------
def test_without_a_site_file_every_card_is_returned_and_logged_with_its_facts(make_service):
    body, now = fixture_request(IVUS_FIXTURE)
    service = make_service(None, now)
    cards = service.call(body)
    assert rules_of(cards) == ["NIVL-IVUS-REQUIRED", "NIVL-WORKUP"]
    rows = {row.rule_id: row for row in service.log()}
    assert {row.status for row in rows.values()} == {"issued"}
    refs = json.loads(rows["NIVL-WORKUP"].fact_refs)
    assert refs and all("/" in ref for ref in refs)
    assert len(rows["NIVL-WORKUP"].evidence_fingerprint) == 64
    assert "fact_refs" not in json.dumps(cards) and "fingerprint" not in json.dumps(cards)


def test_silent_rule_is_evaluated_and_logged_but_not_returned(make_service):
    body, now = fixture_request(IVUS_FIXTURE)
    service = make_service({"rules": {"NIVL-WORKUP": {"mode": "silent"}}}, now)
    assert rules_of(service.call(body)) == ["NIVL-IVUS-REQUIRED"]
    assert [row.rule_id for row in service.log("silent")] == ["NIVL-WORKUP"]
    assert [row.rule_id for row in service.log("issued")] == ["NIVL-IVUS-REQUIRED"]
    assert service.metric("cds_cards_silent_total", rule="NIVL-WORKUP") == 1
    assert service.metric("cds_cards_issued_total", rule="NIVL-WORKUP") == 0


def test_off_rule_is_not_evaluated_at_all(make_service, monkeypatch):
    def must_not_run(*_):
        raise AssertionError("an off rule was evaluated")

    rules = tuple(dataclasses.replace(rule, evaluate=must_not_run) if rule.rule_id == "NIVL-WORKUP" else rule
                  for rule in registry.PATIENT_VIEW_RULES)
    monkeypatch.setattr(registry, "PATIENT_VIEW_RULES", rules)
    body, now = fixture_request(IVUS_FIXTURE)
    service = make_service({"rules": {"NIVL-WORKUP": {"mode": "off"}}}, now)
    assert rules_of(service.call(body)) == ["NIVL-IVUS-REQUIRED"]
    assert [row.rule_id for row in service.log()] == ["NIVL-IVUS-REQUIRED"]


def test_off_order_rule_gives_no_card_and_other_order_rules_still_run(make_service):
    body, now = fixture_request(STENT_ORDER_FIXTURE)
    before = rules_of(make_service(None, now, "before.db").call(body))
    assert "STENT-LENGTH" in before
    after = rules_of(make_service({"rules": {"STENT-LENGTH": {"mode": "off"}}}, now).call(body))
    assert after == [rule for rule in before if rule != "STENT-LENGTH"]


# -- lockout ----------------------------------------------------------------------------------------
def test_answered_card_with_the_same_evidence_is_suppressed_and_logged_with_the_card_it_repeats(make_service):
    body, now = fixture_request(IVUS_FIXTURE)
    service = make_service({"lockout_days": 7}, now)
    first = service.call(body)
    answered = card_of(first, "NIVL-IVUS-REQUIRED")
    service.feedback(answered)
    service.advance(hours=2)
    again = service.call(body)
    assert rules_of(again) == ["NIVL-WORKUP"]  # the unanswered card still shows
    (suppressed,) = service.log("suppressed")
    assert (suppressed.rule_id, suppressed.repeats_card) == ("NIVL-IVUS-REQUIRED", answered["uuid"])
    assert service.metric("cds_cards_suppressed_total", rule="NIVL-IVUS-REQUIRED") == 1


def test_accepted_card_locks_out_too(make_service):
    body, now = fixture_request(IVUS_FIXTURE)
    service = make_service({"lockout_days": 7}, now)
    service.feedback(card_of(service.call(body), "NIVL-IVUS-REQUIRED"), outcome="accepted")
    assert "NIVL-IVUS-REQUIRED" not in rules_of(service.call(body))


def test_new_evidence_shows_the_card_again_at_once(make_service):
    body, now = fixture_request(WEIGHT_FIXTURE)
    service = make_service({"rules": {"DVT-ANTICOAGULATE": {"lockout_days": 1}}}, now)
    service.feedback(card_of(service.call(body), "DVT-ANTICOAGULATE"))
    assert "DVT-ANTICOAGULATE" not in rules_of(service.call(body))
    heavier = edited(body, "Observation/pv040-weight", lambda weight: weight["valueQuantity"].update(value=200))
    assert "DVT-ANTICOAGULATE" in rules_of(service.call(heavier))


def test_a_new_study_shows_the_card_again(make_service):
    body, now = fixture_request(IVUS_FIXTURE)
    service = make_service({"lockout_days": 7}, now)
    first = service.call(body)
    service.feedback(card_of(first, "NIVL-WORKUP"))
    assert "NIVL-WORKUP" not in rules_of(service.call(body))
    (row,) = [r for r in service.log("issued") if r.rule_id == "NIVL-WORKUP"]
    duplex = next(ref for ref in json.loads(row.fact_refs) if ref.startswith("DiagnosticReport/"))
    repeated = edited(body, duplex, lambda report: report.update(id=report["id"] + "-repeat"))  # a new study
    assert "NIVL-WORKUP" in rules_of(service.call(repeated))


def test_another_patient_is_not_locked_out(make_service):
    body, now = fixture_request(IVUS_FIXTURE)
    service = make_service({"lockout_days": 7}, now)
    service.feedback(card_of(service.call(body), "NIVL-IVUS-REQUIRED"))
    other = as_patient(body, "another-patient")
    assert "NIVL-IVUS-REQUIRED" in rules_of(service.call(other))
    assert "NIVL-IVUS-REQUIRED" not in rules_of(service.call(body))


def test_order_hooks_never_lock_out(make_service):
    body, now = fixture_request(STENT_ORDER_FIXTURE)
    service = make_service({"lockout_days": 30}, now)
    first = service.call(body)
    for card in first:
        service.feedback(card, hook="order-sign")
    assert rules_of(service.call(body)) == rules_of(first)
    assert service.log("suppressed") == []


def test_critical_cards_are_not_locked_out_unless_the_site_names_the_rule(make_service):
    body, now = fixture_request(PE_FIXTURE)
    service = make_service({"lockout_days": 7}, now)
    for card in service.call(body):
        service.feedback(card)
    assert rules_of(service.call(body)) == ["DVT-ANTICOAGULATE"]  # the warning is locked out, not the critical
    named = make_service({"lockout_days": 7, "rules": {"DVT-ANTICOAGULATE": {"lockout_days": 1}}}, now, "named.db")
    for card in named.call(body):
        named.feedback(card)
    assert named.call(body) == []


def test_lockout_expires_after_its_days_by_the_service_clock(make_service):
    body, now = fixture_request(PE_FIXTURE)
    service = make_service({"lockout_days": 7, "rules": {"DVT-DUPLEX": {"lockout_days": 3}}}, now)
    service.feedback(card_of(service.call(body), "DVT-DUPLEX"))
    service.advance(days=2, hours=23, minutes=59)
    assert "DVT-DUPLEX" not in rules_of(service.call(body))
    service.advance(minutes=1)
    assert "DVT-DUPLEX" in rules_of(service.call(body))


def test_unreadable_lockouts_show_the_card_and_are_counted(make_service):
    body, now = fixture_request(IVUS_FIXTURE)
    service = make_service({"lockout_days": 7}, now)
    service.feedback(card_of(service.call(body), "NIVL-IVUS-REQUIRED"))
    with service.store.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE lockouts")  # the database fails under the service
    assert "NIVL-IVUS-REQUIRED" in rules_of(service.call(body))
    assert service.metric("cds_lockout_unavailable_total", reason="OperationalError") == 1


def test_a_slow_lockout_read_shows_the_card_within_the_timeout(make_service, monkeypatch):
    body, now = fixture_request(IVUS_FIXTURE)
    service = make_service({"lockout_days": 7}, now)
    service.feedback(card_of(service.call(body), "NIVL-IVUS-REQUIRED"))
    original = LockoutStore._read

    def slow(self, *args):
        time.sleep(3.0)
        return original(self, *args)

    monkeypatch.setattr(LockoutStore, "_read", slow)
    started = time.perf_counter()
    assert "NIVL-IVUS-REQUIRED" in rules_of(service.call(body))
    assert time.perf_counter() - started < 2.5  # the 0.5 s default timeout, not the 3 s read
    assert service.metric("cds_lockout_unavailable_total", reason="timeout") == 1


def test_two_workers_on_one_database_share_the_lockout(make_service):
    body, now = fixture_request(IVUS_FIXTURE)
    site = {"lockout_days": 7}
    first, second = make_service(site, now, "shared.db"), make_service(site, now, "shared.db")
    first.feedback(card_of(first.call(body), "NIVL-IVUS-REQUIRED"))
    assert "NIVL-IVUS-REQUIRED" not in rules_of(second.call(body))
    assert [row.rule_id for row in second.log("suppressed")] == ["NIVL-IVUS-REQUIRED"]


def test_feedback_on_a_card_still_queued_in_the_card_log_locks_it(make_service):
    body, now = fixture_request(IVUS_FIXTURE)
    service = make_service({"lockout_days": 7}, now)
    response = service.client.post("/cds-services/iliac-vein-patient-view", json=body)  # no flush here
    service.feedback(card_of(response.get_json()["cards"], "NIVL-IVUS-REQUIRED"))
    assert "NIVL-IVUS-REQUIRED" not in rules_of(service.call(body))


# -- rule pages and discovery -----------------------------------------------------------------------
def test_rule_pages_show_the_mode_and_site_values(make_service):
    service = make_service({"pathway": {"ivus_stenosis_threshold_pct": 50},
                            "rules": {"NIVL-WORKUP": {"mode": "silent"}, "DVT-DUPLEX": {"lockout_days": 3}}})
    workup = service.client.get("/rules/NIVL-WORKUP").get_data(as_text=True)
    assert '<strong class="mode">silent</strong>' in workup
    below = service.client.get("/rules/NIVL-BELOW-THRESHOLD").get_data(as_text=True)
    assert "site setting: 50 (guideline: 61)" in below
    duplex = service.client.get("/rules/DVT-DUPLEX").get_data(as_text=True)
    assert "warning cards 3 days" in duplex
    index = service.client.get("/rules").get_data(as_text=True)
    assert "<td>silent</td>" in index


def test_site_pathway_values_reach_the_rules(make_service):
    body, now = fixture_request("ivus-stenosis-61-1-percent")
    assert "NIVL-STENT-CANDIDATE" in rules_of(make_service(None, now, "default.db").call(body))
    strict = make_service({"pathway": {"ivus_stenosis_threshold_pct": 70}}, now)
    assert "NIVL-STENT-CANDIDATE" not in rules_of(strict.call(body))
    assert "NIVL-BELOW-THRESHOLD" in rules_of(strict.call(body))


def test_site_values_reach_discovery_card_titles_and_rule_pages(make_service):
    """One source of the values in force: the site file, read once, held by the pipeline."""
    body, now = fixture_request(STENT_ORDER_FIXTURE)
    default, site = make_service(None, now, "default.db"), make_service({"pathway": {"min_stent_length_mm": 80}}, now)
    for service, length in ((default, 60), (site, 80)):
        services = service.client.get("/cds-services").get_json()["services"]
        sign = next(s for s in services if s["hook"] == "order-sign")
        assert f"(>= {length} mm)" in sign["description"]
        card = card_of(service.call(body), "STENT-LENGTH")
        assert card["source"]["topic"]["display"] == f"Iliac venous stent shorter than {length} mm"
        page = service.client.get("/rules/STENT-LENGTH").get_data(as_text=True)
        assert f"<h1>Iliac venous stent shorter than {length} mm</h1>" in page
        index = service.client.get("/rules").get_data(as_text=True)
        assert f"Iliac venous stent shorter than {length} mm" in index
    page = site.client.get("/rules/STENT-LENGTH").get_data(as_text=True)
    assert "site setting: 80 (guideline: 60)" in page


@pytest.mark.postgres
def test_two_workers_share_the_lockout_on_postgresql(tmp_path):
    import os

    from sqlalchemy import text

    from cds_service.store.repository import make_engine

    url = os.environ.get("CDS_TEST_POSTGRES_URL", "")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must run the storage tests against PostgreSQL: CDS_TEST_POSTGRES_URL is not set")
        pytest.skip("CDS_TEST_POSTGRES_URL not set")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE cards_issued, feedback, lockouts"))
    engine.dispose()
    body, now = fixture_request(IVUS_FIXTURE)
    site = write_site(tmp_path, {"lockout_days": 7})
    first, second = Service(url, site, now), Service(url, site, now)
    first.feedback(card_of(first.call(body), "NIVL-IVUS-REQUIRED"))
    assert rules_of(second.call(body)) == ["NIVL-WORKUP"]
    assert [row.rule_id for row in second.log("suppressed")] == ["NIVL-IVUS-REQUIRED"]
