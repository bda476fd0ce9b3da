"""A run that skips the PostgreSQL tests says so in its summary (tests/conftest.py)."""
import os
import subprocess
import sys

from tests.helpers.hooks import REPO


def run_store_tests(**env_changes) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "CDS_TEST_POSTGRES_URL")}
    env.update(env_changes)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/store/test_repository.py", "-k", "ping"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def test_skipped_postgresql_tests_are_named_in_the_summary():
    out = run_store_tests()
    assert "1 PostgreSQL tests SKIPPED: set CDS_TEST_POSTGRES_URL" in out
    assert "1 passed, 1 skipped" in out.splitlines()[-1]


def test_a_service_whose_tests_did_not_skip_is_not_named():
    out = run_store_tests()
    assert "Chromium tests SKIPPED" not in out
