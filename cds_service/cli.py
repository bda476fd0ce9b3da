"""The `cds-service` command: serve, evaluate, report, load-fixtures."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import textwrap

LOOPBACK_FHIR = ("http://127.0.0.1", "http://localhost", "http://[::1]")


def default_workers() -> int:
    return max(2, os.cpu_count() or 1)


def _serve(args: argparse.Namespace) -> int:
    # Multi-process metrics must be configured before prometheus_client is imported anywhere.
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="cds-metrics-")
    from gunicorn.app.base import BaseApplication

    from cds_service.app import create_app
    from cds_service.config import Settings

    overrides: dict = {}
    host = args.host
    if args.dev:
        host = "127.0.0.1"  # dev mode never listens beyond this machine
        env_allowlist = tuple(p for p in os.environ.get("CDS_FHIR_ALLOWLIST", "").split(",") if p.strip())
        port_base = f"http://127.0.0.1:{args.port}"
        overrides.update(
            dev_mode=True,
            auth=os.environ.get("CDS_AUTH", "off"),
            trust_cds_hooks_sandbox=True,
            fhir_allowlist=env_allowlist + LOOPBACK_FHIR,
            fhir_open_servers=LOOPBACK_FHIR,
            public_base_url=os.environ.get("CDS_PUBLIC_BASE_URL", port_base),
        )
    settings = Settings.from_env(**overrides)

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("threads", args.threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("timeout", 30)
            self.cfg.set("graceful_timeout", 10)
            self.cfg.set("keepalive", 5)
            self.cfg.set("accesslog", None)  # the app logs each request as JSON, without query strings
            self.cfg.set("errorlog", "-")

        def load(self):
            return create_app(settings)

    if args.dev:
        print(f"Dev mode: http://127.0.0.1:{args.port}/cds-services  (auth {settings.auth}; CDS Hooks sandbox trusted)")
    Server().run()
    return 0


EXAMPLES = {
    "serve": """
        examples:
          cds-service serve --dev                     # demo on 127.0.0.1:8080 with the bundled fixtures
          cds-service serve --host 0.0.0.0 --port 8080 --workers 4
    """,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cds-service",
        description="CDS Hooks service for the iliac vein compression pathway.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the service under gunicorn",
        description="Run the service under gunicorn (settings from CDS_* environment variables).",
        epilog=textwrap.dedent(EXAMPLES["serve"]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=default_workers())
    serve.add_argument("--threads", type=int, default=4, help="threads per worker (gthread)")
    serve.add_argument(
        "--dev",
        action="store_true",
        help="loopback only, auth off (unless CDS_AUTH=required), trusts the CDS Hooks sandbox, "
        "allows loopback FHIR servers, serves the fixtures at /fixtures-fhir",
    )
    serve.set_defaults(run=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
