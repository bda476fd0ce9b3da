"""Tests share code one way: fixtures in conftest.py, everything else from tests.helpers.<module>.

A test module that imports another test module (or a conftest) ties two test files together and
depends on pytest's sys.path set-up; this check fails on any such import.
"""
from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
        elif isinstance(node, ast.ImportFrom):
            found.append("." * node.level + (node.module or ""))
    return found


def _test_module_names() -> set[str]:
    return {path.stem for path in TESTS.rglob("*.py")}


def test_tests_import_shared_code_only_from_tests_helpers():
    local = _test_module_names() - {"__init__"}
    offending = []
    for path in sorted(TESTS.rglob("*.py")):
        for module in _imported_modules(path):
            first = module.split(".")[0]
            from_tests = first == "tests" and not module.startswith("tests.helpers")
            if module.startswith(".") or from_tests or (first in local and first != "tests"):
                offending.append(f"{path.relative_to(TESTS)} imports {module}")
    assert offending == [], "share helpers via conftest fixtures or tests.helpers:\n" + "\n".join(offending)


def test_the_check_sees_a_test_module_import(tmp_path):
    sample = tmp_path / "test_sample.py"
    sample.write_text("from test_assessment import facts\nfrom tests.helpers.hooks import ECHO\n", encoding="utf-8")
    assert _imported_modules(sample) == ["test_assessment", "tests.helpers.hooks"]
