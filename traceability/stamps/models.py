"""Signing keys, stamp batches and stamp state kept as ranges (a batch of 30,000 is a few rows)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traceability.db import Base, enum_type, utcnow
from traceability.registry.models import Certification, Product


class KeyStatus(enum.Enum):
    ACTIVE = "active"  # signs new batches
    RETIRED = "retired"  # signs nothing new; its stamps stay valid on shelves
    COMPROMISED = "compromised"  # trusted only for batches issued strictly before `compromised_at`


class KeyPurpose(enum.Enum):
    STAMP = "stamp"  # signs stamps
    PUBLICATION = "publication"  # signs the trust list and the revocation bundle; never a stamp


class SigningKey(Base):
    """The public half and lifecycle of a signing key; the private half lives in the key store."""

    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # the key id in stamps
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    status: Mapped[KeyStatus] = mapped_column(enum_type(KeyStatus))
    # One id space for both purposes: a key id names one key, whatever it signs.
    purpose: Mapped[KeyPurpose] = mapped_column(enum_type(KeyPurpose), default=KeyPurpose.STAMP, server_default="stamp")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]
    compromised_at: Mapped[datetime | None]
    # No longer written nor read: trust in a compromised key is decided by each batch's issue time (batch ids
    # are given at request time, not in issue order, and a thief writes any batch number into a stamp).
    # Kept so that rows written before stay readable without a migration.
    last_trusted_batch_id: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (CheckConstraint("id BETWEEN 1 AND 65535", name="kid_u16"),)


class BatchStatus(enum.Enum):
    REQUESTED = "requested"  # a producer asked; nothing allocated
    REJECTED = "rejected"
    ISSUED = "issued"  # serials allocated and signed
    REVOKED = "revoked"  # every stamp of the batch is withdrawn


class RangeState(enum.Enum):
    ISSUED = "issued"
    PRINTED = "printed"
    ACTIVATED = "activated"  # applied to goods at packing
    VOIDED = "voided"  # damaged or lost before use
    REVOKED = "revoked"


class Batch(Base):
    __tablename__ = "batches"

    # The batch id is the high part of every stamp id. PostgreSQL's sequence never hands an id out
    # twice; SQLite's AUTOINCREMENT never reuses a committed id. A rolled-back batch may lose its id to
    # the next one on SQLite, but its secret dies with it, so nothing it signed ever verifies.
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    certification_id: Mapped[int | None] = mapped_column(ForeignKey("certifications.id"))
    key_id: Mapped[int | None] = mapped_column(ForeignKey("signing_keys.id"))
    status: Mapped[BatchStatus] = mapped_column(enum_type(BatchStatus))
    quantity: Mapped[int]
    lot: Mapped[str | None] = mapped_column(String(60))
    production_date: Mapped[date | None]
    expiry_date: Mapped[date | None]
    layout: Mapped[str | None] = mapped_column(String(40))
    # Every stamp carries a hidden code under a scratch-off layer, derived from `secret` (stamps/scratch.py).
    scratch_off: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Stars and validity are frozen into the stamps at signing; kept here to reproduce them exactly.
    stars: Mapped[int | None]
    valid_until_month: Mapped[int | None]
    # Secret per batch from which each stamp's random byte and printed check code derive, so a reprint
    # gives identical stamps and knowing one stamp reveals nothing about its neighbours.
    secret: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    requested_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(Text)

    product: Mapped[Product] = relationship()
    certification: Mapped[Certification | None] = relationship()
    ranges: Mapped[list[StampRange]] = relationship(
        back_populates="batch", order_by="StampRange.start", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("quantity BETWEEN 1 AND 16777216", name="quantity_fits_stamp"),
        CheckConstraint("id < 4294967296", name="id_fits_stamp"),
        {"sqlite_autoincrement": True},
    )


class StampRange(Base):
    """Stamps [start, end) of a batch that share one state; ranges of a batch never overlap."""

    __tablename__ = "stamp_ranges"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    start: Mapped[int]
    end: Mapped[int]
    state: Mapped[RangeState] = mapped_column(enum_type(RangeState))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)

    batch: Mapped[Batch] = relationship(back_populates="ranges")

    __table_args__ = (
        CheckConstraint('start >= 0 AND start < "end"', name="range_order"),
        Index("ix_stamp_ranges_batch_start", "batch_id", "start", unique=True),
    )
