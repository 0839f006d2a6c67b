"""The triggers that make the ledger tables append-only (traceability/appendonly.py): migration 0009, tests."""

from __future__ import annotations

from traceability.appendonly import AppendOnly

LEDGER_TABLES = ("ledger_entries", "ledger_checkpoints")
REFUSAL = "the batch ledger is append-only"
TRIGGERS = AppendOnly(LEDGER_TABLES, REFUSAL, "ledger_refuse_change")

create_statements = TRIGGERS.create_statements
drop_statements = TRIGGERS.drop_statements
