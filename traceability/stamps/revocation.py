"""Revoking a range of stamps from the inspectors' pages, and the offline kit that carries revocations out.

Functions take the session first and never commit. A range is revoked through the batch service (audited
there as batch.revoke_range); a whole batch through the office's existing action. The offline kit is what
offline checkers hold: the published keys and the current signed revocation bundle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from traceability.errors import Conflict, DomainError, ValidationError
from traceability.stamps import batches, serials
from traceability.stamps.keys import list_keys
from traceability.stamps.keystore import KeyStore
from traceability.stamps.models import Batch, BatchStatus, RangeState, SigningKey
from traceability.stamps.producer_batches import stamp_number
from traceability.verification import publication
from traceability.verification.models import Channel, Scan

REASON_MAX = 500  # what a stamp range keeps as its reason


@dataclass(frozen=True)
class RangePreview:
    """What a range revocation would do, shown before it is confirmed."""

    batch: Batch
    first: int
    last: int  # inclusive
    reason: str
    states: dict[str, int]  # stamps of the span by current state
    scans: int

    @property
    def count(self) -> int:
        """Return how many stamps the span holds."""
        return self.last - self.first + 1

    @property
    def first_serial(self) -> str | None:
        """Return the serial of the first stamp."""
        return serials.serial(self.batch.id, self.first, self.batch.secret) if self.batch.secret else None

    @property
    def last_serial(self) -> str | None:
        """Return the serial of the last stamp."""
        return serials.serial(self.batch.id, self.last, self.batch.secret) if self.batch.secret else None


def preview_range_revocation(
    session: Session, batch: Batch, first_text: str, last_text: str, reason: str | None
) -> RangePreview:
    """Check a range revocation (stamp numbers or serials, both ends included) and say what it would change."""
    if batch.status is not BatchStatus.ISSUED:
        raise batches.BatchNotIssued(
            f"batch {batch.id} is {batch.status.value}; only stamps of an issued batch can be revoked"
        )
    first = stamp_number(batch, first_text, "first")
    last = stamp_number(batch, last_text, "last") if (last_text or "").strip() else first
    if last < first:
        raise ValidationError("the last stamp comes before the first", field="last")
    cleaned = (reason or "").strip()
    if not cleaned:
        raise ValidationError("a revocation needs a reason", field="reason")
    if len(cleaned) > REASON_MAX:
        raise ValidationError(f"the reason is longer than {REASON_MAX} characters", field="reason")
    states: dict[str, int] = {}
    for stamp_range in batch.ranges:
        overlap = min(last + 1, stamp_range.end) - max(first, stamp_range.start)
        if overlap > 0:
            states[stamp_range.state.value] = states.get(stamp_range.state.value, 0) + overlap
    if set(states) == {RangeState.REVOKED.value}:
        raise Conflict(f"stamps {first}..{last} are already revoked")
    scans = session.scalar(
        select(func.count(Scan.id)).where(
            Scan.batch_id == batch.id, Scan.sequence >= first, Scan.sequence <= last, Scan.channel != Channel.SERIAL
        )
    )
    return RangePreview(batch, first, last, cleaned, states, scans or 0)


def revoke_range(
    session: Session, batch: Batch, first_text: str, last_text: str, reason: str | None, *, actor: str
) -> RangePreview:
    """Revoke stamps first..last of an issued batch (audited as batch.revoke_range by the batch service)."""
    preview = preview_range_revocation(session, batch, first_text, last_text, reason)
    batches.change_range(
        session, batch, preview.first, preview.last + 1, RangeState.REVOKED, actor=actor, reason=preview.reason
    )
    return preview


@dataclass(frozen=True)
class OfflineKit:
    keys: Sequence[SigningKey]
    bundle: dict[str, Any] | None  # the payload of the current revocation bundle; None without a signing key
    problem: str | None


def offline_kit(session: Session, store: KeyStore, now: datetime, today: date, max_age: timedelta) -> OfflineKit:
    """Return the published keys and what the current signed revocation bundle holds."""
    keys = list_keys(session)
    try:
        document = publication.revocations(session, store, now, today, max_age)
    except DomainError as error:
        return OfflineKit(keys, None, error.localized())
    return OfflineKit(keys, document["payload"], None)
