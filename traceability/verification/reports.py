"""Shoppers' reports of suspect products: validation, photo clean-up and spam limits."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from traceability.errors import DomainError, ValidationError
from traceability.i18n import N_
from traceability.verification.models import Report
from traceability.verification.provinces import get_province
from traceability.verification.scans import Device
from traceability.verification.verdicts import Verdict

MAX_PIXELS = 25_000_000  # refuse decompression bombs before decoding (a 24 MP phone photo fits)
PHOTO_EDGE = 1600  # enough to read a label; keeps a report under ~300 KB
REPORTS_PER_DEVICE_PER_DAY = 3


class TooManyReports(DomainError):
    status = 429
    code = "too_many_reports"


@dataclass(frozen=True)
class FiledReport:
    """A stored report, and why its photo was left out (None: kept, or none sent)."""

    report: Report
    photo_refused: ValidationError | None = None


@dataclass(frozen=True)
class ReportData:
    """A report as typed into the form."""

    shop_name: str
    place: str
    province: str = ""
    contact: str = ""
    note: str = ""
    photo: bytes | None = None


def _text(value: str, field: str, limit: int, *, required: bool) -> str | None:
    cleaned = " ".join(value.split())
    if required and not cleaned:
        raise ValidationError(N_("this field is required"), field=field)
    if len(cleaned) > limit:
        raise ValidationError(N_("at most %(limit)s characters"), field=field, params={"limit": limit})
    return cleaned or None


def clean_photo(raw: bytes, max_bytes: int) -> bytes:
    """Return the photo re-encoded as JPEG: no EXIF (GPS, camera serial), at most PHOTO_EDGE pixels a side."""
    if len(raw) > max_bytes:
        raise ValidationError(
            N_("the photo is larger than %(megabytes)s MB"),
            field="photo",
            params={"megabytes": max_bytes // (1024 * 1024)},
        )
    try:
        with Image.open(io.BytesIO(raw)) as image:
            if image.format not in ("JPEG", "PNG", "WEBP", "GIF"):
                raise ValidationError(N_("send the photo as JPEG, PNG or WebP"), field="photo")
            if image.width * image.height > MAX_PIXELS:
                raise ValidationError(N_("the photo has too many pixels"), field="photo")
            # Shrink while decoding (JPEG's DCT scaling, then reduce()), so a large photo never sits in
            # memory at full size, let alone twice (the report form is public).
            image.draft("RGB", (PHOTO_EDGE, PHOTO_EDGE))
            image.thumbnail((PHOTO_EDGE, PHOTO_EDGE), reducing_gap=2.0)
            picture = image.convert("RGB")
            output = io.BytesIO()
            picture.save(output, format="JPEG", quality=80, optimize=True)
    except ValidationError:
        raise
    except Exception as error:
        # Pillow's decoders answer hostile bytes with OSError, SyntaxError, ValueError, EOFError, struct.error,
        # IndexError, DecompressionBombError...; whichever it is, the file is not a photo we can read.
        raise ValidationError(N_("this file is not a photo we can read"), field="photo") from error
    return output.getvalue()


def file_report(
    session: Session,
    data: ReportData,
    *,
    verdict: Verdict,
    code: str,
    stamp: tuple[int, int] | None,
    device: Device,
    at: datetime,
    photo_max_bytes: int,
) -> FiledReport:
    """Validate and store a report for inspectors; raise ValidationError or TooManyReports.

    A photo that cannot be used never costs the shopper the report: it is stored without it, and the
    result says why the photo was refused.
    """
    shop = _text(data.shop_name, "shop_name", 200, required=True)
    place = _text(data.place, "place", 300, required=True)
    contact = _text(data.contact, "contact", 200, required=False)
    note = _text(data.note, "note", 1000, required=False)
    province = data.province.strip() or None
    if province is not None and get_province(province) is None:
        raise ValidationError(N_("choose a province from the list"), field="province")
    recent = session.scalar(
        select(func.count(Report.id)).where(
            Report.device == device.fingerprint, Report.created_at > at - timedelta(days=1)
        )
    )
    if (recent or 0) >= REPORTS_PER_DEVICE_PER_DAY:  # before decoding any photo: that is the costly part
        raise TooManyReports(N_("thank you: we already have your reports for today"))
    photo, refused = None, None
    if data.photo:
        try:
            photo = clean_photo(data.photo, photo_max_bytes)
        except ValidationError as error:
            refused = error
    assert shop is not None and place is not None
    report = Report(
        created_at=at,
        verdict=verdict,
        code=code[:300],
        batch_id=stamp[0] if stamp else None,
        sequence=stamp[1] if stamp else None,
        shop_name=shop,
        place=place,
        province_code=province,
        contact=contact,
        note=note,
        photo=photo,
        photo_type="image/jpeg" if photo else None,
        device=device.fingerprint,
    )
    session.add(report)
    session.flush()
    return FiledReport(report, refused)
