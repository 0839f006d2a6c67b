"""scans: index by time for the inspectors' analytics

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_scans_scanned_at", "scans", ["scanned_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_scans_scanned_at", table_name="scans")
