"""The site file (issue 13): every kind of validation error, effective settings, check-config, serve."""
from __future__ import annotations

import json

import pytest
import yaml

from cds_service.cli import main
from cds_service.pathway.settings import PathwaySettings
from cds_service.site_config import (
    SiteConfig,
    SiteConfigError,
    load_for_service,
    load_site_config,
)
from tests.helpers.governance import write_site

CODES = {"valueSets": [{"id": "acute-dvt", "codes": [{"system": "http://hospital.example/codes", "code": "DVT-L"}]}]}


def error_of(tmp_path, document) -> SiteConfigError:
    path = write_site(tmp_path, document)
    with pytest.raises(SiteConfigError) as raised:
        load_site_config(path)
    assert str(raised.value).startswith(f"{path}: "), str(raised.value)
    assert "\n" not in str(raised.value)
    return raised.value


@pytest.mark.parametrize("document, key, problem", [
    ({"lockout_day": 7}, "lockout_day", "unknown key"),
    ({"rules": {"NIVL-WORKUPP": {"mode": "silent"}}}, "rules.NIVL-WORKUPP", "unknown rule ID"),
    ({"rules": {"DATA-UNAVAILABLE": {"mode": "off"}}}, "rules.DATA-UNAVAILABLE", "cannot be configured"),
    ({"rules": {"NIVL-WORKUP": {"mode": "silent", "days": 3}}}, "rules.NIVL-WORKUP.days", "unknown key"),
    ({"pathway": {"min_stent_lenght_mm": 50}}, "pathway.min_stent_lenght_mm", "unknown pathway setting"),
    ({"pathway": {"min_stent_length_mm": "60 mm"}}, "pathway.min_stent_length_mm", "must be a number, not text"),
    ({"pathway": {"hypotension_readings": 2.5}}, "pathway.hypotension_readings", "must be a whole number"),
    ({"pathway": {"thrombolysis_requires_hypotension": "no"}}, "pathway.thrombolysis_requires_hypotension",
     "must be true or false"),
    ({"pathway": {"stent_followup_schedule_days": 30}}, "pathway.stent_followup_schedule_days", "list of whole numbers"),
    ({"lockout_days": "a week"}, "lockout_days", "whole number of days"),
    ({"rules": {"NIVL-WORKUP": {"mode": "quiet"}}}, "rules.NIVL-WORKUP.mode", "must be one of active, silent, off"),
    ({"rules": {"NIVL-WORKUP": {"mode": False}}}, "rules.NIVL-WORKUP.mode", 'write "off" in quotes'),
    ({"pathway": {"egfr_renal_dosing": -30}}, "pathway.egfr_renal_dosing", "must not be negative"),
    ({"lockout_days": -1}, "lockout_days", "must not be negative"),
    ({"rules": {"DVT-DUPLEX": {"lockout_days": -2}}}, "rules.DVT-DUPLEX.lockout_days", "must not be negative"),
    ({"pathway": {"enoxaparin_rounding_mg": 0}}, "pathway.enoxaparin_rounding_mg", "greater than 0"),
    ({"pathway": {"ivus_stenosis_threshold_pct": 161}}, "pathway.ivus_stenosis_threshold_pct", "at most 100"),
    ({"pathway": {"oversize_min_mm": 5}}, "pathway.oversize_min_mm", "greater than pathway.oversize_max_mm (4)"),
    ({"pathway": {"platelets_contraindication_10_3_ul": 60}}, "pathway.platelets_contraindication_10_3_ul",
     "greater than pathway.platelets_caution_10_3_ul"),
    ({"pathway": {"stent_followup_schedule_days": [182, 30]}}, "pathway.stent_followup_schedule_days",
     "strictly increasing"),
    ({"rules": {"STENT-LENGTH": {"lockout_days": 3}}}, "rules.STENT-LENGTH.lockout_days", "order rules never lock out"),
    ({"rules": ["NIVL-WORKUP"]}, "rules", "must be a mapping"),
    ({"rules": {"DVT-PELVIC-IMAGING": {"mode": "silent"}}}, "rules.DVT-PELVIC-IMAGING.mode",
     "would hide the card MASS-CHARACTERIZE relies on"),
    ({"local_valuesets": "missing-codes.yaml"}, "local_valuesets", "cannot be read"),
])
def test_each_kind_of_error_names_the_file_the_key_and_the_problem(tmp_path, document, key, problem):
    error = error_of(tmp_path, document)
    assert error.key == key
    assert problem in error.problem, error.problem


