"""Batch services: request and decide a batch, reproduce its signed stamps, and move ranges of its stamps."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from traceability.audit import services as audit
from traceability.db import utcnow
from traceability.errors import Conflict, NotFound, Term, ValidationError
from traceability.i18n import N_
from traceability.ledger.entries import ledger_time
from traceability.registry.models import Product
from traceability.registry.services import require_stampable
from traceability.stamps import ledger_entries, range_rows, ranges, serials
from traceability.stamps.codec import StampBody, month_index, stamp_url
from traceability.stamps.keys import KeyCompromised, active_key, key_or_404
from traceability.stamps.keystore import KeyStore
from traceability.stamps.models import Batch, BatchStatus, KeyStatus, RangeState, StampRange
from traceability.stamps.signing import sign_body

# The names of batch and stamp states, translated where an error names one (errors.Term).
STATE_NAMES = (
    N_("requested"),
    N_("rejected"),
    N_("issued"),
    N_("revoked"),
    N_("printed"),
    N_("activated"),
    N_("voided"),
)


class BatchNotFound(NotFound):
    """No such batch, or one the caller may not see."""


class BatchNotPending(Conflict):
    """A decision asked for a batch that is no longer waiting for one."""


class BatchNotIssued(Conflict):
    code = "batch_not_issued"


@dataclass(frozen=True, slots=True)
class IssuedStamp:
    sequence: int
    serial: str
    token: str
    url: str


@dataclass(frozen=True, slots=True)
class BatchOptions:
    """What a batch request carries besides product and quantity."""

    lot: str | None = None
    production_date: date | None = None
    expiry_date: date | None = None
    layout: str | None = None
    scratch_off: bool = False  # every stamp gets a hidden code under a scratch-off layer (stamps/scratch.py)


# The audit log's name for a move of stamps into each state.
RANGE_ACTIONS: dict[RangeState, str] = {
    RangeState.ISSUED: "batch.reissue",
    RangeState.PRINTED: "batch.print",
    RangeState.ACTIVATED: "batch.activate",
    RangeState.VOIDED: "batch.void",
    RangeState.REVOKED: "batch.revoke_range",
}


def snapshot(batch: Batch, stamp_ranges: list[StampRange] | None = None) -> dict[str, object]:
    """Return what the audit log keeps of a batch: state, decision and stamp ranges (never the secret).

    `stamp_ranges`: only these ranges (those a range change touched), rather than all of the batch's.
    """
    return {
        "status": batch.status.value,
        "product": batch.product.code if batch.product else None,
        "quantity": batch.quantity,
        "lot": batch.lot,
        "key": batch.key_id,
        "stars": batch.stars,
        "decided_by": batch.decided_by,
        "decision_reason": batch.decision_reason,
        "revocation_reason": batch.revocation_reason,
        "ranges": [[r.start, r.end, r.state.value] for r in (batch.ranges if stamp_ranges is None else stamp_ranges)],
    }


def _audit(
    session: Session, actor: str, action: str, batch: Batch, before: dict[str, object] | None, **extra: object
) -> None:
    """Flush the batch and record the change in the audit log."""
    session.flush()
    audit.record(session, actor, action, f"batch:{batch.id}", before=before, after={**snapshot(batch), **extra})


def batch_or_404(session: Session, batch_id: int) -> Batch:
    """Return the batch or raise BatchNotFound."""
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise BatchNotFound(N_("there is no batch %(batch)s"), params={"batch": batch_id})
    return batch


def check_quantity(quantity: int, maximum: int) -> int:
    """Refuse a quantity outside 1..maximum, saying what to do instead."""
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise ValidationError(N_("quantity must be a whole number"), field="quantity")
    if quantity < 1:
        raise ValidationError(N_("quantity must be at least 1"), field="quantity")
    if quantity > maximum:
        raise ValidationError(
            N_("quantity %(quantity)s is above the limit of %(maximum)s a batch; split it into several batches"),
            field="quantity",
            params={"quantity": f"{quantity:,}", "maximum": f"{maximum:,}"},
        )
    return quantity


def check_options(options: BatchOptions) -> BatchOptions:
    """Refuse lot codes and dates that cannot be printed or make no sense."""
    lot = (options.lot or "").strip() or None
    if lot is not None and (len(lot) > 60 or not lot.isprintable()):
        raise ValidationError(N_("the lot code must be printable text of at most 60 characters"), field="lot")
    if options.production_date and options.expiry_date and options.expiry_date < options.production_date:
        raise ValidationError(N_("the expiry date is before the production date"), field="expiry_date")
    return BatchOptions(lot, options.production_date, options.expiry_date, options.layout, options.scratch_off)


def new_request(
    session: Session,
    product: Product,
    quantity: int,
    options: BatchOptions,
    *,
    actor: str,
    maximum: int,
    today: date,
) -> Batch:
    """Record a producer's request for a batch: nothing is allocated or signed yet."""
    require_stampable(product, today)
    options = check_options(options)
    batch = Batch(
        product=product,
        status=BatchStatus.REQUESTED,
        quantity=check_quantity(quantity, maximum),
        lot=options.lot,
        production_date=options.production_date,
        expiry_date=options.expiry_date,
        layout=options.layout,
        scratch_off=bool(options.scratch_off),
        requested_by=actor,
    )
    session.add(batch)
    _audit(session, actor, "batch.request", batch, None)
    return batch


