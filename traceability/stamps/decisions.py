"""The office's batch decisions: the review queue, approve (allocate and sign), reject, revoke.

Functions take the session first and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from traceability.errors import ValidationError
from traceability.i18n import N_
from traceability.registry.models import Product
from traceability.stamps import batches
from traceability.stamps.keystore import KeyStore
from traceability.stamps.models import Batch, BatchStatus

REASON_MAX = 2000  # what a decision or revocation keeps as its reason


def review_queue(session: Session) -> Sequence[Batch]:
    """Return requests waiting for a decision, oldest first."""
    return session.scalars(
        select(Batch)
        .where(Batch.status == BatchStatus.REQUESTED)
        .options(selectinload(Batch.product).selectinload(Product.producer))
        .order_by(Batch.requested_at, Batch.id)
    ).all()


def list_batches(session: Session, status: str | None = None, limit: int | None = 500) -> Sequence[Batch]:
    """Return batches newest first (at most `limit`; None: all), optionally only those with one status."""
    query = (
        select(Batch)
        .options(selectinload(Batch.product).selectinload(Product.producer), selectinload(Batch.ranges))
        .order_by(Batch.id.desc())
        .limit(limit)
    )
    if status:
        try:
            query = query.where(Batch.status == BatchStatus(status))
        except ValueError as error:
            raise ValidationError(
                N_("unknown batch status '%(status)s'"), field="status", params={"status": status}
            ) from error
    return session.scalars(query).all()


def approve(
    session: Session, store: KeyStore, batch_id: int, *, actor: str, today: date, ledger_origin: str | None = None
) -> Batch:
    """Approve a request: lock it, check the certification again, allocate its range and sign with the current key.

    Everything happens in the caller's transaction, so a failure anywhere leaves the request untouched.
    """
    batch = batches.batch_or_404(session, batch_id)
    return batches.issue(session, store, batch, actor=actor, today=today, ledger_origin=ledger_origin)


def reject(session: Session, batch_id: int, *, actor: str, reason: str) -> Batch:
    """Turn a request down with a reason the producer reads."""
    reason = batches.check_reason_length(reason, REASON_MAX)
    return batches.reject(session, batches.batch_or_404(session, batch_id), actor=actor, reason=reason)


def revoke(session: Session, batch_id: int, *, actor: str, reason: str) -> Batch:
    """Withdraw every stamp of an issued batch."""
    reason = batches.check_reason_length(reason, REASON_MAX)
    return batches.revoke(session, batches.batch_or_404(session, batch_id), actor=actor, reason=reason)
