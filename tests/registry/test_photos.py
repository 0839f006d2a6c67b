"""Product photos as services: upload re-encodes and strips metadata, the office decides, one photo is shown."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tests.registry.photo_support import (
    GIF_WITH_HTML,
    HTML,
    SVG,
    camera_jpeg,
    encoded,
    metadata_of,
    noise_png,
    png_claiming,
)
from traceability.audit.models import AuditEntry
from traceability.db import make_engine, utcnow
from traceability.errors import ValidationError
from traceability.registry import photos
from traceability.registry.models import PhotoStatus, ProductPhoto

MAX_BYTES = 2 * 1024 * 1024


def upload(session: Session, product: Any, raw: bytes | None = None) -> ProductPhoto:
    photo = photos.upload_photo(
        session, product, raw or camera_jpeg(), actor="user:producer", at=utcnow(), max_bytes=MAX_BYTES
    )
    session.commit()
    return photo


def test_an_upload_is_reencoded_without_metadata_and_waits_for_the_office(session: Session, factory: Any) -> None:
    product = factory.product()
    raw = camera_jpeg((2400, 1800))
    assert b"PhoneCo" in raw and b"secret comment" in raw  # the camera's metadata is there to strip
    photo = upload(session, product, raw)
    assert photo.status is PhotoStatus.PENDING and photo.media_type == "image/webp"
    assert (photo.width, photo.height) == (640, 480) and (photo.thumbnail_width, photo.thumbnail_height) == (160, 120)
    for data in (photo.image, photo.thumbnail):
        found = metadata_of(data)
        assert found["format"] == "WEBP" and found["exif"] == {} and found["info"] == {}, found
        assert b"PhoneCo" not in data and b"SN-123456789" not in data and b"secret" not in data
    assert photos.approved_photo(session, product.id) is None  # nothing shown before the office decides
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "photo.upload")).one()
    assert entry.target == f"product:{product.code}" and entry.after["status"] == "pending"


def test_a_sideways_phone_photo_is_turned_upright(session: Session, factory: Any) -> None:
    photo = upload(session, factory.product(), camera_jpeg((1200, 900), orientation=6))  # 90° clockwise
    assert (photo.width, photo.height) == (480, 640)
    with Image.open(io.BytesIO(photo.image)) as image:
        # The green corner was top-left of the stored pixels; turned upright it is top-right.
        red, green, _blue = image.convert("RGB").getpixel((image.width - 5, 5))
        assert green > red


def test_approval_shows_one_photo_and_a_newer_one_replaces_it(session: Session, factory: Any) -> None:
    product = factory.product()
    first, second = upload(session, product), upload(session, product, camera_jpeg(colour=(10, 10, 200)))
    photos.approve_photo(session, first, actor="user:office", at=utcnow())
    session.commit()
    shown = photos.approved_photo(session, product.id)
    assert shown is not None and shown.digest == first.digest and shown.filename == f"{first.digest}.webp"
    assert (shown.width, shown.height, shown.media_type) == (640, 480, "image/webp")
    data, media_type = photos.public_image(session, shown.filename)
    assert media_type == "image/webp" and data == first.image

    photos.approve_photo(session, second, actor="user:office", at=utcnow())
    session.commit()
    session.expire_all()
    assert session.get(ProductPhoto, first.id).status is PhotoStatus.REPLACED
    assert photos.approved_photo(session, product.id).digest == second.digest  # type: ignore[union-attr]
    with pytest.raises(photos.PhotoNotFound):
        photos.public_image(session, shown.filename)  # the replaced photo is no longer served
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions.count("photo.approve") == 2


def test_rejection_and_withdrawal_keep_the_photo_off_the_public_page(session: Session, factory: Any) -> None:
    product = factory.product()
    pending = upload(session, product)
    with pytest.raises(ValidationError, match="say why"):
        photos.reject_photo(session, pending, "   ", actor="user:office", at=utcnow())
    photos.reject_photo(session, pending, "Ảnh chụp sản phẩm khác", actor="user:office", at=utcnow())
    session.commit()
    assert (pending.status, pending.reason) == (PhotoStatus.REJECTED, "Ảnh chụp sản phẩm khác")
    with pytest.raises(photos.PhotoAlreadyReviewed):
        photos.approve_photo(session, pending, actor="user:office", at=utcnow())
    session.rollback()
    assert photos.approved_photo(session, product.id) is None

    approved = upload(session, product, camera_jpeg(colour=(0, 200, 0)))
    photos.approve_photo(session, approved, actor="user:office", at=utcnow())
    photos.reject_photo(session, approved, "Nhãn đã đổi", actor="user:office", at=utcnow())  # withdrawn
    session.commit()
    assert photos.approved_photo(session, product.id) is None
    with pytest.raises(photos.PhotoNotFound):
        photos.public_image(session, f"{approved.digest}.webp")


def test_the_database_holds_one_approved_photo_per_product(session: Session, factory: Any) -> None:
    product = factory.product()
    first, second = upload(session, product), upload(session, product, camera_jpeg(colour=(1, 2, 3)))
    first.status = PhotoStatus.APPROVED
    session.commit()
    second.status = PhotoStatus.APPROVED
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_a_product_has_at_most_three_photos_waiting(session: Session, factory: Any) -> None:
    product = factory.product()
    for _ in range(photos.PENDING_PER_PRODUCT):
        upload(session, product)
    with pytest.raises(photos.TooManyPendingPhotos):
        upload(session, product)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "choose a photo"),
        (b"just some text, not a picture", "send the photo as JPEG, PNG or WebP"),
        (SVG, "send the photo as JPEG, PNG or WebP"),
        (HTML, "send the photo as JPEG, PNG or WebP"),
        (b"%PDF-1.7\n", "send the photo as JPEG, PNG or WebP"),
        (encoded("BMP"), "send the photo as JPEG, PNG or WebP"),
        (encoded("TIFF"), "send the photo as JPEG, PNG or WebP"),
        (camera_jpeg()[:300], "not a photo we can read"),
        (encoded("PNG")[:60], "not a photo we can read"),
        (png_claiming(6000, 5000), "too many pixels"),  # 30 MP: over our limit, under Pillow's
        (png_claiming(100_000, 100_000), "too many pixels"),  # a decompression bomb's header
        (encoded("PNG", (200, 150)), "too small"),
        (noise_png((1000, 1000)), "larger than 2 MB"),
    ],
    ids=[
        "empty",
        "text",
        "svg",
        "html",
        "pdf",
        "bmp",
        "tiff",
        "truncated jpeg",
        "truncated png",
        "30 MP",
        "bomb",
        "small",
        "too large",
    ],
)
def test_bad_uploads_are_refused_clearly_and_nothing_is_kept(
    session: Session, factory: Any, raw: bytes, message: str
) -> None:
    product = factory.product()
    with pytest.raises(ValidationError, match=message) as refused:
        photos.upload_photo(session, product, raw, actor="user:p", at=utcnow(), max_bytes=MAX_BYTES)
    assert refused.value.details["field"] == "photo"
    session.rollback()
    assert session.scalars(select(ProductPhoto)).all() == []


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "WEBP", "JPEG"])
def test_every_accepted_format_becomes_a_clean_webp(session: Session, factory: Any, fmt: str) -> None:
    mode = "P" if fmt == "GIF" else "RGB"
    photo = upload(session, factory.product(), encoded(fmt, (800, 600), mode))
    assert metadata_of(photo.image)["format"] == "WEBP"


def test_a_gif_carrying_html_is_kept_as_pixels_only(session: Session, factory: Any) -> None:
    photo = upload(session, factory.product(), GIF_WITH_HTML)
    assert b"<script" not in photo.image and b"<script" not in photo.thumbnail


def test_transparent_parts_become_white(session: Session, factory: Any) -> None:
    image = Image.new("RGBA", (800, 600), (0, 0, 0, 0))
    output = io.BytesIO()
    image.save(output, format="PNG")
    photo = upload(session, factory.product(), output.getvalue())
    with Image.open(io.BytesIO(photo.image)) as shown:
        assert min(shown.convert("RGB").getpixel((400, 300))) > 240  # type: ignore[type-var]


@pytest.mark.parametrize("name", ["", "x.webp", "A" * 64 + ".webp", "a" * 64 + ".svg", "a" * 64 + ".webp/..", "../x"])
def test_public_names_other_than_a_hash_are_not_found(session: Session, name: str) -> None:
    with pytest.raises(photos.PhotoNotFound):
        photos.public_image(session, name)


def test_approvals_at_the_same_moment_leave_one_photo_shown(app: Any, session: Session, factory: Any) -> None:
    """Three reviewers approve three photos of one product at once: each waits for the product's row lock."""
    product = factory.product()
    waiting = [upload(session, product, camera_jpeg(colour=(i * 60, 20, 20))) for i in range(3)]
    engine = make_engine(app.config["DATABASE_URL"])
    sessions = sessionmaker(engine, expire_on_commit=False)
    barrier = threading.Barrier(len(waiting))

    def approve(photo_id: int) -> Exception | None:
        barrier.wait()
        with sessions() as own:
            try:
                photos.approve_photo(own, photos.photo_or_404(own, photo_id), actor="user:office", at=utcnow())
                own.commit()
            except Exception as error:  # any failure is the test's finding
                own.rollback()
                return error
        return None

    try:
        with ThreadPoolExecutor(max_workers=len(waiting)) as pool:
            errors = list(pool.map(approve, [photo.id for photo in waiting]))
    finally:
        engine.dispose()
    assert errors == [None, None, None]
    session.rollback()
    statuses = sorted(s.value for s in session.scalars(select(ProductPhoto.status)))
    assert statuses == ["approved", "replaced", "replaced"]
