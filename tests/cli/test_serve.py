import json

import pytest

from cds_service.cli import main


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in ("CDS_AUTH", "CDS_PUBLIC_BASE_URL", "CDS_TRUSTED_CLIENTS", "CDS_TRUST_CDS_HOOKS_SANDBOX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CDS_DATABASE_URL", f"sqlite:///{tmp_path}/serve.db")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")  # recorded, so whatever serve sets is undone
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")


def test_serve_refuses_auth_without_a_public_base_url(capsys):
    assert main(["serve", "--port", "1"]) == 2
    assert "CDS_PUBLIC_BASE_URL" in capsys.readouterr().err


def test_serve_refuses_auth_that_trusts_nobody(monkeypatch, capsys):
    monkeypatch.setenv("CDS_PUBLIC_BASE_URL", "https://cds.example.test")
    assert main(["serve", "--port", "1"]) == 2
    assert "no client is trusted" in capsys.readouterr().err


def test_serve_refuses_a_broken_trusted_clients_file(monkeypatch, tmp_path, capsys):
    clients = tmp_path / "clients.json"
    clients.write_text(json.dumps({"clients": [{"iss": "https://ehr.example.test"}]}))
    monkeypatch.setenv("CDS_PUBLIC_BASE_URL", "https://cds.example.test")
    monkeypatch.setenv("CDS_TRUSTED_CLIENTS", str(clients))
    assert main(["serve", "--port", "1"]) == 2
    assert "cannot start" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["serve", "evaluate", "report", "load-fixtures"])
def test_every_command_has_help_with_examples(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    assert "examples:" in capsys.readouterr().out
