"""Real servers started by tests: a free loopback port, and gunicorn's workers once they have booted."""
from __future__ import annotations

import socket
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def worker_pids(master_pid: int) -> set[int]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    if not children.exists():
        return set()
    return {int(pid) for pid in children.read_text().split()}


def workers_booted(master_pid: int, expected: int, timeout: float = 20.0) -> set[int]:
    """The workers, once `expected` of them run: /healthz answers as soon as the first one has booted,
    and on a loaded machine the second can take seconds more."""
    deadline = time.monotonic() + timeout
    found = worker_pids(master_pid)
    while len(found) < expected and time.monotonic() < deadline:
        time.sleep(0.2)
        found = worker_pids(master_pid)
    return found
