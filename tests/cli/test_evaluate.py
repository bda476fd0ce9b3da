import json

from cds_service.cli import main
from cds_service.fixtures import DEFAULT_DIRECTORY, load_fixture

STENT_50 = DEFAULT_DIRECTORY / "order-sign-stent-50mm-devicerequest.json"
NO_IMAGING = DEFAULT_DIRECTORY / "left-leg-swelling-no-imaging.json"


def test_evaluate_a_fixture_prints_a_table_of_its_cards(capsys):
    assert main(["evaluate", "--hook", "patient-view", str(NO_IMAGING)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["indicator", "rule", "summary"]
    expected = load_fixture(NO_IMAGING).expected
    for rule, indicator in expected.items():
        assert any(line.split()[:2] == [indicator, rule] for line in out.splitlines()[1:])


def test_evaluate_json_gives_the_cds_hooks_response(capsys):
    assert main(["evaluate", "--hook", "order-sign", "--json", str(STENT_50)]) == 0
    response = json.loads(capsys.readouterr().out)
    rules = {card["source"]["topic"]["code"] for card in response["cards"]}
    assert rules == set(load_fixture(STENT_50).expected)


def test_evaluate_a_plain_bundle_with_draft_orders(tmp_path, capsys):
    bundle = json.loads(STENT_50.read_text())
    del bundle["meta"]  # a record plus draft orders, with no fixture tags
    path = tmp_path / "record.json"
    path.write_text(json.dumps(bundle))
    assert main(["evaluate", "--hook", "order-sign", "--now", "2026-11-26T12:00:00Z", "--json", str(path)]) == 0
    rules = {card["source"]["topic"]["code"] for card in json.loads(capsys.readouterr().out)["cards"]}
    assert "STENT-LENGTH" in rules


def test_evaluate_a_hook_request(tmp_path, capsys):
    fixture = load_fixture(STENT_50)
    request = {"hook": "order-sign", "hookInstance": "h-1",
               "context": {"userId": "Practitioner/x", "patientId": fixture.patient_id,
                           "draftOrders": {"resourceType": "Bundle",
                                           "entry": [{"resource": r} for r in fixture.draft_orders]}}}
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request))
    assert main(["evaluate", "--hook", "order-sign", str(path)]) == 0
    out = capsys.readouterr().out
    assert "critical" in out and "STENT-LENGTH" in out and "DATA-UNAVAILABLE" in out


def test_evaluate_reports_unreadable_files_and_invalid_requests(tmp_path, capsys):
    assert main(["evaluate", "--hook", "patient-view", str(tmp_path / "missing.json")]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"hook": "patient-view"}))
    assert main(["evaluate", "--hook", "patient-view", str(bad)]) == 1
    assert "OperationOutcome" in capsys.readouterr().err


def test_evaluate_warns_when_the_hook_is_not_the_fixtures(capsys):
    assert main(["evaluate", "--hook", "patient-view", str(STENT_50)]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "order-sign" in err and "patient-view" in err


def test_evaluate_says_nothing_when_the_hook_is_the_fixtures(capsys):
    assert main(["evaluate", "--hook", "order-sign", str(STENT_50)]) == 0
    assert capsys.readouterr().err == ""


def test_evaluate_finds_a_bundled_fixture_by_name_outside_a_clone(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no fhir_fixtures/ here
    assert main(["evaluate", "--hook", "order-sign", "--json", "order-sign-stent-50mm-devicerequest"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["evaluate", "--hook", "order-sign", "--json", "fhir_fixtures/order-sign-stent-50mm-devicerequest.json"]) == 0
    second = json.loads(capsys.readouterr().out)
    rules = {card["source"]["topic"]["code"] for card in first["cards"]}
    assert rules == set(load_fixture(STENT_50).expected) == {c["source"]["topic"]["code"] for c in second["cards"]}


def test_evaluate_names_a_file_that_is_not_there(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["evaluate", "--hook", "order-sign", "no-such-story"]) == 2
    assert "cannot read no-such-story" in capsys.readouterr().err
