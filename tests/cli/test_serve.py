import json
import os
import re
import tempfile

import pytest

from cds_service.cli import main


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in ("CDS_AUTH", "CDS_PUBLIC_BASE_URL", "CDS_TRUSTED_CLIENTS", "CDS_TRUST_CDS_HOOKS_SANDBOX", "CDS_WORKERS"):
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


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert re.fullmatch(r"cds-service \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)


@pytest.fixture
def no_gunicorn(monkeypatch):
    """serve up to the point where gunicorn would start; records what it was handed."""
    import cds_service.cli as cli

    seen: dict = {}

    def fake_run(args, host, settings):
        seen.update(workers=args.workers, metrics=os.environ["PROMETHEUS_MULTIPROC_DIR"])
        seen["metrics_existed"] = os.path.isdir(seen["metrics"])
        return 0

    monkeypatch.setattr(cli, "_run_gunicorn", fake_run)
    return seen


def test_serve_removes_its_metrics_folder_on_exit(monkeypatch, tmp_path, no_gunicorn):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    assert main(["serve", "--dev", "--port", "1", "--workers", "1"]) == 0
    assert no_gunicorn["metrics_existed"] and no_gunicorn["metrics"].startswith(str(tmp_path))
    assert not list(tmp_path.glob("cds-metrics-*"))


def test_serve_keeps_a_metrics_folder_it_was_given(monkeypatch, tmp_path, no_gunicorn):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    assert main(["serve", "--dev", "--port", "1", "--workers", "1"]) == 0
    assert no_gunicorn["metrics"] == str(tmp_path) and tmp_path.is_dir()


def test_serve_dev_says_loudly_when_there_are_no_fixtures(monkeypatch, tmp_path, no_gunicorn, capsys, caplog):
    monkeypatch.setattr("cds_service.fixtures.DEFAULT_DIRECTORY", tmp_path)
    caplog.set_level("WARNING", logger="cds_service.cli")
    assert main(["serve", "--dev", "--port", "1", "--workers", "1"]) == 0
    assert "WARNING: NO FIXTURE PATIENTS FOUND" in capsys.readouterr().err
    assert any("NO FIXTURE PATIENTS FOUND" in r.getMessage() for r in caplog.records)


def test_serve_dev_is_quiet_with_the_bundled_fixtures(no_gunicorn, capsys):
    assert main(["serve", "--dev", "--port", "1", "--workers", "1"]) == 0
    assert "NO FIXTURE" not in capsys.readouterr().err


def test_workers_come_from_cds_workers(monkeypatch, no_gunicorn):
    monkeypatch.setenv("CDS_WORKERS", "3")
    assert main(["serve", "--dev", "--port", "1"]) == 0
    assert no_gunicorn["workers"] == 3


def test_a_bad_cds_workers_stops_serve_with_a_message(monkeypatch, capsys, no_gunicorn):
    monkeypatch.setenv("CDS_WORKERS", "many")
    assert main(["serve", "--dev", "--port", "1"]) == 2
    assert "CDS_WORKERS" in capsys.readouterr().err
    assert not no_gunicorn


def test_default_workers_is_two_per_core_plus_one_capped_by_memory(monkeypatch):
    import cds_service.cli as cli

    monkeypatch.delenv("CDS_WORKERS", raising=False)
    monkeypatch.setattr(cli, "_cores", lambda: 2)
    monkeypatch.setattr(cli, "_memory_bytes", lambda: 64 * 1024**3)
    assert cli.default_workers() == 5
    # One worker per 320 MiB: a worker's measured peak under the per-call FHIR byte cap is 257-270 MB.
    monkeypatch.setattr(cli, "_memory_bytes", lambda: 768 * 1024**2)
    assert cli.default_workers() == 2
    monkeypatch.setattr(cli, "_memory_bytes", lambda: 960 * 1024**2)
    assert cli.default_workers() == 3
    monkeypatch.setattr(cli, "_memory_bytes", lambda: 959 * 1024**2)
    assert cli.default_workers() == 2
    monkeypatch.setattr(cli, "_memory_bytes", lambda: 100 * 1024**2)
    assert cli.default_workers() == 1


def test_cores_follow_the_cpu_quota_of_a_container(monkeypatch, tmp_path):
    import cds_service.cli as cli

    cpu_max = tmp_path / "cpu.max"
    real_path = cli.Path
    monkeypatch.setattr(cli, "Path", lambda p: cpu_max if p == "/sys/fs/cgroup/cpu.max" else real_path(p))
    monkeypatch.setattr(cli.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5, 6, 7})
    cpu_max.write_text("150000 100000\n")
    assert cli._cores() == 2
    cpu_max.write_text("max 100000\n")
    assert cli._cores() == 8
    cpu_max.unlink()
    assert cli._cores() == 8
