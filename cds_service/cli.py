"""The `cds-service` command: serve, evaluate, report, check-config, load-fixtures.

Each command imports what it needs when it runs, so `cds-service --help` and argument errors answer
without loading Flask, SQLAlchemy or the value sets. Nothing imports this module (no cycle can close here).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import textwrap
from datetime import UTC
from pathlib import Path
from typing import Any

LOOPBACK_FHIR = ("http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*")


WORKER_MEMORY_BYTES = 320 * 1024 * 1024  # a worker at its peak: 8 calls at the per-call FHIR byte cap (docs/operations.md)


def _memory_bytes() -> int | None:
    """The memory this process may use: the cgroup limit (a container), else the machine's RAM."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            value = Path(path).read_text(encoding="ascii").strip()
        except OSError:
            continue
        if value.isdigit() and int(value) < 1 << 60:  # "max" or a huge number: no limit
            return int(value)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _cores() -> int:
    """The CPUs this process may use: its CPU affinity, capped by a container's CPU quota (cgroup v2 cpu.max)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text(encoding="ascii").split()[:2]
    except (OSError, ValueError):
        return cores
    if quota.isdigit() and period.isdigit() and int(period) > 0:
        cores = min(cores, max(1, -(-int(quota) // int(period))))  # a quota of 1.5 CPUs counts as 2
    return cores


def default_workers() -> int:
    """CDS_WORKERS if set, else 2 x cores + 1 (gunicorn's advice), capped by memory at 320 MiB a worker."""
    configured = os.environ.get("CDS_WORKERS", "").strip()
    if configured:
        if not configured.isdigit() or int(configured) < 1:
            raise ValueError(f"CDS_WORKERS must be a positive whole number, not {configured!r}")
        return int(configured)
    by_cores = 2 * _cores() + 1
    memory = _memory_bytes()
    by_memory = max(1, memory // WORKER_MEMORY_BYTES) if memory else by_cores
    return max(1, min(by_cores, by_memory))


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("iliac-vein-cds")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _dev_fixtures() -> tuple[int, str]:
    """(how many fixture patients dev mode serves, their stories' most common "now").

    Dev mode evaluates the fixture patients as of that "now", so the demo never ages.
    """
    from collections import Counter

    from cds_service.fixtures import all_fixtures

    fixtures = all_fixtures()
    moments = Counter(f.now.isoformat() for f in fixtures)
    return len(fixtures), (moments.most_common(1)[0][0] if moments else "")


def _warn_no_fixtures() -> None:
    """Said on stderr and in the log: without fixtures, /fixtures-fhir answers 404 and the README's example 412."""
    import logging

    from cds_service.fixtures import DEFAULT_DIRECTORY
    from cds_service.logs import configure_logging

    configure_logging(os.environ.get("CDS_LOG_LEVEL", "INFO"))
    message = (
        f"NO FIXTURE PATIENTS FOUND (looked in {DEFAULT_DIRECTORY}): /fixtures-fhir will answer 404 "
        "and hook calls that name it 412. Reinstall the package (pip install .) or run from a clone."
    )
    print(f"cds-service: WARNING: {message}", file=sys.stderr)
    logging.getLogger("cds_service.cli").warning(message)


def _metrics_folder() -> str | None:
    """A fresh PROMETHEUS_MULTIPROC_DIR for this server, or None when the caller set one (theirs to keep)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return None
    folder = tempfile.mkdtemp(prefix="cds-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    return folder


def _configuration_problem(settings) -> str:
    """What would stop every worker from booting, said once in plain words instead of a traceback each."""
    from cds_service.site_config import SiteConfigError, load_for_service

    try:
        load_for_service(settings.site_config, settings.local_valuesets)  # the site file (issue 13)
    except SiteConfigError as error:
        return f"site configuration {error}"
    if settings.auth != "required":
        return ""
    if not settings.public_base_url:
        return "CDS_AUTH=required needs CDS_PUBLIC_BASE_URL (the JWT audience is checked against it)"
    from cds_service.auth.errors import TrustedClientsError
    from cds_service.auth.trusted_clients import configured_clients

    try:
        configured_clients(settings.trusted_clients_file, settings.trust_cds_hooks_sandbox)
    except TrustedClientsError as error:
        return str(error)
    return ""


def _serve(args: argparse.Namespace) -> int:
    from cds_service.config import Settings

    overrides: dict = {}
    host = args.host
    fixed_now = ""
    if args.dev:
        host = "127.0.0.1"  # dev mode never listens beyond this machine
        fixture_count, fixed_now = _dev_fixtures()
        if fixture_count == 0:
            _warn_no_fixtures()
        env_allowlist = tuple(p for p in os.environ.get("CDS_FHIR_ALLOWLIST", "").split(",") if p.strip())
        port_base = f"http://127.0.0.1:{args.port}"
        overrides.update(
            dev_mode=True,
            auth=os.environ.get("CDS_AUTH", "off"),
            trust_cds_hooks_sandbox=True,
            fhir_allowlist=env_allowlist + LOOPBACK_FHIR,
            fhir_open_servers=LOOPBACK_FHIR,
            public_base_url=os.environ.get("CDS_PUBLIC_BASE_URL", port_base),
            fixed_now=os.environ.get("CDS_FIXED_NOW") or fixed_now,
        )
    settings = Settings.from_env(**overrides)

    problem = _configuration_problem(settings)
    if args.workers is None and not problem:
        try:
            args.workers = default_workers()
        except ValueError as error:
            problem = str(error)
    if problem:
        print(f"cds-service: cannot start: {problem}", file=sys.stderr)
        return 2
    # Multi-process metrics must be configured before prometheus_client is imported (by the app).
    metrics_folder = _metrics_folder()
    master = os.getpid()
    try:
        return _run_gunicorn(args, host, settings)
    finally:
        # Workers are forks that leave through here too: only the master removes the folder.
        if metrics_folder and os.getpid() == master:
            shutil.rmtree(metrics_folder, ignore_errors=True)


def _run_gunicorn(args: argparse.Namespace, host: str, settings) -> int:
    from gunicorn.app.base import BaseApplication

    from cds_service.app import create_app

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("threads", args.threads)
            # gthread, with JSON error pages and an idle timeout per client (cds_service/gunicorn_worker.py)
            self.cfg.set("worker_class", "cds_service.gunicorn_worker.CdsWorker")
            self.cfg.set("timeout", 30)  # a worker silent for 30 s is killed and replaced by the master
            self.cfg.set("graceful_timeout", 10)  # SIGTERM: requests in flight get 10 s, the card log flushes
            self.cfg.set("keepalive", 5)
            # A CDS Hooks JWT may be 16 KiB (MAX_TOKEN_LENGTH): header lines up to 32 KiB pass, the request
            # line up to 8 KiB, and 100 header fields.
            self.cfg.set("limit_request_field_size", 32768)
            self.cfg.set("limit_request_line", 8190)
            self.cfg.set("limit_request_fields", 100)
            self.cfg.set("accesslog", None)  # the app logs each request as JSON, without query strings
            self.cfg.set("errorlog", "-")

        def load(self):
            return create_app(settings)

    from cds_service.gunicorn_worker import CdsWorker

    CdsWorker.idle_timeout = settings.client_idle_timeout

    # Create the tables once, before gunicorn forks: workers racing to create them can fail to boot.
    from cds_service.store.repository import make_engine

    make_engine(settings.database_url).dispose()
    if args.dev:
        print(f"Dev mode: http://127.0.0.1:{args.port}/cds-services  (auth {settings.auth}; CDS Hooks sandbox trusted)")
    Server().run()
    return 0


def _print_cards(cards: list[dict]) -> None:
    if not cards:
        print("No cards.")
        return
    rows = [(c.get("indicator", ""), c.get("source", {}).get("topic", {}).get("code", ""), c.get("summary", ""))
            for c in cards]
    widths = [max(len(r[i]) for r in rows + [("indicator", "rule", "")]) for i in range(2)]
    print(f"{'indicator'.ljust(widths[0])}  {'rule'.ljust(widths[1])}  summary")
    for indicator, rule, summary in rows:
        print(f"{indicator.ljust(widths[0])}  {rule.ljust(widths[1])}  {summary}")


def _fixture_for(document: dict, hook: str):
    """A fixture Bundle as is; a plain Bundle (a record plus draft orders) tagged with the hook asked for."""
    from datetime import datetime

    from cds_service.fixtures import FIXTURE_SYSTEM, FixtureError, fixture_from_bundle

    try:
        return fixture_from_bundle(document)
    except FixtureError:
        bundle = dict(document)
        bundle["meta"] = {"tag": [{"system": FIXTURE_SYSTEM, "code": hook}]}
        bundle.setdefault("timestamp", datetime.now(UTC).isoformat())
        return fixture_from_bundle(bundle)


def _evaluated_file(name: str) -> Path:
    """The file as given; else the bundled fixture of that name, so the examples work outside a clone too."""
    given = Path(name)
    if given.exists():
        return given
    from cds_service.fixtures import DEFAULT_DIRECTORY

    bundled = DEFAULT_DIRECTORY / (given.name if given.suffix == ".json" else f"{given.name}.json")
    return bundled if bundled.is_file() else given


def _evaluate(args: argparse.Namespace) -> int:
    import json
    from datetime import datetime

    from cds_service.app import create_app
    from cds_service.config import Settings
    from cds_service.fixtures import FixtureError, build_request
    from cds_service.services import all_services

    try:
        with open(_evaluated_file(args.file), encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError) as error:
        print(f"cannot read {args.file}: {error}", file=sys.stderr)
        return 2
    service_id = f"iliac-vein-{args.hook}"
    now = datetime.now(UTC)
    if isinstance(document, dict) and document.get("resourceType") == "Bundle":
        try:
            fixture = _fixture_for(document, args.hook)
        except FixtureError as error:
            print(f"{args.file}: {error}", file=sys.stderr)
            return 2
        if fixture.hook != args.hook:
            print(f"warning: {args.file} is a fixture for {fixture.hook}, evaluated here as {args.hook}: "
                  f"its draft orders and expected cards are for {fixture.hook}", file=sys.stderr)
        entry = next(s.discovery_json() for s in all_services() if s.id == service_id)
        body = build_request(fixture, entry, prefetch=True, hook=args.hook)
        now = fixture.now
    else:
        body = document
    if args.now:
        now = datetime.fromisoformat(args.now.replace("Z", "+00:00"))
    app = create_app(Settings(auth="off", database_url="sqlite://", clock=lambda: now, log_level="ERROR",
                              site_config=os.environ.get("CDS_SITE_CONFIG", "")))
    response = app.test_client().post(f"/cds-services/{service_id}", json=body)
    answer = response.get_json(silent=True) or {}
    if response.status_code != 200:
        print(json.dumps(answer, indent=2), file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(answer, indent=2))
    else:
        _print_cards(answer.get("cards", []))
    return 0


def _report(args: argparse.Namespace) -> int:
    from datetime import datetime

    from cds_service.config import Settings
    from cds_service.report_formats import render
    from cds_service.rules.cards import OVERRIDE_REASON_LABELS
    from cds_service.store.report import build_report
    from cds_service.store.repository import Store, make_engine

    since = None
    if args.since:
        try:
            since = datetime.fromisoformat(args.since).replace(tzinfo=UTC)
        except ValueError:
            print(f"--since must be a date like 2026-01-31, not {args.since!r}", file=sys.stderr)
            return 2
    settings = Settings.from_env()
    if args.card:
        return _card_audit(Store(make_engine(settings.database_url)), args.card, args.format)
    reports = build_report(Store(make_engine(settings.database_url)), since, OVERRIDE_REASON_LABELS)
    text = render(args.format, reports, since)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
        print(f"wrote {args.output} ({len(reports)} rules)", file=sys.stderr)
    else:
        print(text)
    return 0


def _card_audit(store, card_uuid: str, fmt: str) -> int:
    """One card of the log: its rule, status, the FHIR references it used, and the feedback on it."""
    import json

    from cds_service.store.report import card_audit

    audit = card_audit(store, card_uuid)
    if audit is None:
        print(f"no card {card_uuid} in the card log", file=sys.stderr)
        return 1
    if fmt == "json":
        print(json.dumps(audit.as_json(), indent=2))
        return 0
    print(f"card        {audit.card_uuid}\nrule        {audit.rule_id} ({audit.indicator})\nservice     {audit.service_id}")
    print(f"status      {audit.status}" + (f" (repeats card {audit.repeats_card})" if audit.repeats_card else ""))
    print(f"issued at   {audit.issued_at.isoformat()}\nfingerprint {audit.evidence_fingerprint or '-'}")
    print("facts used  " + ("\n            ".join(audit.fact_refs) or "-"))
    for item in audit.feedback or [{"outcome": "-", "at": "", "reason": "", "comment": ""}]:
        details = "; ".join(x for x in (item["reason"], item["comment"]) if x)
        print(f"feedback    {item['outcome']} {item['at']}" + (f" ({details})" if details else ""))
    return 0


def _check_config(args: argparse.Namespace) -> int:
    import json

    from cds_service.site_config import SiteConfigError, load_site_config

    try:
        site = load_site_config(args.file)
    except SiteConfigError as error:
        print(f"cds-service: {error}", file=sys.stderr)
        return 1
    effective = site.effective()
    if args.json:
        print(json.dumps(effective, indent=2))
        return 0
    print(f"{args.file}: valid")
    for change in effective["site_values"]:
        print(f"  site setting {change['setting']}: {change['site']} (guideline: {change['guideline']})")
    print(f"  lockout_days (patient-view info and warning cards): {site.lockout_days}")
    for rule_id, entry in effective["rules"].items():
        days = entry.get("lockout_days", {})
        locks = ", ".join(f"{level} {n} d" for level, n in days.items() if n)
        if entry["mode"] != "active" or locks or rule_id in site.rules:
            print(f"  {rule_id}: {entry['mode']}" + (f"; lockout {locks}" if locks else ""))
    if site.local_valuesets:
        print(f"  local_valuesets: {site.local_valuesets}")
    return 0


def _load_fixtures(args: argparse.Namespace) -> int:
    from cds_service.fixture_loader import load_fixtures_into

    return load_fixtures_into(args.fhir_server, args.token, args.directory, progress=sys.stderr)


EXAMPLES = {
    "serve": """
        examples:
          cds-service serve --dev                     # demo on 127.0.0.1:8080 with the bundled fixtures
          cds-service serve --host 0.0.0.0 --port 8080 --workers 4
    """,
    "evaluate": """
        examples:
          cds-service evaluate --hook patient-view fhir_fixtures/left-leg-swelling-no-imaging.json
          cds-service evaluate --hook order-sign --json my-order-sign-request.json
    """,
    "report": """
        examples:
          cds-service report                                  # table of every rule
          cds-service report --since 2026-01-01 --format csv > overrides.csv
          cds-service report --format html --output report.html
          cds-service report --card 6f1c...e2             # one card: facts used, status, feedback
    """,
    "check-config": """
        examples:
          cds-service check-config /etc/cds/site.yaml          # valid? then the effective settings
          cds-service check-config --json site.yaml | jq .rules
    """,
    "load-fixtures": """
        examples:
          cds-service load-fixtures --fhir-server http://localhost:8090/fhir
          cds-service load-fixtures --fhir-server https://sandbox.example/fhir --token "$TOKEN"
    """,
}


def _add_command(commands, name: str, help: str, description: str) -> argparse.ArgumentParser:
    """A subcommand whose --help ends with its examples."""
    return commands.add_parser(
        name,
        help=help,
        description=description,
        epilog=textwrap.dedent(EXAMPLES[name]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cds-service",
        description="CDS Hooks service for the iliac vein compression pathway.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_serve_command(commands)
    _add_evaluate_command(commands)
    _add_report_command(commands)
    _add_check_command(commands)
    _add_load_command(commands)
    return parser


def _add_serve_command(commands: Any) -> None:
    serve = _add_command(
        commands,
        "serve",
        help="run the service under gunicorn",
        description="Run the service under gunicorn (settings from CDS_* environment variables).",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        "--workers", type=int, help="gunicorn workers (default: CDS_WORKERS, else 2 x cores + 1 capped by memory)"
    )
    serve.add_argument("--threads", type=int, default=4, help="threads per worker (gthread)")
    serve.add_argument(
        "--dev",
        action="store_true",
        help="loopback only, auth off (unless CDS_AUTH=required), trusts the CDS Hooks sandbox, "
        "allows loopback FHIR servers, serves the fixtures at /fixtures-fhir",
    )
    serve.set_defaults(run=_serve)


def _add_evaluate_command(commands: Any) -> None:
    evaluate = _add_command(
        commands,
        "evaluate",
        help="run one hook offline and print its cards",
        description="Run a CDS Hooks request (JSON), or a fixture Bundle (a patient record plus draft orders), "
        "through the same code path as the service, without a server or network.",
    )
    evaluate.add_argument("--hook", required=True, choices=["patient-view", "order-select", "order-sign"])
    evaluate.add_argument("--json", action="store_true", help="print the CDS Hooks response as JSON")
    evaluate.add_argument("--now", help="evaluate as of this ISO 8601 instant (default: now, or the fixture's)")
    evaluate.add_argument(
        "file", help="a JSON file, or the name of a bundled fixture (e.g. left-leg-swelling-no-imaging)"
    )
    evaluate.set_defaults(run=_evaluate)


def _add_report_command(commands: Any) -> None:
    report = _add_command(
        commands,
        "report",
        help="per-rule card and override report from the database",
        description="Cards issued, accepted and overridden per rule, with the most common override reasons "
        "(reads CDS_DATABASE_URL).",
    )
    report.add_argument("--since", help="only cards issued on or after this date (YYYY-MM-DD)")
    report.add_argument("--format", choices=["table", "csv", "json", "html"], default="table")
    report.add_argument("--output", help="write to this file instead of standard output")
    report.add_argument("--card", metavar="UUID", help="one card instead: the FHIR references it used, its status "
                        "(issued, silent, suppressed) and the feedback on it (table or json)")
    report.set_defaults(run=_report)


def _add_check_command(commands: Any) -> None:
    check = _add_command(
        commands,
        "check-config",
        help="validate a site configuration file and print the effective settings",
        description="Validate a site governance file (the YAML named by CDS_SITE_CONFIG, "
        "docs/site-configuration.md) and print the settings the service would use. Exit 1 on any error.",
    )
    check.add_argument("--json", action="store_true", help="print the effective settings as JSON")
    check.add_argument("file")
    check.set_defaults(run=_check_config)


def _add_load_command(commands: Any) -> None:
    load = _add_command(
        commands,
        "load-fixtures",
        help="post the fixture patients into a FHIR server",
        description="Post each fixture patient's record as a transaction Bundle (PUT by id) into a FHIR R4 "
        "server, for integration testing there (HAPI, a SMART sandbox).",
    )
    load.add_argument("--fhir-server", required=True)
    load.add_argument("--token", help="bearer token for the FHIR server")
    load.add_argument("--directory", help="fixture folder (default: the bundled fhir_fixtures/)")
    load.set_defaults(run=_load_fixtures)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
