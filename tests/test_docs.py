"""Examples in the docs that the code produces: they are recomputed here, so they cannot go stale.

- docs/sandbox-testing.md: the `cds-service evaluate` outputs, the override report after the
  sandbox session of its screenshots, and the sample `load-fixtures` output (fixture count);
- README.md: its two set-up commands, and `.ci/run` running its test command exactly.
"""
from __future__ import annotations

import json
import re
import subprocess

import pytest

from cds_service.cli import main
from cds_service.fixture_loader import transaction_for
from cds_service.fixtures import DEFAULT_DIRECTORY, build_request, fixture_paths, load_fixture
from cds_service.services import all_services
from tests.helpers.hooks import REPO

SANDBOX_DOC = REPO / "docs" / "sandbox-testing.md"
SESSION_PATIENT = "malignant-iliac-mass-with-acute-dvt"
WARFARIN_5MG = {
    "resourceType": "MedicationRequest", "id": "rx-warfarin", "status": "draft", "intent": "order",
    "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                              "code": "855332", "display": "warfarin sodium 5 MG Oral Tablet"}]},
}


def console_blocks(text: str) -> dict[str, list[str]]:
    """`$ command` -> the lines printed under it, for each ```console block."""
    outputs: dict[str, list[str]] = {}
    for block in re.findall(r"```console\n(.*?)```", text, re.DOTALL):
        command = None
        for line in block.splitlines():
            if line.startswith("$ "):
                command = line[2:]
                outputs[command] = []
            elif command is not None and line:
                outputs[command].append(line)
    return outputs


def sh_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL)]


