"""Scans of stamps (append-only) and shoppers' reports of suspect products."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, PrimaryKeyConstraint, String, Text, event
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.compiler import DDLCompiler

from traceability.db import Base, enum_type, utcnow
from traceability.verification import partitions
from traceability.verification.verdicts import Verdict

# 64-bit ids where scans are many (hundreds of millions a year); SQLite's rowid is 64-bit already and only
# INTEGER PRIMARY KEY is its alias.
ScanId = BigInteger().with_variant(Integer(), "sqlite")


class Channel(enum.Enum):
    PAGE = "page"  # the page a QR opens
    API = "api"  # GET /api/v1/verify
    SERIAL = "serial"  # a serial typed on the home page: proves nothing about the label


class ReportStatus(enum.Enum):
    NEW = "new"
    REVIEWED = "reviewed"
    DISMISSED = "dismissed"


class Scan(Base):
    """One look-up of a code. Never deleted or rewritten; only the province may be filled in once, later.

    No IP address or user agent is stored: `device` and `network_hash` are salted hashes whose salt rotates
    every `salt_period`, so devices cannot be followed from one period to the next nor the hash reversed.
    """

    __tablename__ = "scans"

    # On PostgreSQL the table is partitioned by month of scanned_at (verification/partitions.py), so its
    # primary key is (id, scanned_at); `id` alone stays the ORM's identity, unique through its sequence.
    id: Mapped[int] = mapped_column(ScanId, primary_key=True)
    scanned_at: Mapped[datetime] = mapped_column(default=utcnow)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    verdict: Mapped[Verdict] = mapped_column(enum_type(Verdict))
    flags: Mapped[str] = mapped_column(String(200))  # every verdict that applied, comma-separated
    # The stamp for trusted codes; None for forged or malformed ones (code_hash groups those).
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    sequence: Mapped[int | None]
    code_hash: Mapped[str] = mapped_column(String(32))
    device: Mapped[str] = mapped_column(String(32))
    # The client's network (/24 or /48) under the same salt: clone warnings count these, since one client
    # can send any user agent. None for scans recorded before migration 0006.
    network_hash: Mapped[str | None] = mapped_column(String(32))
    salt_period: Mapped[str] = mapped_column(String(16))
    province_code: Mapped[str | None] = mapped_column(String(2))

    # Only what the queries use (README, "Scans at national scale"): a stamp's history, clone checks and a
    # batch's record by stamp; the inspectors' analytics by time, where a BRIN index fits rows appended in
    # time order at a thousandth of a B-tree's size. No query looks scans up by code_hash.
    __table_args__ = (
        Index("ix_scans_stamp", "batch_id", "sequence", "scanned_at"),
        Index("ix_scans_scanned_at", "scanned_at", postgresql_using="brin"),
        {"postgresql_partition_by": f"RANGE ({partitions.PARTITION_KEY})", "info": {"partitioned": True}},
    )


@compiles(PrimaryKeyConstraint, "postgresql")
def _partitioned_primary_key(constraint: PrimaryKeyConstraint, compiler: DDLCompiler, **kw: Any) -> str:
    """Add the partition key to a partitioned table's primary key, as PostgreSQL requires (create_all)."""
    table = constraint.table
    if not table.info.get("partitioned"):
        return compiler.visit_primary_key_constraint(constraint, **kw)
    columns = ", ".join(compiler.preparer.quote(c.name) for c in constraint.columns)
    name = compiler.preparer.format_constraint(constraint)
    return f"CONSTRAINT {name} PRIMARY KEY ({columns}, {partitions.PARTITION_KEY})"


@event.listens_for(Scan.__table__, "after_create")
def _create_partitions(_table: Any, connection: Any, **_kw: Any) -> None:
    """Give a scans table made by create_all (not the migrations) its DEFAULT and first monthly partitions."""
    if connection.dialect.name == "postgresql":
        partitions.ensure(connection, utcnow(), partitions.DEFAULT_AHEAD)


class ScanDay(Base):
    """Scans of one UTC day counted by batch, province, channel and verdict: what is kept of purged scans.

    Written by the retention purge (verification/retention.py) from the raw scans it removes, in the same
    transaction; no device hash or network hash is kept, only how many there were.
    """

    __tablename__ = "scan_days"

    id: Mapped[int] = mapped_column(ScanId, primary_key=True)
    day: Mapped[date]
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    province_code: Mapped[str | None] = mapped_column(String(2))
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    verdict: Mapped[Verdict] = mapped_column(enum_type(Verdict))
    scans: Mapped[int]
    devices: Mapped[int]  # distinct devices that day (a device hash means one phone within its salt period)
    stamps: Mapped[int]  # distinct stamps of the batch scanned that day

    __table_args__ = (Index("ix_scan_days_day", "day"),)


class Report(Base):
    """A shopper's report of a product whose stamp did not check out, kept for inspectors."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[ReportStatus] = mapped_column(enum_type(ReportStatus), default=ReportStatus.NEW)
    verdict: Mapped[Verdict] = mapped_column(enum_type(Verdict))
    code: Mapped[str] = mapped_column(String(300))  # what was scanned or typed, cut to 300 characters
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    sequence: Mapped[int | None]
    shop_name: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(300))
    province_code: Mapped[str | None] = mapped_column(String(2))
    contact: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    # Re-encoded on upload (no EXIF, so no GPS position or camera serial from the shopper's phone).
    photo: Mapped[bytes | None] = mapped_column(LargeBinary)
    photo_type: Mapped[str | None] = mapped_column(String(40))
    device: Mapped[str] = mapped_column(String(32))

    __table_args__ = (Index("ix_reports_created_at", "created_at"),)
