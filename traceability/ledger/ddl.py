"""The triggers that make the ledger tables append-only, as DDL for PostgreSQL and SQLite.

One definition for the migration that creates them and for the test suite, which drops and re-creates them on
SQLite around emptying the tables between tests (PostgreSQL's TRUNCATE fires no row trigger).
"""

from __future__ import annotations

LEDGER_TABLES = ("ledger_entries", "ledger_checkpoints")
REFUSAL = "the batch ledger is append-only"

_PG_FUNCTION = "ledger_refuse_change"


def create_statements(dialect: str) -> list[str]:
    """Return the statements that make both ledger tables refuse UPDATE and DELETE on this dialect."""
    if dialect == "postgresql":
        function = (
            f"CREATE OR REPLACE FUNCTION {_PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{REFUSAL}: % on % refused', TG_OP, TG_TABLE_NAME "
            "USING ERRCODE = 'restrict_violation'; END $$"
        )
        return [function] + [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {_PG_FUNCTION}()"
            for table in LEDGER_TABLES
        ]
    return [
        f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
        for table in LEDGER_TABLES
        for action in ("UPDATE", "DELETE")
    ]


def drop_statements(dialect: str) -> list[str]:
    """Return the statements that remove what create_statements made on this dialect."""
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}" for table in LEDGER_TABLES] + [
            f"DROP FUNCTION IF EXISTS {_PG_FUNCTION}()"
        ]
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_{action.lower()}"
        for table in LEDGER_TABLES
        for action in ("UPDATE", "DELETE")
    ]