def test_the_evaluate_examples_print_what_evaluate_prints(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    blocks = console_blocks(SANDBOX_DOC.read_text())
    examples = {command: out for command, out in blocks.items() if command.startswith("cds-service evaluate")}
    assert len(examples) >= 3
    for command, shown in examples.items():
        assert main(command.split()[1:]) == 0
        assert capsys.readouterr().out.splitlines() == shown, command


def play_the_sandbox_session(client) -> None:
    """What the screenshots' session did: patient view, Rx View with warfarin, one order taken, one card dismissed."""
    fixture = load_fixture(DEFAULT_DIRECTORY / f"{SESSION_PATIENT}.json")
    entries = {s.id: s.discovery_json() for s in all_services()}
    cards = client.post("/cds-services/iliac-vein-patient-view",
                        json=build_request(fixture, entries["iliac-vein-patient-view"])).get_json()["cards"]
    order_select = build_request(fixture, entries["iliac-vein-order-select"], hook="order-select")
    warfarin = dict(WARFARIN_5MG, subject={"reference": f"Patient/{fixture.patient_id}"})
    order_select["context"].update(draftOrders={"resourceType": "Bundle", "entry": [{"resource": warfarin}]},
                                   selections=["MedicationRequest/rx-warfarin"])
    assert client.post("/cds-services/iliac-vein-order-select", json=order_select).status_code == 200
    by_rule = {card["source"]["topic"]["code"]: card for card in cards}
    anticoagulate, mass = by_rule["DVT-ANTICOAGULATE"], by_rule["MASS-EXTRINSIC"]
    first_reason = mass["overrideReasons"][0]
    feedback = [
        {"card": anticoagulate["uuid"], "outcome": "accepted", "outcomeTimestamp": "2026-11-26T10:05:00Z",
         "acceptedSuggestions": [{"id": anticoagulate["suggestions"][0]["uuid"]}]},
        # The sandbox sends the reason's code and system, without its display.
        {"card": mass["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-11-26T10:06:00Z",
         "overrideReason": {"reason": {"code": first_reason["code"], "system": first_reason["system"]}}},
    ]
    response = client.post("/cds-services/iliac-vein-patient-view/feedback", json={"feedback": feedback})
    assert response.status_code == 200, response.get_data(as_text=True)


def test_the_sandbox_report_example_is_what_the_report_prints(settings, tmp_path, monkeypatch, capsys):
    from cds_service.app import create_app

    fixture = load_fixture(DEFAULT_DIRECTORY / f"{SESSION_PATIENT}.json")
    database = f"sqlite:///{tmp_path}/session.db"
    app = create_app(settings.with_(database_url=database, clock=lambda: fixture.now))
    play_the_sandbox_session(app.test_client())
    app.extensions["cds"]["card_log"].flush()
    monkeypatch.setenv("CDS_DATABASE_URL", database)
    assert main(["report"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert console_blocks(SANDBOX_DOC.read_text())["cds-service report"] == printed


def test_the_load_fixtures_sample_counts_every_fixture():
    paths = fixture_paths()
    sample = re.search(r"```text\n(\[1/.*?)```", SANDBOX_DOC.read_text(), re.DOTALL)
    assert sample, "docs/sandbox-testing.md shows a sample load-fixtures output"
    expected = [
        f"[{n}/{len(paths)}] {path.stem}: {len(transaction_for(json.loads(path.read_text()))['entry'])} resources, ok"
        for n, path in enumerate(paths[:2], start=1)
    ]
    assert sample.group(1).splitlines() == expected + ["...", f"loaded {len(paths)} of {len(paths)} fixtures"]


def readme_commands() -> list[str]:
    readme = (REPO / "README.md").read_text()
    setup = readme[: readme.index("## What it does")]
    return sh_blocks(setup)


def test_the_readme_has_two_set_up_commands_that_use_a_virtual_environment():
    serve, test = readme_commands()
    for command in (serve, test):
        assert "\n" not in command
        assert command.startswith("python3 -m venv .venv && .venv/bin/pip install -c constraints.txt ")
    assert serve.endswith(".venv/bin/cds-service serve --dev")
    assert "'.[test]'" in test and test.endswith(".venv/bin/python -m pytest")


def ci_commands() -> list[str]:
    ci = (REPO / ".ci" / "run").read_text()
    return [line.strip() for line in ci.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_ci_runs_the_readme_test_command_exactly():
    assert readme_commands()[1] in ci_commands()


def test_ci_runs_ruff_and_mypy_from_the_venv_after_the_readme_test_command_and_fails_with_them():
    commands = ci_commands()
    after = commands[commands.index(readme_commands()[1]) + 1:]
    assert ".venv/bin/ruff check cds_service" in after
    assert ".venv/bin/mypy cds_service" in after
    assert "set -euo pipefail" in commands  # a failing check ends the script with its status


@pytest.mark.parametrize("document, needle", [
    ("docs/api.md", "CDS_FHIR_OPEN_SERVERS"),
    ("docs/configuration.md", "http://127.0.0.1:*"),
    ("CONTRIBUTING.md", "CDS_TEST_POSTGRES_URL"),
    ("CONTRIBUTING.md", ".ci/run"),
])
def test_documented(document, needle):
    assert needle in (REPO / document).read_text()


def test_ci_removes_its_postgresql_data_folder_on_exit(tmp_path):
    """The EXIT trap of .ci/run, run on its own: it stops the server and removes the data folder."""
    ci = (REPO / ".ci" / "run").read_text()
    assert re.search(r"^\s*trap stop_postgres EXIT$", ci, re.MULTILINE)
    function = re.search(r"^(\s*stop_postgres\(\) \{\n.*?\n\s*\})$", ci, re.MULTILINE | re.DOTALL)
    assert function, ".ci/run defines stop_postgres"
    data = tmp_path / "cds-ci-pg.test"
    (data / "base").mkdir(parents=True)
    script = f'as_postgres() {{ "$@"; }}\n{function.group(1)}\nPG_BIN=/nonexistent PGDATA="{data}" stop_postgres\n'
    subprocess.run(["bash", "-c", script], check=True, timeout=30)
    assert not data.exists()
