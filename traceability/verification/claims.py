"""Scratch-off claims: a shopper types the code hidden under a stamp's scratch-off layer after buying.

The first correct claim marks the stamp claimed; a later correct claim from another network exposes a copy
(someone else holds a label with the same code), and the stamp then reads "suspicious" for everyone. A
correct code typed again from the network that claimed it first is the same buyer, not a copy. Claims and
wrong attempts are append-only (triggers, migration 0010); a stamp takes at most `max_failures` wrong
codes a day, so guessing a 50-bit code is out of reach (stamps/scratch.py), and each client is rate-limited
too (RATELIMIT_CLAIM). Nothing here ever shows a code.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, String, case, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from traceability.db import Base, utcnow
from traceability.errors import DomainError, ValidationError
from traceability.i18n import N_
from traceability.stamps import scratch
from traceability.stamps.models import Batch
from traceability.verification.provinces import get_province
from traceability.verification.scans import Device

FAILURE_WINDOW = timedelta(days=1)


class ScratchClaim(Base):
    """One correct scratch-off code typed for a stamp. Never updated or deleted."""

    __tablename__ = "scratch_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    sequence: Mapped[int]
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    province_code: Mapped[str | None] = mapped_column(String(2))
    # The claimant's network under the scan salt (verification/scans.py): never an address.
    network_hash: Mapped[str | None] = mapped_column(String(32))
    salt_period: Mapped[str] = mapped_column(String(16))

    __table_args__ = (Index("ix_scratch_claims_stamp", "batch_id", "sequence", "claimed_at"),)


class ScratchFailure(Base):
    """One wrong scratch-off code typed for a stamp, counted against the stamp's daily allowance."""

    __tablename__ = "scratch_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    sequence: Mapped[int]
    failed_at: Mapped[datetime] = mapped_column(default=utcnow)
    network_hash: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (Index("ix_scratch_failures_stamp", "batch_id", "sequence", "failed_at"),)


APPEND_ONLY_TABLES = ("scratch_claims", "scratch_failures")


class NothingToClaim(ValidationError):
    """The stamp has no scratch-off code, or is not a genuine activated stamp."""

    code = "nothing_to_claim"


class ClaimsExhausted(DomainError):
    """Too many wrong codes were typed for this stamp today."""

    code = "too_many_wrong_codes"
    status = 429


class Result(enum.Enum):
    FIRST = "first"  # the stamp is now claimed
    YOURS = "yours"  # the network that claimed it typed the code again
    REPEAT = "repeat"  # claimed before from elsewhere: a copy is exposed
    WRONG = "wrong"


@dataclass(frozen=True)
class ClaimRecord:
    """What the public may know of a stamp's claims: how many, and when and where the first was."""

    count: int
    first_at: datetime | None
    first_province: str | None

    @property
    def claimed(self) -> bool:
        """Say whether the stamp was claimed at all."""
        return self.count > 0

    @property
    def repeated(self) -> bool:
        """Say whether the code was claimed from more than one network: a copy exists."""
        return self.count > 1


@dataclass(frozen=True)
class ClaimOutcome:
    result: Result
    record: ClaimRecord


def first_claims(session: Session, batch_id: int, sequence: int) -> ClaimRecord:
    """Return the count of a stamp's claims and its first claim's time and province."""
    mine = (ScratchClaim.batch_id == batch_id, ScratchClaim.sequence == sequence)
    count = session.scalar(select(func.count(ScratchClaim.id)).where(*mine)) or 0
    first = session.execute(
        select(ScratchClaim.claimed_at, ScratchClaim.province_code)
        .where(*mine)
        .order_by(ScratchClaim.claimed_at, ScratchClaim.id)
        .limit(1)
    ).first()
    return ClaimRecord(count, first[0] if first else None, first[1] if first else None)


def claim(
    session: Session,
    batch: Batch,
    sequence: int,
    typed: str,
    *,
    device: Device,
    at: datetime,
    province: str | None,
    max_failures: int,
) -> ClaimOutcome:
    """Check a typed scratch-off code for a genuine, activated stamp and record the claim or the failure.

    The caller has checked the stamp (genuine and activated); a wrong code is recorded, not raised, so the
    caller commits it.
    """
    if not batch.scratch_off or batch.secret is None or not 0 <= sequence < batch.quantity:
        raise NothingToClaim(N_("this stamp has no scratch-off code"), field="scratch_code")
    try:
        cleaned = scratch.parse_code(typed)
    except ValueError as error:
        raise ValidationError(scratch.CODE_FORMAT, field="scratch_code") from error
    since = at - FAILURE_WINDOW
    failures = session.scalar(
        select(func.count(ScratchFailure.id)).where(
            ScratchFailure.batch_id == batch.id, ScratchFailure.sequence == sequence, ScratchFailure.failed_at >= since
        )
    )
    if (failures or 0) >= max_failures:
        raise ClaimsExhausted(N_("too many wrong codes were typed for this stamp today: try again tomorrow"))
    if not scratch.matches(batch.secret, sequence, cleaned):
        session.add(ScratchFailure(batch_id=batch.id, sequence=sequence, failed_at=at, network_hash=device.network))
        session.flush()
        return ClaimOutcome(Result.WRONG, first_claims(session, batch.id, sequence))
    before = first_claims(session, batch.id, sequence)
    if before.claimed and _claimed_from(session, batch.id, sequence, device):
        return ClaimOutcome(Result.YOURS, before)
    place = province if province and get_province(province) is not None else None
    session.add(
        ScratchClaim(
            batch_id=batch.id,
            sequence=sequence,
            claimed_at=at,
            province_code=place,
            network_hash=device.network,
            salt_period=device.period,
        )
    )
    session.flush()
    return ClaimOutcome(Result.REPEAT if before.claimed else Result.FIRST, first_claims(session, batch.id, sequence))


def _claimed_from(session: Session, batch_id: int, sequence: int, device: Device) -> bool:
    """Say whether this client's network claimed the stamp in the current salt period."""
    if device.network is None:
        return False
    found = session.scalar(
        select(ScratchClaim.id).where(
            ScratchClaim.batch_id == batch_id,
            ScratchClaim.sequence == sequence,
            ScratchClaim.network_hash == device.network,
            ScratchClaim.salt_period == device.period,
        )
    )
    return found is not None


@dataclass(frozen=True)
class BatchClaims:
    """A scratch-off batch's claims, for inspectors."""

    claimed: int  # stamps claimed at least once
    unclaimed: int
    repeated: int  # stamps whose code was claimed from more than one network: copies exist
    failures: int  # wrong codes typed, all time


def batch_claims(session: Session, batch: Batch) -> BatchClaims:
    """Return how many of a batch's stamps were claimed, claimed again, and how many wrong codes were typed."""
    per_stamp = (
        select(ScratchClaim.sequence, func.count(ScratchClaim.id).label("claims"))
        .where(ScratchClaim.batch_id == batch.id)
        .group_by(ScratchClaim.sequence)
        .subquery()
    )
    claimed, repeated = session.execute(
        select(func.count(), func.coalesce(func.sum(case((per_stamp.c.claims > 1, 1), else_=0)), 0)).select_from(
            per_stamp
        )
    ).one()
    failures = session.scalar(select(func.count(ScratchFailure.id)).where(ScratchFailure.batch_id == batch.id))
    return BatchClaims(claimed or 0, batch.quantity - (claimed or 0), repeated or 0, failures or 0)