def test_unreadable_yaml_and_a_bad_codes_file_are_errors(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules:\n  NIVL-WORKUP: {mode: silent\n")
    with pytest.raises(SiteConfigError, match="not valid YAML"):
        load_site_config(broken)
    (tmp_path / "codes.yaml").write_text("valueSets:\n  - codes: [{system: x, code: y}]\n")
    assert "not a value-set file" in error_of(tmp_path, {"local_valuesets": "codes.yaml"}).problem


def test_no_file_is_the_guideline_and_every_rule_active():
    site = load_site_config("")
    assert site == SiteConfig() and site.pathway == PathwaySettings()
    assert site.mode("NIVL-WORKUP") == "active" and not site.locks_anything
    assert site.lockout_days_for("DVT-DUPLEX", "warning") == 0


def test_the_issue_example_gives_these_effective_settings(tmp_path):
    (tmp_path / "site-codes.yaml").write_text(json.dumps(CODES))
    site = load_site_config(write_site(tmp_path, {
        "pathway": {"min_stent_length_mm": 60, "stent_followup_schedule_days": [30, 182, 365],
                    "ivus_stenosis_threshold_pct": 50},
        "lockout_days": 7,
        "rules": {"NIVL-WORKUP": {"mode": "silent"}, "POST-STENT-ANTITHROMBOTIC": {"mode": "off"},
                  "DVT-DUPLEX": {"lockout_days": 3}, "DVT-ANTICOAGULATE": {"lockout_days": 1}},
        "local_valuesets": "site-codes.yaml",
    }))
    assert site.pathway.min_stent_length_mm == 60.0 and site.pathway.ivus_stenosis_threshold_pct == 50.0
    assert site.site_values() == [("ivus_stenosis_threshold_pct", 50.0, 61.0)]
    assert site.mode("NIVL-WORKUP") == "silent" and site.rules_off == {"POST-STENT-ANTITHROMBOTIC"}
    assert site.lockout_days_for("DVT-DUPLEX", "warning") == 3
    assert site.lockout_days_for("NIVL-IVUS-REQUIRED", "warning") == 7
    assert site.lockout_days_for("DVT-ANTICOAGULATE", "critical") == 1
    assert site.lockout_days_for("DVT-THROMBOLYSIS-OPTION", "critical") == 0  # critical: only when named
    assert site.local_valuesets == str((tmp_path / "site-codes.yaml").resolve())


def test_codes_in_the_site_file_and_in_cds_local_valuesets_conflict(tmp_path):
    (tmp_path / "site-codes.yaml").write_text(json.dumps(CODES))
    path = write_site(tmp_path, {"local_valuesets": "site-codes.yaml"})
    assert load_for_service(str(path)).local_valuesets
    with pytest.raises(SiteConfigError, match="CDS_LOCAL_VALUESETS is set too"):
        load_for_service(str(path), "/etc/cds/other-codes.yaml")


def test_site_codes_reach_the_value_sets(tmp_path):
    from tests.helpers.governance import Service

    (tmp_path / "site-codes.yaml").write_text(json.dumps(CODES))
    service = Service(f"sqlite:///{tmp_path}/x.db", write_site(tmp_path, {"local_valuesets": "site-codes.yaml"}), None)
    value_sets = service.app.extensions["cds"]["pipeline"].value_sets
    assert value_sets.contains("acute-dvt", "http://hospital.example/codes", "DVT-L")


# -- the command line ---------------------------------------------------------------------------
def test_check_config_prints_the_effective_settings(tmp_path, capsys):
    path = write_site(tmp_path, {"pathway": {"min_stent_length_mm": 70}, "rules": {"NIVL-WORKUP": {"mode": "silent"}}})
    assert main(["check-config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "valid" in out and "site setting min_stent_length_mm: 70 (guideline: 60)" in out
    assert "NIVL-WORKUP: silent" in out
    assert main(["check-config", "--json", str(path)]) == 0
    effective = json.loads(capsys.readouterr().out)
    assert effective["pathway"]["min_stent_length_mm"] == 70
    assert effective["rules"]["NIVL-WORKUP"] == {"mode": "silent"}
    # DVT-DUPLEX is a warning, or info for a study of unknown extent (R2): a lockout for each
    assert effective["rules"]["DVT-DUPLEX"] == {"mode": "active", "lockout_days": {"info": 0, "warning": 0}}


def test_check_config_exits_1_with_one_line(tmp_path, capsys):
    path = write_site(tmp_path, {"rules": {"NO-SUCH-RULE": {"mode": "silent"}}})
    assert main(["check-config", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"cds-service: {path}: rules.NO-SUCH-RULE: unknown rule ID (GET /rules lists them)"


def test_serve_refuses_a_bad_site_file_with_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CDS_AUTH", "off")
    monkeypatch.setenv("CDS_DATABASE_URL", f"sqlite:///{tmp_path}/serve.db")
    monkeypatch.setenv("CDS_SITE_CONFIG", str(write_site(tmp_path, {"pathway": {"oversize_min_mm": 6}})))
    assert main(["serve", "--port", "1"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and str(tmp_path / "site.yaml") in lines[0] and "pathway.oversize_min_mm" in lines[0]


def test_values_that_differ_from_the_guideline_are_logged_at_start(tmp_path, caplog):
    from tests.helpers.governance import Service

    with caplog.at_level("WARNING"):
        Service(f"sqlite:///{tmp_path}/x.db", write_site(tmp_path, {"pathway": {"oversize_max_mm": 3}}), None)
    assert "site setting oversize_max_mm: 3 (guideline: 4)" in caplog.text


def test_the_kubernetes_example_mounts_a_valid_site_file(tmp_path):
    from tests.helpers.hooks import REPO

    documents = list(yaml.safe_load_all((REPO / "deploy" / "kubernetes.yaml").read_text()))
    config_map = next(d for d in documents if d["kind"] == "ConfigMap")
    deployment = next(d for d in documents if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    mount = next(m for m in container["volumeMounts"] if m["name"] == "site-config")
    volume = next(v for v in pod["volumes"] if v["name"] == "site-config")
    assert volume["configMap"]["name"] == config_map["metadata"]["name"]
    assert env["CDS_SITE_CONFIG"] == f"{mount['mountPath']}/site.yaml"
    for name, text in config_map["data"].items():
        (tmp_path / name).write_text(text)
    assert load_site_config(tmp_path / "site.yaml").mode("NIVL-WORKUP") == "silent"


def test_evaluate_answers_as_the_service_with_the_site_file(tmp_path, monkeypatch, capsys):
    from cds_service.fixtures import DEFAULT_DIRECTORY

    fixture = str(DEFAULT_DIRECTORY / "may-thurner-diagnosis-needs-ivus.json")
    monkeypatch.delenv("CDS_SITE_CONFIG", raising=False)
    assert main(["evaluate", "--hook", "patient-view", "--json", fixture]) == 0
    shown = [c["source"]["topic"]["code"] for c in json.loads(capsys.readouterr().out)["cards"]]
    monkeypatch.setenv("CDS_SITE_CONFIG", str(write_site(tmp_path, {"rules": {"NIVL-WORKUP": {"mode": "silent"}}})))
    assert main(["evaluate", "--hook", "patient-view", "--json", fixture]) == 0
    silenced = [c["source"]["topic"]["code"] for c in json.loads(capsys.readouterr().out)["cards"]]
    assert "NIVL-WORKUP" in shown and silenced == [rule for rule in shown if rule != "NIVL-WORKUP"]


def test_a_rule_leaned_on_may_be_quiet_together_with_the_rule_that_leans_on_it(tmp_path):
    both = {"DVT-PELVIC-IMAGING": {"mode": "silent"}, "MASS-CHARACTERIZE": {"mode": "off"}}
    assert load_site_config(write_site(tmp_path, {"rules": both})).mode("DVT-PELVIC-IMAGING") == "silent"
