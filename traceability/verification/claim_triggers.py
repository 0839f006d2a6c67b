"""The triggers that make scratch-off claims and failed attempts append-only (traceability/appendonly.py).

One definition for migration 0010 and for the test suite.
"""

from __future__ import annotations

from traceability.appendonly import AppendOnly

TABLES = ("scratch_claims", "scratch_failures")
REFUSAL = "scratch-off claims are append-only"
TRIGGERS = AppendOnly(TABLES, REFUSAL, "scratch_refuse_change")

create_statements = TRIGGERS.create_statements
drop_statements = TRIGGERS.drop_statements
