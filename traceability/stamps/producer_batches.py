"""Producer-scoped services: every lookup is filtered by the producer, so another's record is NotFound.

Functions take the session first and never commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from traceability.errors import Conflict, ValidationError
from traceability.i18n import N_
from traceability.registry.models import Producer, Product
from traceability.stamps import batches, serials
from traceability.stamps.batches import BatchNotFound, BatchOptions
from traceability.stamps.models import Batch, BatchStatus, RangeState
from traceability.stamps.ranges import REASON_MAX, InvalidTransition


class TooManyPendingRequests(Conflict):
    """A producer asked for another batch while too many of theirs still wait for a decision."""

    code = "too_many_pending_requests"


def batches_of(session: Session, producer: Producer) -> Sequence[Batch]:
    """Return the producer's batches, newest first."""
    return session.scalars(
        select(Batch)
        .join(Product, Batch.product_id == Product.id)
        .where(Product.producer_id == producer.id)
        .options(selectinload(Batch.product), selectinload(Batch.ranges))
        .order_by(Batch.id.desc())
    ).all()


def batch_of(session: Session, producer: Producer, batch_id: int) -> Batch:
    """Return the producer's batch, or BatchNotFound for a batch that is missing or someone else's."""
    batch = session.get(Batch, batch_id)
    if batch is None or batch.product.producer_id != producer.id:
        raise BatchNotFound(N_("you have no batch %(batch)s"), params={"batch": batch_id})
    return batch


def product_of(session: Session, producer: Producer, product_id: int) -> Product:
    """Return the producer's product; someone else's is refused exactly like a missing one."""
    product = session.get(Product, product_id)
    if product is None or product.producer_id != producer.id:
        raise ValidationError(N_("choose one of your certified products"), field="product")
    return product


def request_batch(
    session: Session,
    producer: Producer,
    product_id: int,
    quantity: int,
    options: BatchOptions,
    *,
    check_layout: Callable[[str, bool], str],
    actor: str,
    maximum: int,
    max_pending: int,
    today: date,
) -> Batch:
    """Record a producer's batch request for one of their certified products, at most `max_pending` waiting.

    check_layout(name, scratch_off) returns the name to store for the label stock asked for, or raises a
    DomainError (printing.services.checked_stock: unknown stock, labels off the page, a code that does not fit).
    """
    product = product_of(session, producer, product_id)
    # Lock the producer's row so that requests sent at once are counted one after another.
    session.execute(select(Producer.id).where(Producer.id == producer.id).with_for_update())
    pending = session.scalar(
        select(func.count(Batch.id))
        .join(Product, Batch.product_id == Product.id)
        .where(Product.producer_id == producer.id, Batch.status == BatchStatus.REQUESTED)
    )
    if (pending or 0) >= max_pending:
        raise TooManyPendingRequests(
            N_("you already have %(count)s requests waiting for a decision; wait for the office before asking again"),
            params={"count": pending},
        )
    if options.layout is not None:
        options = replace(options, layout=check_layout(options.layout, bool(options.scratch_off)))
    return batches.new_request(session, product, quantity, options, actor=actor, maximum=maximum, today=today)


def stamp_number(batch: Batch, text: str, field: str) -> int:
    """Read a stamp as its number as people count it (1 is the first) or its full serial; return it 0-based.

    Stored numbers and the number inside a serial start at 0; a person types and reads the first stamp as 1.
    """
    value = (text or "").strip()
    if not value:
        raise ValidationError(N_("give a stamp number or serial"), field=field)
    if value.isascii() and value.isdigit():
        number = int(value) - 1
    elif any(character.isdigit() and not character.isascii() for character in value):
        # "²" or "٣" would crash int() or be read as another number: stamps carry ASCII digits only.
        raise ValidationError(
            N_("write stamp numbers with the digits 0-9 only: '%(value)s'"), field=field, params={"value": value}
        )
    else:
        try:
            batch_id, number, check = serials.parse_serial(value)
        except (ValueError, TypeError) as error:
            raise ValidationError(
                N_("'%(value)s' is neither a stamp number nor a serial"), field=field, params={"value": value}
            ) from error
        if batch_id != batch.id:
            raise ValidationError(
                N_("serial %(serial)s belongs to another batch, not %(batch)s"),
                field=field,
                params={"serial": value, "batch": batch.id},
            )
        if (
            batch.secret is None
            or not 0 <= number < batch.quantity
            or serials.check_code(batch.secret, number) != check
        ):
            raise ValidationError(
                N_("serial %(serial)s is not one of this batch's stamps"), field=field, params={"serial": value}
            )
    if not 0 <= number < batch.quantity:
        raise ValidationError(
            N_("stamp numbers of this batch run from 1 to %(last)s"), field=field, params={"last": batch.quantity}
        )
    return number


def stamp_span(batch: Batch, first_text: str, last_text: str | None) -> tuple[int, int]:
    """Read the first and last stamps of a span (both included; no last: just the first)."""
    first = stamp_number(batch, first_text, "first")
    last = stamp_number(batch, last_text or "", "last") if (last_text or "").strip() else first
    if last < first:
        raise ValidationError(N_("the last stamp comes before the first"), field="last")
    return first, last


def change_stamps(
    session: Session,
    batch: Batch,
    first_text: str,
    last_text: str,
    state: RangeState,
    *,
    actor: str,
    reason: str | None,
) -> Batch:
    """Activate or void the producer's stamps first..last (inclusive)."""
    if state not in (RangeState.ACTIVATED, RangeState.VOIDED):
        raise ValidationError(N_("stamps can be activated or voided here"))
    first, last = stamp_span(batch, first_text, last_text)
    reason = (reason or "").strip() or None
    if state is RangeState.VOIDED and not reason:
        raise ValidationError(N_("Say why the stamps are void (damaged, lost...)."), field="reason")
    if reason:
        batches.check_reason_length(reason, REASON_MAX)
    try:
        return batches.change_range(session, batch, first, last + 1, state, actor=actor, reason=reason)
    except InvalidTransition as error:
        # The range rules count from 0, as stored; the producer who typed the numbers counts from 1.
        shifted = {**error.params, "first": error.params["first"] + 1, "last": error.params["last"] + 1}
        raise InvalidTransition(error.template, params=shifted, **error.details) from None
