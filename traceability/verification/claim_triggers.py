"""The triggers that make scratch-off claims and failed attempts append-only, on PostgreSQL and SQLite.

One definition for migration 0010 and for the test suite, which lifts them on SQLite while it empties the
tables between tests (PostgreSQL's TRUNCATE fires no row trigger).
"""

from __future__ import annotations

TABLES = ("scratch_claims", "scratch_failures")
REFUSAL = "scratch-off claims are append-only"
_PG_FUNCTION = "scratch_refuse_change"


def create_statements(dialect: str) -> list[str]:
    """Return the statements that make both tables refuse UPDATE and DELETE on this dialect."""
    if dialect == "postgresql":
        function = (
            f"CREATE OR REPLACE FUNCTION {_PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{REFUSAL}: % on % refused', TG_OP, TG_TABLE_NAME "
            "USING ERRCODE = 'restrict_violation'; END $$"
        )
        return [function] + [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {_PG_FUNCTION}()"
            for table in TABLES
        ]
    return [
        f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
        for table in TABLES
        for action in ("UPDATE", "DELETE")
    ]


def drop_statements(dialect: str) -> list[str]:
    """Return the statements that remove what create_statements made on this dialect."""
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}" for table in TABLES] + [
            f"DROP FUNCTION IF EXISTS {_PG_FUNCTION}()"
        ]
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_{action.lower()}" for table in TABLES for action in ("UPDATE", "DELETE")
    ]
