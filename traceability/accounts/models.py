"""Users: programme-office administrators, inspectors, and producer users bound to one producer."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traceability.db import Base, enum_type, utcnow
from traceability.registry.models import Producer


class Role(enum.Enum):
    ADMINISTRATOR = "administrator"  # programme office: approvals, registry, users
    INSPECTOR = "inspector"  # reads the registry, reviews batches, scans and reports, revokes
    PRODUCER = "producer"  # one producer's staff: requests batches, downloads, activates


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lowercased
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    producer_id: Mapped[int | None] = mapped_column(ForeignKey("producers.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    # Bumped by a password reset or deactivation: every session signed with an older value ends.
    session_epoch: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    producer: Mapped[Producer | None] = relationship()

    __table_args__ = (
        CheckConstraint(
            "(role = 'producer' AND producer_id IS NOT NULL) OR (role <> 'producer' AND producer_id IS NULL)",
            name="producer_binding",
        ),
    )

    @property
    def label(self) -> str:
        """Return how this user appears as the actor of an action."""
        return f"user:{self.email}"
