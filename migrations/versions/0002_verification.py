"""verification: scans and shopper reports

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERDICTS = (
    "malformed",
    "forged",
    "unknown_key",
    "revoked",
    "certificate_expired",
    "not_activated",
    "suspicious",
    "genuine",
)


def _verdict() -> sa.Enum:
    return sa.Enum(*VERDICTS, name="verdict", native_enum=False, length=32)


def upgrade() -> None:
    op.create_table(
        "scans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "channel", sa.Enum("page", "api", "serial", name="channel", native_enum=False, length=32), nullable=False
        ),
        sa.Column("verdict", _verdict(), nullable=False),
        sa.Column("flags", sa.String(length=200), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("code_hash", sa.String(length=32), nullable=False),
        sa.Column("device", sa.String(length=32), nullable=False),
        sa.Column("salt_period", sa.String(length=16), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_scans_batch_id_batches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scans")),
    )
    op.create_index("ix_scans_code_hash", "scans", ["code_hash"], unique=False)
    op.create_index("ix_scans_stamp", "scans", ["batch_id", "sequence", "scanned_at"], unique=False)
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum("new", "reviewed", "dismissed", name="reportstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("verdict", _verdict(), nullable=False),
        sa.Column("code", sa.String(length=300), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("shop_name", sa.String(length=200), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=True),
        sa.Column("contact", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("photo", sa.LargeBinary(), nullable=True),
        sa.Column("photo_type", sa.String(length=40), nullable=True),
        sa.Column("device", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_reports_batch_id_batches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
    )
    op.create_index("ix_reports_created_at", "reports", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_reports_created_at", table_name="reports")
    op.drop_table("reports")
    op.drop_index("ix_scans_stamp", table_name="scans")
    op.drop_index("ix_scans_code_hash", table_name="scans")
    op.drop_table("scans")
