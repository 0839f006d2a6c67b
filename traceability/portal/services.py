"""Producer-scoped services: every lookup is filtered by the producer, so another's record is NotFound.

Functions take the session first and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from traceability.audit import services as audit
from traceability.errors import Conflict, NotFound, ValidationError
from traceability.i18n_markers import N_
from traceability.portal.downloads import DownloadFormat, DownloadJob
from traceability.registry.models import Certification, Producer, Product
from traceability.registry.services import current_certification, latest_certification, list_products
from traceability.stamps import batches, serials
from traceability.stamps.batches import BatchOptions
from traceability.stamps.keystore import KeyStore
from traceability.stamps.models import Batch, BatchStatus, RangeState


@dataclass(frozen=True)
class ProductStanding:
    """A product as its producer sees it: the certificate that counts and how long it has left."""

    product: Product
    certification: Certification | None
    certified: bool
    days_left: int | None
    # "valid", "expiring" (inside the re-evaluation window), "expired" (or otherwise not valid), "none"
    state: str


def standing(product: Product, today: date, warning_days: int) -> ProductStanding:
    """Return the product's certification standing on today."""
    valid = current_certification(product, today)
    shown = valid or latest_certification(product)
    if shown is None:
        return ProductStanding(product, None, False, None, "none")
    days_left = (shown.valid_until - today).days
    if valid is None:
        state = "expired"
    elif days_left <= warning_days:
        state = "expiring"
    else:
        state = "valid"
    return ProductStanding(product, shown, valid is not None, days_left, state)


def products_of(session: Session, producer: Producer, today: date, warning_days: int) -> list[ProductStanding]:
    """Return the producer's products with their standing."""
    return [standing(p, today, warning_days) for p in list_products(session, producer)]


def stampable_products(session: Session, producer: Producer, today: date) -> list[Product]:
    """Return the producer's products that may carry stamps today (valid certification of 3 stars or more)."""
    return [p for p in list_products(session, producer) if current_certification(p, today) is not None]


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
    """Return the producer's batch, or NotFound for a batch that is missing or someone else's."""
    batch = session.get(Batch, batch_id)
    if batch is None or batch.product.producer_id != producer.id:
        raise NotFound(N_("you have no batch %(batch)s"), params={"batch": batch_id})
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
    layouts: Sequence[str],
    actor: str,
    maximum: int,
    today: date,
) -> Batch:
    """Record a producer's batch request for one of their certified products."""
    product = product_of(session, producer, product_id)
    if options.layout is not None and options.layout not in layouts:
        raise ValidationError(
            N_("sheet layout must be one of: %(layouts)s"), field="layout", params={"layouts": ", ".join(layouts)}
        )
    return batches.new_request(session, product, quantity, options, actor=actor, maximum=maximum, today=today)


def stamp_number(batch: Batch, text: str, field: str) -> int:
    """Read a stamp as its number in the batch (0-based, as printed in the serial) or its full serial."""
    value = (text or "").strip()
    if not value:
        raise ValidationError(N_("give a stamp number or serial"), field=field)
    if value.isdigit():
        number = int(value)
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
            N_("stamp numbers of this batch run from 0 to %(last)s"), field=field, params={"last": batch.quantity - 1}
        )
    return number


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
    first = stamp_number(batch, first_text, "first")
    last = stamp_number(batch, last_text, "last") if (last_text or "").strip() else first
    if last < first:
        raise ValidationError(N_("the last stamp comes before the first"), field="last")
    reason = (reason or "").strip() or None
    if state is RangeState.VOIDED and not reason:
        raise ValidationError(N_("say why the stamps are void (damaged, lost...)"), field="reason")
    if reason and len(reason) > 500:
        raise ValidationError(N_("the reason is longer than 500 characters"), field="reason")
    return batches.change_range(session, batch, first, last + 1, state, actor=actor, reason=reason)


@dataclass(frozen=True)
class PreparedDownload:
    """A download checked, keyed and audited: what to name it, its media type, and its bytes to stream."""

    filename: str
    media_type: str
    download_format: DownloadFormat
    job: DownloadJob

    def chunks(self) -> Iterable[bytes]:
        """Return the file's bytes in chunks, signing as they are read (the whole batch never sits in memory)."""
        return self.download_format.render(self.job)


def prepare_download(
    session: Session,
    store: KeyStore,
    batch: Batch,
    fmt: str,
    actor: str,
    *,
    offered: Mapping[str, DownloadFormat],
    base_url: str,
) -> PreparedDownload:
    """Check the format and the batch, load its signing key and audit the download; the caller commits."""
    chosen = offered.get(fmt)
    if chosen is None:
        raise NotFound(_("There is no download format “%(name)s”.", name=fmt))
    if batch.status is not BatchStatus.ISSUED:
        raise Conflict(_("Only an issued batch has print files."))
    # Resolve the key before the first byte is sent, so a missing or compromised key is a clean error.
    private_key = batches.signing_key_for(session, store, batch)
    audit.record(session, actor, "batch.download", f"batch:{batch.id}", after={"format": chosen.name})
    job = DownloadJob(batch, lambda: batches.stamps(batch, private_key, base_url), batch.layout)
    return PreparedDownload(f"ocop-batch-{batch.id}.{chosen.extension}", chosen.media_type, chosen, job)
