"""Revoking a range of stamps from the inspectors' pages.

Functions take the session first and never commit. A range is revoked through the batch service (audited
there as batch.revoke_range); a whole batch through the office's existing action.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from traceability.errors import Conflict, Term, ValidationError
from traceability.i18n import N_
from traceability.stamps import batches, ranges
from traceability.stamps.models import Batch, BatchStatus, RangeState
from traceability.stamps.producer_batches import stamp_span
from traceability.stamps.ranges import REASON_MAX
from traceability.verification.models import Channel, Scan


class StampsAlreadyRevoked(Conflict):
    """Every stamp of the span is revoked already: there is nothing to revoke."""


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
        return batches.serial_of(self.batch, self.first)

    @property
    def last_serial(self) -> str | None:
        """Return the serial of the last stamp."""
        return batches.serial_of(self.batch, self.last)


def preview_range_revocation(
    session: Session, batch: Batch, first_text: str, last_text: str, reason: str | None
) -> RangePreview:
    """Check a range revocation (stamp numbers or serials, both ends included) and say what it would change."""
    if batch.status is not BatchStatus.ISSUED:
        raise batches.BatchNotIssued(
            N_("batch %(batch)s is %(state)s; only stamps of an issued batch can be revoked"),
            params={"batch": batch.id, "state": Term(batch.status.value)},
        )
    first, last = stamp_span(batch, first_text, last_text)
    cleaned = (reason or "").strip()
    if not cleaned:
        raise ValidationError(N_("a revocation needs a reason"), field="reason")
    batches.check_reason_length(cleaned, REASON_MAX)
    states = ranges.count_states(batch.ranges, first, last + 1)
    if set(states) == {RangeState.REVOKED}:
        raise StampsAlreadyRevoked(
            N_("stamps %(first)s..%(last)s are already revoked"), params={"first": first + 1, "last": last + 1}
        )
    scans = session.scalar(
        select(func.count(Scan.id)).where(
            Scan.batch_id == batch.id, Scan.sequence >= first, Scan.sequence <= last, Scan.channel != Channel.SERIAL
        )
    )
    return RangePreview(batch, first, last, cleaned, {state.value: n for state, n in states.items()}, scans or 0)


def revoke_range(
    session: Session, batch: Batch, first_text: str, last_text: str, reason: str | None, *, actor: str
) -> RangePreview:
    """Revoke stamps first..last of an issued batch (audited as batch.revoke_range by the batch service)."""
    preview = preview_range_revocation(session, batch, first_text, last_text, reason)
    batches.change_range(
        session, batch, preview.first, preview.last + 1, RangeState.REVOKED, actor=actor, reason=preview.reason
    )
    return preview
