"""The stored ledger: one row per entry in leaf order, and every signed checkpoint. Append-only (see ddl.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, LargeBinary, Text
from sqlalchemy.orm import Mapped, mapped_column

from traceability.db import Base, utcnow


class LedgerRecord(Base):
    """One ledger entry as stored: its leaf index, its batch, its canonical bytes and their leaf hash."""

    __tablename__ = "ledger_entries"

    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # Named by string so the ledger imports nothing of the stamps package.
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), unique=True)
    entry: Mapped[bytes] = mapped_column(LargeBinary(540))  # 30 + two codes of at most 255 bytes
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("leaf_index >= 0", name="leaf_index_natural"),)


class LedgerCheckpoint(Base):
    """A signed tree head for one tree size: the root hash, the whole signed note and the key that signed it."""

    __tablename__ = "ledger_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    key_id: Mapped[int] = mapped_column(ForeignKey("signing_keys.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("tree_size >= 1", name="tree_size_positive"),)
