import io
import json

import responses

from cds_service.cli import main
from cds_service.fixture_loader import load_fixtures_into, transaction_for

SERVER = "http://fhir.local.test/fhir"
FIXTURE = {
    "resourceType": "Bundle", "id": "story", "type": "collection",
    "entry": [
        {"resource": {"resourceType": "Patient", "id": "p1"}},
        {"resource": {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}}},
        {"resource": {"resourceType": "DeviceRequest", "id": "d1", "status": "draft", "intent": "order"}},
    ],
}


def write_fixtures(tmp_path, count=2):
    for n in range(count):
        (tmp_path / f"story-{n}.json").write_text(json.dumps(FIXTURE))
    return tmp_path


def test_transaction_puts_the_record_but_not_draft_orders():
    bundle = transaction_for(FIXTURE)
    assert bundle["type"] == "transaction"
    assert [e["request"] for e in bundle["entry"]] == [
        {"method": "PUT", "url": "Patient/p1"}, {"method": "PUT", "url": "Condition/c1"}]


@responses.activate
def test_posts_each_fixture_with_the_token_and_reports_progress(tmp_path):
    responses.add(responses.POST, SERVER, json={"resourceType": "Bundle", "type": "transaction-response"})
    progress = io.StringIO()
    assert load_fixtures_into(SERVER, "tok", write_fixtures(tmp_path), progress) == 0
    assert len(responses.calls) == 2
    assert responses.calls[0].request.headers["Authorization"] == "Bearer tok"
    assert json.loads(responses.calls[0].request.body)["type"] == "transaction"
    assert "[2/2] story-1: 2 resources, ok" in progress.getvalue()


@responses.activate
def test_a_refused_bundle_fails_the_command(tmp_path, capsys):
    responses.add(responses.POST, SERVER, status=422, json={"resourceType": "OperationOutcome"})
    assert main(["load-fixtures", "--fhir-server", SERVER, "--directory", str(write_fixtures(tmp_path, 1))]) == 1
    assert "FAILED 422" in capsys.readouterr().err


@responses.activate
def test_bundled_fixtures_all_load(capsys):
    responses.add(responses.POST, SERVER, json={"resourceType": "Bundle", "type": "transaction-response"})
    assert main(["load-fixtures", "--fhir-server", SERVER]) == 0
    assert len(responses.calls) >= 1
