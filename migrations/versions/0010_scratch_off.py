"""scratch-off codes: batches.scratch_off, and append-only scratch_claims and scratch_failures (issue 9)

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from traceability.verification import claim_triggers

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.add_column(sa.Column("scratch_off", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "scratch_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=True),
        sa.Column("network_hash", sa.String(length=32), nullable=True),
        sa.Column("salt_period", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_scratch_claims_batch_id_batches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scratch_claims")),
    )
    op.create_index("ix_scratch_claims_stamp", "scratch_claims", ["batch_id", "sequence", "claimed_at"])
    op.create_table(
        "scratch_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("network_hash", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_scratch_failures_batch_id_batches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scratch_failures")),
    )
    op.create_index("ix_scratch_failures_stamp", "scratch_failures", ["batch_id", "sequence", "failed_at"])
    for statement in claim_triggers.create_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in claim_triggers.drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_index("ix_scratch_failures_stamp", table_name="scratch_failures")
    op.drop_table("scratch_failures")
    op.drop_index("ix_scratch_claims_stamp", table_name="scratch_claims")
    op.drop_table("scratch_claims")
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("scratch_off")
