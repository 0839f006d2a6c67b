"""Print jobs: a batch's print files produced once in the background and kept under PRINT_DIR."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traceability.db import Base, enum_type, utcnow
from traceability.stamps.models import Batch


class JobStatus(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class PrintJob(Base):
    """One request for a batch's print files; a done job is reused by every later request for the same files."""

    __tablename__ = "print_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    layout: Mapped[str] = mapped_column(String(40))
    ecc: Mapped[str] = mapped_column(String(1))
    formats: Mapped[str] = mapped_column(String(60))  # canonical, comma-separated: "pdf", "csv,pdf,zip-svg"
    status: Mapped[JobStatus] = mapped_column(enum_type(JobStatus))
    done: Mapped[int] = mapped_column(default=0)  # stamps written so far, over every format
    total: Mapped[int] = mapped_column(default=0)
    # format -> {"name": file name under PRINT_DIR, "sha256": hex, "bytes": size}; the hashes recorded at the
    # first production are what any later reproduction must match.
    files: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Written with each progress step: a running job whose heartbeat stopped belongs to a dead process.
    heartbeat_at: Mapped[datetime | None]
    # Runs cut off by their process dying; recovery fails the job once this reaches PRINT_JOB_ATTEMPTS.
    interruptions: Mapped[int] = mapped_column(default=0, server_default="0")

    batch: Mapped[Batch] = relationship()

    __table_args__ = (
        Index("ix_print_jobs_batch", "batch_id", "layout", "ecc", "formats"),
        Index("ix_print_jobs_status", "status"),
    )

    @property
    def format_list(self) -> tuple[str, ...]:
        """Return the formats as a tuple."""
        return tuple(self.formats.split(","))
