"""Product photos: a producer uploads one, the office approves or rejects it, shoppers see the approved one.

The photo is what a shopper compares the goods in their hand with, the only check against a genuine stamp
moved onto other goods; so nothing is shown before the office has looked at it, and a product shows at most
one photo. Every upload is re-encoded (traceability.images): no metadata, a phone-sized picture, a thumbnail.
Functions take the session first and never commit.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, load_only, selectinload

from traceability import images
from traceability.audit import services as audit
from traceability.errors import Conflict, NotFound, ValidationError
from traceability.i18n import N_
from traceability.registry.models import PhotoStatus, Producer, Product, ProductPhoto

PHOTO_EDGE = 640  # the long side shown to shoppers: a 360 px phone at 2x density, about 40-80 KB in WebP
THUMBNAIL_EDGE = 160  # the office's and the producer's lists
MIN_EDGE = 320  # a smaller picture shows too little to compare a product with
PENDING_PER_PRODUCT = 3  # photos of one product waiting for the office at once
REASON_MAX = 2000
PHOTO_FORMAT: images.OutputFormat = "WEBP"
PUBLIC_NAME = re.compile(r"[0-9a-f]{64}\.(?:webp|jpg)")
# What lists show of a photo: never the picture bytes.
SUMMARY_COLUMNS = (
    ProductPhoto.id,
    ProductPhoto.product_id,
    ProductPhoto.status,
    ProductPhoto.uploaded_by,
    ProductPhoto.uploaded_at,
    ProductPhoto.reviewed_by,
    ProductPhoto.reviewed_at,
    ProductPhoto.reason,
    ProductPhoto.digest,
    ProductPhoto.media_type,
    ProductPhoto.width,
    ProductPhoto.height,
    ProductPhoto.thumbnail_width,
    ProductPhoto.thumbnail_height,
)


class PhotoNotFound(NotFound):
    """No such photo, or one the asker may not see (never say which)."""

    code = "photo_not_found"


class TooManyPendingPhotos(Conflict):
    """A product already has as many photos waiting for the office as it may."""

    code = "too_many_pending_photos"


class PhotoAlreadyReviewed(Conflict):
    """The decision asked for does not apply to the photo's current status."""

    code = "photo_already_reviewed"


@dataclass(frozen=True, slots=True)
class ShownPhoto:
    """The approved photo of a product as the public page needs it: plain values, no picture bytes."""

    digest: str
    media_type: str
    width: int
    height: int

    @property
    def filename(self) -> str:
        """Return the photo's public file name: its content hash, so its address changes with its content."""
        return f"{self.digest}.{images.EXTENSIONS[self.media_type]}"


def approved_photo(session: Session, product_id: int) -> ShownPhoto | None:
    """Return the product's approved photo (one indexed row, no picture bytes), or None.

    The answer depends only on product_id and changes only when the office approves, rejects or replaces a
    photo, so a caller may cache it briefly per product.
    """
    row = session.execute(
        select(ProductPhoto.digest, ProductPhoto.media_type, ProductPhoto.width, ProductPhoto.height).where(
            ProductPhoto.product_id == product_id, ProductPhoto.status == PhotoStatus.APPROVED
        )
    ).first()
    return ShownPhoto(*row) if row is not None else None


def public_image(session: Session, filename: str, *, thumbnail: bool = False) -> tuple[bytes, str]:
    """Return the bytes and media type of an approved photo by its public file name, or raise PhotoNotFound."""
    if PUBLIC_NAME.fullmatch(filename) is None:  # before any query: only a hash and an extension
        raise PhotoNotFound(N_("no such photo"))
    digest, _, extension = filename.partition(".")
    column = ProductPhoto.thumbnail if thumbnail else ProductPhoto.image
    row = session.execute(
        select(column, ProductPhoto.media_type)
        .where(ProductPhoto.digest == digest, ProductPhoto.status == PhotoStatus.APPROVED)
        .limit(1)
    ).first()
    if row is None or images.EXTENSIONS.get(row[1]) != extension:
        raise PhotoNotFound(N_("no such photo"))
    return bytes(row[0]), str(row[1])