def _lock(
    session: Session, batch: Batch, status: BatchStatus, error: type[Conflict], message: str, *, ranges: bool = True
) -> Batch:
    """Lock the batch row and reload it, so a decision is taken on its committed state; refuse it unless it
    is in `status` (`message` names the batch and its state). `ranges=False`: leave its ranges unloaded."""
    # populate_existing: an object loaded earlier (sessions outlive commits here) may hold a stale
    # status or stale ranges; after the lock, only what the database says counts.
    query = select(Batch).where(Batch.id == batch.id).with_for_update().execution_options(populate_existing=True)
    locked = session.scalar(query.options(selectinload(Batch.ranges)) if ranges else query)
    if locked is None:
        raise BatchNotFound(N_("there is no batch %(batch)s"), params={"batch": batch.id})
    if locked.status is not status:
        raise error(message, params={"batch": locked.id, "state": Term(locked.status.value)})
    return locked


def _pending(session: Session, batch: Batch) -> Batch:
    """Lock a batch that waits for a decision."""
    message = N_("batch %(batch)s is %(state)s, not waiting for approval")
    return _lock(session, batch, BatchStatus.REQUESTED, BatchNotPending, message)


def check_reason_length(reason: str, limit: int) -> str:
    """Return the reason, refusing one longer than `limit` characters (once trimmed)."""
    if len(reason.strip()) > limit:
        raise ValidationError(
            N_("the reason is longer than %(limit)s characters"), field="reason", params={"limit": f"{limit:,}"}
        )
    return reason


def _reason(reason: str, message: str) -> str:
    """Return the reason trimmed, refusing an empty one with `message`."""
    if not reason.strip():
        raise ValidationError(message, field="reason")
    return reason.strip()


def issue(
    session: Session,
    store: KeyStore,
    batch: Batch,
    *,
    actor: str,
    today: date,
    activate: bool = False,
    ledger_origin: str | None = None,
) -> Batch:
    """Allocate and sign a requested batch: freeze its stars and validity, record its range and its ledger entry.

    The batch row is locked first, so two approvals of the same request cannot both issue it. The ledger entry
    and the checkpoint covering it are written in the same transaction: a batch is never issued without them.
    `ledger_origin` names a new ledger (LEDGER_ORIGIN); a ledger that has entries keeps its own origin.
    """
    locked = _pending(session, batch)
    before = snapshot(locked)
    certification = require_stampable(locked.product, today)
    key = active_key(session)
    store.load(key.id)  # fail now, before anything is recorded, if the private key is unusable
    signer = ledger_entries.checkpoint_signer(session, store)  # and the publication key, for the checkpoint
    now = ledger_time(utcnow())  # the batch and its ledger entry agree to the millisecond
    locked.certification = certification
    locked.key_id = key.id
    locked.stars = certification.stars
    locked.valid_until_month = month_index(certification.valid_until)
    locked.secret = secrets.token_bytes(32)
    locked.status = BatchStatus.ISSUED
    locked.issued_at = now
    locked.decided_at, locked.decided_by = now, actor
    initial = RangeState.ACTIVATED if activate else RangeState.ISSUED
    locked.ranges = [StampRange(start=0, end=locked.quantity, state=initial, changed_at=now, changed_by=actor)]
    ledger_entries.append_batch(session, signer, locked, now=now, origin=ledger_origin)
    _audit(session, actor, "batch.approve", locked, before)
    return locked


def issue_direct(
    session: Session,
    store: KeyStore,
    product: Product,
    quantity: int,
    options: BatchOptions,
    *,
    actor: str,
    maximum: int,
    today: date,
    activate: bool = False,
    ledger_origin: str | None = None,
) -> Batch:
    """Request and issue in one step: the programme office's direct path."""
    batch = new_request(session, product, quantity, options, actor=actor, maximum=maximum, today=today)
    return issue(session, store, batch, actor=actor, today=today, activate=activate, ledger_origin=ledger_origin)


def reject(session: Session, batch: Batch, *, actor: str, reason: str) -> Batch:
    """Turn down a request with a reason the producer will read."""
    batch = _pending(session, batch)
    why = _reason(reason, N_("give the producer a reason for the rejection"))
    before = snapshot(batch)
    batch.status, batch.decided_at, batch.decided_by = BatchStatus.REJECTED, utcnow(), actor
    batch.decision_reason = why
    _audit(session, actor, "batch.reject", batch, before)
    return batch


