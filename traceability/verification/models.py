"""Scans of stamps (append-only) and shoppers' reports of suspect products."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from traceability.db import Base, enum_type, utcnow
from traceability.verification.verdicts import Verdict


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

    id: Mapped[int] = mapped_column(primary_key=True)
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

    __table_args__ = (
        Index("ix_scans_stamp", "batch_id", "sequence", "scanned_at"),
        Index("ix_scans_code_hash", "code_hash"),
        # The inspectors' analytics filter every scan by time (traceability/verification/analytics.py).
        Index("ix_scans_scanned_at", "scanned_at"),
    )


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
