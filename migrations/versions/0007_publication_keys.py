"""signing_keys.purpose: a publication key signs the trust list and revocation bundle, never a stamp

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("signing_keys") as batch:
        batch.add_column(
            sa.Column(
                "purpose",
                sa.Enum("stamp", "publication", name="keypurpose", native_enum=False, length=32),
                nullable=False,
                server_default="stamp",
            )
        )


def downgrade() -> None:
    # Without the column a publication key would read as a stamp key and could be picked to sign batches.
    # Its private file (ocop-publication-<kid>.pem) stays in the key store, which the old code never reads.
    op.execute("DELETE FROM signing_keys WHERE purpose = 'publication'")
    with op.batch_alter_table("signing_keys") as batch:
        batch.drop_column("purpose")
