"""Traceability: every rule in the code is in docs/algorithm.md and RULES.md, and every RULES.md rule is implemented.

Also: every actionable guideline line a rule cites is in the traceability table, and every
test the table names (in files this repository has) exists.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from cds_service.pathway.guideline import guideline_lines
from cds_service.rules.registry import ORDER_RULES, PATIENT_VIEW_RULES

REPO = Path(__file__).parents[2]
ALGORITHM = REPO / "docs" / "algorithm.md"
RULES_MD = Path(__file__).parents[2].parent / "shared" / "pathway" / "RULES.md"
RULE_ID = re.compile(r"\b[A-Z]{2,}(?:-[A-Z0-9]+)+\b")
TEST_REF = re.compile(r"(tests/[\w/]+\.py)::(\w+)")


def order_rule_ids() -> set[str]:
    return {rule.rule_id for rule in ORDER_RULES}


def code_rule_ids() -> set[str]:
    return {rule.rule_id for rule in PATIENT_VIEW_RULES} | order_rule_ids()


def table_rows() -> list[list[str]]:
    """Rows of the traceability table: [line, statement, rule IDs, tests]."""
    text = ALGORITHM.read_text(encoding="utf-8")
    section = text.split("## Traceability", 1)[1]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| G:") and len(cells) == 4:
            rows.append(cells)
    return rows


def table_rule_ids() -> set[str]:
    return {rule_id for row in table_rows() for rule_id in RULE_ID.findall(row[2])}


def rules_md_ids(section: str) -> set[str]:
    """Rule IDs of the first column of one RULES.md table ("Patient-view rules" / "Order rules")."""
    if not RULES_MD.exists():
        pytest.skip(f"shared RULES.md not found at {RULES_MD}: cannot cross-check the rule catalogue")
    text = RULES_MD.read_text(encoding="utf-8")
    body = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z0-9-]+)`(?: \*\*\(R2\)\*\*)? \|", body, flags=re.MULTILINE))


def test_the_table_is_not_empty():
    assert len(table_rows()) >= 40


def test_every_rule_in_the_code_is_in_the_traceability_table():
    missing = code_rule_ids() - table_rule_ids()
    assert not missing, f"rule IDs missing from docs/algorithm.md: {sorted(missing)}"


def test_the_table_names_only_known_rules():
    known = code_rule_ids()
    unknown = table_rule_ids() - known
    assert not unknown, f"docs/algorithm.md names rules that do not exist: {sorted(unknown)}"


def test_every_rule_in_the_code_is_in_rules_md():
    in_rules_md = rules_md_ids("Patient-view rules") | rules_md_ids("Order rules")
    missing = code_rule_ids() - in_rules_md
    assert not missing, f"rule IDs not in RULES.md: {sorted(missing)}"


def test_every_patient_view_rule_of_rules_md_is_implemented():
    missing = rules_md_ids("Patient-view rules") - {rule.rule_id for rule in PATIENT_VIEW_RULES}
    assert not missing, f"RULES.md patient-view rules without implementation: {sorted(missing)}"


def test_every_order_rule_of_rules_md_is_implemented():
    missing = rules_md_ids("Order rules") - order_rule_ids()
    assert not missing, f"RULES.md order rules without implementation: {sorted(missing)}"


def test_every_cited_actionable_line_is_in_the_table():
    """Each line a patient-view rule cites is traced, unless it is a heading."""
    traced = {int(row[0][2:]) for row in table_rows()}
    headings = {n for n, text in enumerate(guideline_lines(), 1) if not text.strip().startswith("-") and len(text) < 60}
    for rule in PATIENT_VIEW_RULES:
        untraced = set(rule.guideline_lines) - traced - headings
        assert not untraced, f"{rule.rule_id} cites G:{sorted(untraced)}, not in the table"


def test_every_row_names_a_real_line_a_rule_and_a_test():
    for row in table_rows():
        assert 1 <= int(row[0][2:]) <= len(guideline_lines()), row[0]
        assert RULE_ID.findall(row[2]), f"{row[0]} has no rule"
        assert TEST_REF.search(row[3]) or "tests/rules/test_order_rules.py" in row[3], f"{row[0]} has no test"


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def test_every_named_test_exists():
    for row in table_rows():
        for file_name, test_name in TEST_REF.findall(row[3]):
            path = REPO / file_name
            assert path.exists(), f"{row[0]}: {file_name} does not exist"
            assert test_name in _test_names(path), f"{row[0]}: {file_name}::{test_name} does not exist"


def test_order_rules_point_at_their_test_file():
    order_ids = order_rule_ids()
    for row in table_rows():
        if set(RULE_ID.findall(row[2])) & order_ids:
            assert "tests/rules/test_order_rules.py" in row[3], row[0]


def test_the_packaged_guideline_is_the_shared_one():
    shared = Path(__file__).parents[2].parent / "shared" / "guideline" / "000_2661f75dfd024a47.txt"
    if not shared.exists():
        pytest.skip(f"shared guideline not found at {shared}")
    assert guideline_lines() == tuple(shared.read_text(encoding="utf-8").splitlines())
