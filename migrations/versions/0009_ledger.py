"""ledger_entries and ledger_checkpoints: the append-only batch ledger (issue 9)

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from traceability.ledger import ddl

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("leaf_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("entry", sa.LargeBinary(length=540), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("leaf_index >= 0", name=op.f("ck_ledger_entries_leaf_index_natural")),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_ledger_entries_batch_id_batches")),
        sa.PrimaryKeyConstraint("leaf_index", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("batch_id", name=op.f("uq_ledger_entries_batch_id")),
    )
    op.create_table(
        "ledger_checkpoints",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("tree_size >= 1", name=op.f("ck_ledger_checkpoints_tree_size_positive")),
        sa.ForeignKeyConstraint(
            ["key_id"], ["signing_keys.id"], name=op.f("fk_ledger_checkpoints_key_id_signing_keys")
        ),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_ledger_checkpoints")),
    )
    for statement in ddl.create_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in ddl.drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("ledger_checkpoints")
    op.drop_table("ledger_entries")
