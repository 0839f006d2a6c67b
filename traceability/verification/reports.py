"""Shoppers' reports of suspect products: validation, photo clean-up (traceability.images) and spam limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from traceability import images
from traceability.errors import DomainError, ValidationError
from traceability.i18n import N_
from traceability.verification.models import Report
from traceability.verification.provinces import get_province
from traceability.verification.scans import Device
from traceability.verification.verdicts import Verdict

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
    (picture,) = images.reencode(raw, [PHOTO_EDGE], max_bytes=max_bytes, output="JPEG", field="photo")
    return picture.data


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
