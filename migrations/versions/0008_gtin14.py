"""products.gtin: stored as GTIN-14, so 8936123450014 and 08936123450014 are one GTIN and one product's

Revision ID: 0008
Revises: 0007
"""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GTIN_LENGTH = 14

products = sa.table(
    "products", sa.column("id", sa.Integer), sa.column("code", sa.String), sa.column("gtin", sa.String)
)


class GtinClash(RuntimeError):
    """Products whose GTINs are the same trade item once written with 14 digits."""


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(products.c.id, products.c.code, products.c.gtin).where(products.c.gtin.is_not(None))
    ).all()
    by_gtin: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_gtin[row.gtin.zfill(GTIN_LENGTH)].append(row)
    clashes = {gtin: sorted(row.code for row in found) for gtin, found in by_gtin.items() if len(found) > 1}
    if clashes:
        # Which product really carries the GTIN is for the programme office to decide, not a migration.
        listed = "; ".join(f"GTIN {gtin}: products {', '.join(codes)}" for gtin, codes in sorted(clashes.items()))
        raise GtinClash(
            "cannot store GTINs as 14 digits: several products hold the same GTIN written with and without "
            f"leading zeros ({listed}). Keep the GTIN on the one product that carries it (clear it on the "
            "others in the office's registry pages or with SQL), then run the upgrade again. Nothing was changed."
        )
    for gtin, (row,) in by_gtin.items():
        if row.gtin != gtin:
            connection.execute(sa.update(products).where(products.c.id == row.id).values(gtin=gtin))


def downgrade() -> None:
    # Nothing to undo: a 14-digit GTIN is valid input for the code before this revision, and the form
    # each GTIN was first typed in is not kept.
    pass