def photo_image(session: Session, photo: ProductPhoto, *, thumbnail: bool = False) -> tuple[bytes, str]:
    """Return the bytes and media type of any photo (staff pages: pending and rejected ones too)."""
    column = ProductPhoto.thumbnail if thumbnail else ProductPhoto.image
    data = session.scalar(select(column).where(ProductPhoto.id == photo.id))
    if data is None:
        raise PhotoNotFound(N_("no such photo"))
    return bytes(data), photo.media_type


def own_product(session: Session, producer: Producer, product_id: int) -> Product:
    """Return the producer's product; someone else's is refused exactly like a missing one."""
    product = session.get(Product, product_id)
    if product is None or product.producer_id != producer.id:
        raise PhotoNotFound(N_("you have no product %(product)s"), params={"product": product_id})
    return product


def product_or_404(session: Session, product_id: int) -> Product:
    """Return the product with this id (office pages) or raise PhotoNotFound."""
    product = session.get(Product, product_id)
    if product is None:
        raise PhotoNotFound(N_("no product has the id %(product)s"), params={"product": product_id})
    return product


def own_photo(session: Session, producer: Producer, photo_id: int) -> ProductPhoto:
    """Return a photo of one of the producer's products; someone else's is refused like a missing one."""
    photo = session.get(ProductPhoto, photo_id, options=[load_only(*SUMMARY_COLUMNS)])
    if photo is None or photo.product.producer_id != producer.id:
        raise PhotoNotFound(N_("no such photo"))
    return photo


def photo_or_404(session: Session, photo_id: int) -> ProductPhoto:
    """Return the photo with this id (office pages) or raise PhotoNotFound."""
    photo = session.get(ProductPhoto, photo_id, options=[load_only(*SUMMARY_COLUMNS)])
    if photo is None:
        raise PhotoNotFound(N_("no such photo"))
    return photo


def photos_of(session: Session, product: Product) -> Sequence[ProductPhoto]:
    """Return the product's photos, newest first, without their picture bytes."""
    return session.scalars(
        select(ProductPhoto)
        .options(load_only(*SUMMARY_COLUMNS))
        .where(ProductPhoto.product_id == product.id)
        .order_by(ProductPhoto.uploaded_at.desc(), ProductPhoto.id.desc())
    ).all()


def pending_photos(session: Session, limit: int = 200) -> Sequence[ProductPhoto]:
    """Return the photos waiting for the office, oldest first, with their products and producers."""
    return session.scalars(
        select(ProductPhoto)
        .options(load_only(*SUMMARY_COLUMNS), selectinload(ProductPhoto.product).selectinload(Product.producer))
        .where(ProductPhoto.status == PhotoStatus.PENDING)
        .order_by(ProductPhoto.uploaded_at, ProductPhoto.id)
        .limit(limit)
    ).all()


def upload_photo(
    session: Session, product: Product, raw: bytes, *, actor: str, at: datetime, max_bytes: int
) -> ProductPhoto:
    """Re-encode an uploaded photo and keep it for the office to review; raise ValidationError if unusable."""
    if not raw:
        raise ValidationError(N_("choose a photo to upload"), field="photo")
    waiting = session.scalar(
        select(func.count(ProductPhoto.id)).where(
            ProductPhoto.product_id == product.id, ProductPhoto.status == PhotoStatus.PENDING
        )
    )
    if (waiting or 0) >= PENDING_PER_PRODUCT:  # before decoding: that is the costly part
        raise TooManyPendingPhotos(
            N_("%(count)s photos of this product are already waiting for the office"),
            params={"count": PENDING_PER_PRODUCT},
        )
    shown, thumbnail = images.reencode(
        raw, [PHOTO_EDGE, THUMBNAIL_EDGE], max_bytes=max_bytes, output=PHOTO_FORMAT, min_edge=MIN_EDGE
    )
    photo = ProductPhoto(
        product_id=product.id,
        status=PhotoStatus.PENDING,
        uploaded_by=actor[:200],
        uploaded_at=at,
        digest=hashlib.sha256(shown.data).hexdigest(),
        media_type=shown.media_type,
        width=shown.width,
        height=shown.height,
        image=shown.data,
        thumbnail=thumbnail.data,
        thumbnail_width=thumbnail.width,
        thumbnail_height=thumbnail.height,
    )
    session.add(photo)
    session.flush()
    audit.record(session, actor, "photo.upload", _target(product), after=_snapshot(photo))
    return photo


