"""The guideline the pathway implements, shipped inside the package; cards and rule pages quote it
by line, `G:<n>`.

`guideline.md` is a verbatim copy of `../shared/guideline/000_2661f75dfd024a47.txt` (line n = G:n).
It is named `.md` because the package data of pyproject.toml ships `*.md` files, not `*.txt`.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

GUIDELINE_FILE = "guideline.md"
# Trailing reference numbers of the source document ("... weight-adjusted doses 1", "... 1, 2").
_CITATION_TAIL = re.compile(r"\s+\d+(?:,\s*\d+)*\s*$")


@lru_cache(maxsize=1)
def guideline_lines() -> tuple[str, ...]:
    """Every line of the guideline; index 0 is line 1 (G:1)."""
    text = (resources.files("cds_service.pathway") / GUIDELINE_FILE).read_text(encoding="utf-8")
    return tuple(text.splitlines())


def guideline_line(number: int) -> str:
    """The text of G:<number>, without the source's reference numbers; KeyError if out of range."""
    lines = guideline_lines()
    if not 1 <= number <= len(lines):
        raise KeyError(f"the guideline has no line {number}")
    text = lines[number - 1].strip()
    if text.startswith("- "):
        text = text[2:]
    return _CITATION_TAIL.sub("", text)


def is_statement(number: int) -> bool:
    """A statement of the guideline (it cites its sources), not a section heading ("If DVT is Confirmed")."""
    lines = guideline_lines()
    return 1 <= number <= len(lines) and bool(_CITATION_TAIL.search(lines[number - 1].rstrip()))


def guideline_text(lines: Iterable[int]) -> str:
    """The statements of the given lines, one per line, each tagged with its line number."""
    return "\n".join(f"{guideline_line(n)} (G:{n})" for n in lines)
