"""print_jobs.interruptions: how many runs of a job were cut off by their process dying (issue 10)

Recovery counted them in the text of the job's `error` note before; a column cannot be lost by a reworded
note, so a job cannot be run more than PRINT_JOB_ATTEMPTS times.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("print_jobs") as table:
        table.add_column(sa.Column("interruptions", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("print_jobs") as table:
        table.drop_column("interruptions")
