"""Structured JSON logs. Only whitelisted, PHI-free fields are ever written."""
from __future__ import annotations

import json
import logging
import sys
import time

# Fields a log call may attach with `extra=`; anything else is dropped, so a careless
# `extra={"patient": ...}` can never reach the log.
SAFE_FIELDS = (
    "request_id", "service", "hook", "status", "duration_ms", "method", "path", "reason", "key",
    "count", "pages", "cards", "rules", "issuer", "patient_hash", "error_type", "resource_type",
    "workers", "bind", "setting",
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in SAFE_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = record.exc_info[0].__name__ if record.exc_info[0] else "unknown"
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(getattr(h, "_cds_json", False) for h in root.handlers):
        root.setLevel(level.upper())
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._cds_json = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    # urllib3 logs full URLs (with patient ids in search parameters) at DEBUG
    logging.getLogger("urllib3").setLevel(logging.WARNING)
