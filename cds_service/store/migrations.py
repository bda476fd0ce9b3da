"""Columns added to existing tables after a database was first created (`create_all` adds only tables).

Each column is nullable or has a server default, so `ALTER TABLE ... ADD COLUMN` works on SQLite and
PostgreSQL alike and old rows read as before (an old card row counts as issued).
"""
from __future__ import annotations

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import OperationalError, ProgrammingError

ADDED_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "cards_issued": (
        ("status", "VARCHAR(16) DEFAULT 'issued' NOT NULL"),
        ("repeats_card", "VARCHAR(64) DEFAULT '' NOT NULL"),
        ("fact_refs", "TEXT DEFAULT '' NOT NULL"),
        ("evidence_fingerprint", "VARCHAR(64) DEFAULT '' NOT NULL"),
    ),
}


def add_missing_columns(engine: Engine) -> list[str]:
    """Add every column of ADDED_COLUMNS a table lacks; returns "table.column" for each one added."""
    added = []
    inspector = inspect(engine)
    for table, columns in ADDED_COLUMNS.items():
        present = {column["name"] for column in inspector.get_columns(table)}
        for name, ddl in columns:
            if name in present:
                continue
            try:
                with engine.begin() as connection:
                    connection.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {ddl}"))
                added.append(f"{table}.{name}")
            except (OperationalError, ProgrammingError):  # another process added it first
                continue
    return added