def approve_photo(session: Session, photo: ProductPhoto, *, actor: str, at: datetime) -> ProductPhoto:
    """Show a pending photo on the product's public page, in place of the one shown before."""
    locked = _lock(session, photo)
    if locked.status is not PhotoStatus.PENDING:
        raise _already(locked)
    previous = session.scalars(
        select(ProductPhoto)
        .options(load_only(*SUMMARY_COLUMNS))
        .where(ProductPhoto.product_id == locked.product_id, ProductPhoto.status == PhotoStatus.APPROVED)
    ).first()
    before = _snapshot(locked)
    if previous is not None:
        previous.status = PhotoStatus.REPLACED
        session.flush()  # before the new one: the unique index allows one approved photo per product
    locked.status, locked.reviewed_by, locked.reviewed_at, locked.reason = PhotoStatus.APPROVED, actor[:200], at, None
    session.flush()
    after = {**_snapshot(locked), "replaced": previous.id if previous is not None else None}
    audit.record(session, actor, "photo.approve", _target(locked.product), before=before, after=after)
    return locked


def reject_photo(session: Session, photo: ProductPhoto, reason: str, *, actor: str, at: datetime) -> ProductPhoto:
    """Refuse a pending photo, or withdraw the approved one, with a reason the producer reads."""
    cleaned = reason.strip()
    if not cleaned:
        raise ValidationError(N_("say why the photo is rejected: the producer reads it"), field="reason")
    if len(cleaned) > REASON_MAX:
        raise ValidationError(
            N_("the reason is longer than %(limit)s characters"), field="reason", params={"limit": f"{REASON_MAX:,}"}
        )
    locked = _lock(session, photo)
    if locked.status not in (PhotoStatus.PENDING, PhotoStatus.APPROVED):
        raise _already(locked)
    before = _snapshot(locked)
    locked.status, locked.reviewed_by, locked.reviewed_at, locked.reason = (
        PhotoStatus.REJECTED,
        actor[:200],
        at,
        cleaned,
    )
    session.flush()
    audit.record(session, actor, "photo.reject", _target(locked.product), before=before, after=_snapshot(locked))
    return locked


def _lock(session: Session, photo: ProductPhoto) -> ProductPhoto:
    """Return the photo read again under a row lock, its product locked first (PostgreSQL; SQLite's writes queue)."""
    session.execute(select(Product.id).where(Product.id == photo.product_id).with_for_update())
    locked = session.get(
        ProductPhoto, photo.id, with_for_update=True, populate_existing=True, options=[load_only(*SUMMARY_COLUMNS)]
    )
    if locked is None:
        raise PhotoNotFound(N_("no such photo"))
    return locked


def _already(photo: ProductPhoto) -> PhotoAlreadyReviewed:
    return PhotoAlreadyReviewed(N_("photo %(photo)s was already reviewed: reload the page"), params={"photo": photo.id})


def _target(product: Product) -> str:
    return f"product:{product.code}"


def _snapshot(photo: ProductPhoto) -> dict[str, object]:
    return {
        "photo": photo.id,
        "status": photo.status,
        "digest": photo.digest,
        "size": f"{photo.width}x{photo.height}",
        "reason": photo.reason,
    }
