"""scans partitioned by month on PostgreSQL, daily scan aggregates (issue 10)

On PostgreSQL the plain scans table becomes a table partitioned by RANGE of scanned_at, with its rows: the
new table is created beside the old one, its monthly partitions (every month that has scans, this month and
three ahead, and DEFAULT) in the schema scan_partitions, the rows copied, the old table dropped; the id
sequence is kept (now bigint, owned by the new table), so ids go on where they were. The primary key
becomes (id, scanned_at), as PostgreSQL requires of a partitioned table. ix_scans_code_hash is dropped (no
query uses it) and ix_scans_scanned_at becomes a BRIN index. The copy runs in the migration's transaction:
on a large table plan for it (a few minutes for ten million rows) while the service is stopped.

SQLite keeps one plain table and loses ix_scans_code_hash. Both gain scan_days, which the retention purge
fills. Downgrade converts back to a plain table with its rows; the daily aggregates are dropped.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from traceability.verification import partitions

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    "id",
    "scanned_at",
    "channel",
    "verdict",
    "flags",
    "batch_id",
    "sequence",
    "code_hash",
    "device",
    "salt_period",
    "province_code",
    "network_hash",
)
COLUMN_LIST = ", ".join(f'"{c}"' for c in COLUMNS)


def _scans_table(name: str, id_type: str, primary_key: str, partitioned: bool) -> str:
    """Return the CREATE TABLE of a scans table (the columns as migrations 0002 and 0006 made them)."""
    return f"""
        CREATE TABLE {name} (
            id {id_type} NOT NULL DEFAULT nextval('scans_id_seq'),
            scanned_at TIMESTAMP WITH TIME ZONE NOT NULL,
            channel VARCHAR(32) NOT NULL,
            verdict VARCHAR(32) NOT NULL,
            flags VARCHAR(200) NOT NULL,
            batch_id INTEGER,
            sequence INTEGER,
            code_hash VARCHAR(32) NOT NULL,
            device VARCHAR(32) NOT NULL,
            salt_period VARCHAR(16) NOT NULL,
            province_code VARCHAR(2),
            network_hash VARCHAR(32),
            CONSTRAINT pk_{name} PRIMARY KEY ({primary_key}),
            CONSTRAINT fk_{name}_batch_id_batches FOREIGN KEY (batch_id) REFERENCES batches (id)
        ){" PARTITION BY RANGE (scanned_at)" if partitioned else ""}
    """


def _scan_days() -> None:
    op.create_table(
        "scan_days",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("province_code", sa.String(length=2), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("verdict", sa.String(length=32), nullable=False),
        sa.Column("scans", sa.Integer(), nullable=False),
        sa.Column("devices", sa.Integer(), nullable=False),
        sa.Column("stamps", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_scan_days_batch_id_batches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_days")),
    )
    op.create_index("ix_scan_days_day", "scan_days", ["day"])


def upgrade() -> None:
    _scan_days()
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        op.drop_index("ix_scans_code_hash", table_name="scans")
        return
    op.execute("ALTER TABLE scans RENAME TO scans_unpartitioned")
    op.execute("ALTER TABLE scans_unpartitioned RENAME CONSTRAINT pk_scans TO pk_scans_unpartitioned")
    op.execute(
        "ALTER TABLE scans_unpartitioned RENAME CONSTRAINT fk_scans_batch_id_batches "
        "TO fk_scans_unpartitioned_batch_id_batches"
    )
    for index in ("ix_scans_stamp", "ix_scans_code_hash", "ix_scans_scanned_at"):
        op.execute(f"DROP INDEX {index}")
    op.execute(_scans_table("scans", "BIGINT", "id, scanned_at", partitioned=True))
    # Partitions for every month the old rows fall in, so none of them lands in DEFAULT.
    months = (
        connection.execute(
            sa.text("SELECT DISTINCT date_trunc('month', scanned_at AT TIME ZONE 'UTC')::date FROM scans_unpartitioned")
        )
        .scalars()
        .all()
    )
    op.execute(f'CREATE SCHEMA IF NOT EXISTS "{partitions.SCHEMA}"')
    op.execute(f'CREATE TABLE "{partitions.SCHEMA}"."{partitions.DEFAULT}" PARTITION OF scans DEFAULT')
    for month in months:
        partitions.ensure(connection, partitions.month_start(month), 0)
    partitions.ensure(connection, datetime.now(UTC), partitions.DEFAULT_AHEAD)
    op.execute(f"INSERT INTO scans ({COLUMN_LIST}) SELECT {COLUMN_LIST} FROM scans_unpartitioned")  # noqa: S608 - constant names
    # Indexes after the copy: one build per partition instead of one insertion per row.
    op.execute("CREATE INDEX ix_scans_stamp ON scans (batch_id, sequence, scanned_at)")
    op.execute("CREATE INDEX ix_scans_scanned_at ON scans USING brin (scanned_at)")
    # The sequence belongs to the old table's id: free it before the drop, then give it to the new table.
    op.execute("ALTER SEQUENCE scans_id_seq OWNED BY NONE")
    op.execute("DROP TABLE scans_unpartitioned")
    op.execute("ALTER SEQUENCE scans_id_seq AS BIGINT OWNED BY scans.id")
    op.execute("ANALYZE scans")


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        op.execute(_scans_table("scans_unpartitioned", "INTEGER", "id", partitioned=False))
        op.execute(f"INSERT INTO scans_unpartitioned ({COLUMN_LIST}) SELECT {COLUMN_LIST} FROM scans")  # noqa: S608 - constant names
        op.execute("ALTER SEQUENCE scans_id_seq OWNED BY NONE")
        op.execute("DROP TABLE scans")  # and its partitions
        op.execute(f'DROP SCHEMA "{partitions.SCHEMA}"')  # refused if anything else was put there
        op.execute("ALTER TABLE scans_unpartitioned RENAME TO scans")
        op.execute("ALTER TABLE scans RENAME CONSTRAINT pk_scans_unpartitioned TO pk_scans")
        op.execute(
            "ALTER TABLE scans RENAME CONSTRAINT fk_scans_unpartitioned_batch_id_batches TO fk_scans_batch_id_batches"
        )
        # Refused if ids went past 32 bits: such a table cannot go back.
        op.execute("ALTER SEQUENCE scans_id_seq AS INTEGER OWNED BY scans.id")
        op.create_index("ix_scans_stamp", "scans", ["batch_id", "sequence", "scanned_at"])
        op.create_index("ix_scans_scanned_at", "scans", ["scanned_at"])
    op.create_index("ix_scans_code_hash", "scans", ["code_hash"])
    op.drop_index("ix_scan_days_day", table_name="scan_days")
    op.drop_table("scan_days")
