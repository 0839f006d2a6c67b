"""Tables that refuse UPDATE and DELETE, as trigger DDL for PostgreSQL and SQLite.

The batch ledger and the scratch-off claims are records whose whole value is that nobody, the operator included,
can change or remove a row once written. Migrations create the triggers; the test suite lifts them on SQLite
while it empties the tables between tests (PostgreSQL's TRUNCATE fires no row trigger).
"""

from __future__ import annotations

from dataclasses import dataclass

ACTIONS = ("UPDATE", "DELETE")


@dataclass(frozen=True)
class AppendOnly:
    """Append-only triggers over some tables, refusing with one message and one PostgreSQL trigger function."""

    tables: tuple[str, ...]
    refusal: str
    function: str  # the PostgreSQL trigger function's name

    def create_statements(self, dialect: str) -> list[str]:
        """Return the statements that make every table refuse UPDATE and DELETE on this dialect."""
        if dialect == "postgresql":
            function = (
                f"CREATE OR REPLACE FUNCTION {self.function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN RAISE EXCEPTION '{self.refusal}: % on % refused', TG_OP, TG_TABLE_NAME "
                "USING ERRCODE = 'restrict_violation'; END $$"
            )
            return [function] + [
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {self.function}()"
                for table in self.tables
            ]
        return [
            f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{self.refusal}'); END"
            for table in self.tables
            for action in ACTIONS
        ]

    def drop_statements(self, dialect: str) -> list[str]:
        """Return the statements that remove what create_statements made on this dialect."""
        if dialect == "postgresql":
            return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}" for table in self.tables] + [
                f"DROP FUNCTION IF EXISTS {self.function}()"
            ]
        return [f"DROP TRIGGER IF EXISTS {table}_no_{action.lower()}" for table in self.tables for action in ACTIONS]