def revoke(session: Session, batch: Batch, *, actor: str, reason: str) -> Batch:
    """Withdraw every stamp of an issued batch."""
    message = N_("batch %(batch)s is %(state)s; only an issued batch can be revoked")
    batch = _lock(session, batch, BatchStatus.ISSUED, BatchNotIssued, message)
    why = _reason(reason, N_("a revocation needs a reason"))
    before = snapshot(batch)
    batch.status, batch.revoked_at, batch.revocation_reason = BatchStatus.REVOKED, utcnow(), why
    _audit(session, actor, "batch.revoke", batch, before)
    return batch


def serial_of(batch: Batch, sequence: int) -> str | None:
    """Return the serial printed under one stamp, or None for a batch never issued."""
    return serials.serial(batch.id, sequence, batch.secret) if batch.secret is not None else None


def stamp_body(batch: Batch, sequence: int) -> StampBody:
    """Return the body of one stamp of an issued batch (deterministic: a reprint is identical)."""
    if batch.status is BatchStatus.REQUESTED or batch.secret is None or batch.key_id is None:
        raise BatchNotIssued(N_("batch %(batch)s has not been issued"), params={"batch": batch.id})
    assert batch.stars is not None
    assert batch.valid_until_month is not None
    return StampBody(
        key_id=batch.key_id,
        batch_id=batch.id,
        sequence=sequence,
        nonce=serials.nonce(batch.secret, sequence),
        product_ref=batch.product_id,
        stars=batch.stars,
        valid_until_month=batch.valid_until_month,
    )


def signing_key_for(session: Session, store: KeyStore, batch: Batch) -> Ed25519PrivateKey:
    """Return the private key that signed a batch, refusing one marked compromised."""
    if batch.key_id is None:
        raise BatchNotIssued(N_("batch %(batch)s has not been issued"), params={"batch": batch.id})
    if key_or_404(session, batch.key_id).status is KeyStatus.COMPROMISED:
        raise KeyCompromised(
            N_("batch %(batch)s was signed by compromised key %(key)s; revoke and reissue it"),
            params={"batch": batch.id, "key": batch.key_id},
        )
    return store.load(batch.key_id)


def stamps(
    batch: Batch, private_key: Ed25519PrivateKey, base_url: str, start: int = 0, end: int | None = None
) -> Iterator[IssuedStamp]:
    """Yield the signed stamps [start, end) of an issued batch."""
    end = batch.quantity if end is None else end
    if not 0 <= start <= end <= batch.quantity:
        raise ValidationError(
            N_("stamps %(start)s..%(end)s are outside batch %(batch)s (0..%(quantity)s)"),
            params={"start": start, "end": end, "batch": batch.id, "quantity": batch.quantity},
        )
    assert batch.secret is not None
    for sequence in range(start, end):
        token = sign_body(private_key, stamp_body(batch, sequence))
        yield IssuedStamp(sequence, serials.serial(batch.id, sequence, batch.secret), token, stamp_url(base_url, token))


def change_range(
    session: Session,
    batch: Batch,
    start: int,
    end: int,
    new_state: RangeState,
    *,
    actor: str,
    reason: str | None = None,
) -> Batch:
    """Move stamps [start, end) of an issued batch to new_state, splitting and merging ranges.

    Every stamp in the span must be allowed to make the move (stamps.ranges); otherwise nothing changes.
    Only the ranges the span overlaps or touches are read and rewritten (and audited): a change costs what
    it changes, not what the batch has accumulated.
    """
    message = N_("batch %(batch)s is %(state)s; its stamps cannot change state")
    locked = _lock(session, batch, BatchStatus.ISSUED, BatchNotIssued, message, ranges=False)
    if not 0 <= start < end <= locked.quantity:
        raise ValidationError(
            N_("the range must lie within the batch's stamps 0..%(last)s (start ≤ last)"),
            field="start",
            params={"last": locked.quantity - 1},
        )
    session.expire(locked, ["ranges"])  # a collection loaded earlier would go stale below
    affected = range_rows.neighbourhood(session, locked.id, start, end)
    before = snapshot(locked, affected)
    segments = ranges.move(affected, start, end, new_state)
    rows = ranges.stored(segments, start, end, now=utcnow(), actor=actor, reason=reason)
    for row in affected:
        session.delete(row)
    session.flush()  # delete before insert: (batch, start) is unique
    for row in rows:
        row.batch_id = locked.id
        session.add(row)
    session.flush()
    session.expire(locked, ["ranges"])
    after = {**snapshot(locked, rows), "span": [start, end], "reason": reason}
    audit.record(session, actor, RANGE_ACTIONS[new_state], f"batch:{locked.id}", before=before, after=after)
    return locked
