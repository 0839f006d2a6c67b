"""One row per privileged action; rows are only ever added."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from traceability.db import Base, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # "user:<email>" for a person in the browser, "cli:<login>" for the command line.
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))  # e.g. batch.approve, registry.producer.update
    target: Mapped[str] = mapped_column(String(120))  # e.g. batch:42, producer:NT-HTX01, user:7
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_audit_log_target", "target"), Index("ix_audit_log_at", "at"))
