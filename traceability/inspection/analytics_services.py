"""What inspectors read about scans and reports, and the revocations they make from there.

Functions take the session first and never commit. Devices are only ever counted: a device is a salted
hash that is comparable within one salt period, so a count of distinct (period, hash) pairs is a count of
device-weeks, and the hashes themselves never leave this module.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, func, or_, select
from sqlalchemy.orm import Session, selectinload

from traceability.audit import services as audit
from traceability.audit.models import AuditEntry
from traceability.errors import Conflict, DomainError, NotFound, ValidationError
from traceability.portal.services import stamp_number
from traceability.registry.models import Product
from traceability.stamps import batches, serials
from traceability.stamps.keys import list_keys
from traceability.stamps.keystore import KeyStore
from traceability.stamps.models import Batch, BatchStatus, RangeState, SigningKey
from traceability.verification import clones, publication
from traceability.verification import scans as scan_records
from traceability.verification.models import Channel, Report, ReportStatus, Scan
from traceability.verification.provinces import get_province
from traceability.verification.verdicts import Verdict

PERIODS = (7, 30, 90)  # days an inspector may look back over
DEFAULT_PERIOD = 30
REPORTS_PER_PAGE = 20
# Stamps judged for clone flags per page: the most-scanned candidates first, so a flood stays cheap.
FLAGGED_CANDIDATES = 300
HANDLED = (ReportStatus.REVIEWED, ReportStatus.DISMISSED)
REASON_MAX = 500  # what a stamp range keeps as its reason


def _devices() -> ColumnElement[int]:
    """Count distinct devices: a hash only means one device within its salt period."""
    return func.count(distinct(Scan.salt_period + ":" + Scan.device))


def period_days(text: str | None) -> int:
    """Return the period asked for (7, 30 or 90 days; 30 when none is given)."""
    if not text:
        return DEFAULT_PERIOD
    if not text.isdigit() or int(text) not in PERIODS:
        raise ValidationError("the period must be 7, 30 or 90 days", field="days")
    return int(text)


def period_start(now: datetime, days: int) -> datetime:
    """Return when a period of `days` days ending now began."""
    return now - timedelta(days=days)


# --- Scan analytics ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Count:
    """Scans and distinct devices behind one row of a table (a verdict, a channel, a province)."""

    key: str
    scans: int
    devices: int
    label: str = ""


@dataclass(frozen=True)
class Overview:
    since: datetime
    total: Count
    verdicts: list[Count]
    channels: list[Count]
    provinces: list[Count]
    unplaced: int  # scans whose shopper did not say where they were


def overview(session: Session, since: datetime) -> Overview:
    """Return scans since a time by verdict (worst first), by channel and by province (most first)."""
    recent = Scan.scanned_at >= since
    total_scans, total_devices = session.execute(select(func.count(Scan.id), _devices()).where(recent)).one()
    by_verdict = {
        verdict: Count(verdict.value, scans, devices)
        for verdict, scans, devices in session.execute(
            select(Scan.verdict, func.count(Scan.id), _devices()).where(recent).group_by(Scan.verdict)
        )
    }
    by_channel = [
        Count(channel.value, scans, devices)
        for channel, scans, devices in session.execute(
            select(Scan.channel, func.count(Scan.id), _devices()).where(recent).group_by(Scan.channel)
        )
    ]
    provinces, unplaced = [], 0
    for code, scans, devices in session.execute(
        select(Scan.province_code, func.count(Scan.id), _devices()).where(recent).group_by(Scan.province_code)
    ):
        province = get_province(code)
        if province is None:
            unplaced += scans
        else:
            provinces.append(Count(province.code, scans, devices, province.name))
    return Overview(
        since=since,
        total=Count("all", total_scans or 0, total_devices or 0),
        verdicts=[by_verdict[v] for v in sorted(by_verdict, key=lambda v: v.severity)],
        channels=sorted(by_channel, key=lambda c: c.key),
        provinces=sorted(provinces, key=lambda c: (-c.scans, c.key)),
        unplaced=unplaced,
    )


@dataclass(frozen=True)
class BatchActivity:
    batch: Batch
    scans: int
    devices: int
    stamps: int  # distinct stamps scanned
    first_at: datetime
    last_at: datetime


def batch_activity(session: Session, since: datetime, limit: int = 50) -> list[BatchActivity]:
    """Return the batches whose stamps were scanned since a time, most scanned first."""
    rows = session.execute(
        select(
            Scan.batch_id,
            func.count(Scan.id),
            _devices(),
            func.count(distinct(Scan.sequence)),
            func.min(Scan.scanned_at),
            func.max(Scan.scanned_at),
        )
        .where(Scan.scanned_at >= since, Scan.batch_id.is_not(None))
        .group_by(Scan.batch_id)
        .order_by(func.count(Scan.id).desc(), Scan.batch_id)
        .limit(limit)
    ).all()
    found = _batches(session, [row[0] for row in rows])
    return [BatchActivity(found[row[0]], *row[1:]) for row in rows if row[0] is not None and row[0] in found]


def _batches(session: Session, ids: Sequence[int | None]) -> dict[int, Batch]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    loaded = session.scalars(
        select(Batch)
        .where(Batch.id.in_(wanted))
        .options(selectinload(Batch.ranges), selectinload(Batch.product).selectinload(Product.producer))
    )
    return {batch.id: batch for batch in loaded}


@dataclass(frozen=True)
class FlaggedStamp:
    batch: Batch
    sequence: int
    flags: list[clones.CloneFlag]
    scans: int
    state: RangeState | None

    @property
    def level(self) -> clones.Level:
        """Return the strongest flag's level."""
        return clones.Level.WARNING if clones.is_suspicious(self.flags) else clones.Level.NOTICE

    @property
    def serial(self) -> str | None:
        """Return the serial printed under the stamp."""
        return serials.serial(self.batch.id, self.sequence, self.batch.secret) if self.batch.secret else None


def flagged_stamps(
    session: Session,
    limits: clones.Thresholds,
    *,
    since: datetime | None = None,
    batch_id: int | None = None,
    limit: int = FLAGGED_CANDIDATES,
) -> list[FlaggedStamp]:
    """Return stamps with clone flags, warnings first, then notices, most devices first.

    A stamp counts if it was scanned since `since` (or ever) and, optionally, belongs to one batch; its
    flags are judged over its whole history by the same rules the public page applies, so an inspector
    sees what a shopper is told. The query only narrows the candidates to stamps that could reach a
    notice at all; clones.assess decides.
    """
    camera = and_(Scan.batch_id.is_not(None), Scan.sequence.is_not(None), Scan.channel != Channel.SERIAL)
    early = func.sum(case((Scan.flags.contains(Verdict.NOT_ACTIVATED.value), 1), else_=0))
    devices, provinces, count = _devices(), func.count(distinct(Scan.province_code)), func.count(Scan.id)
    query = select(Scan.batch_id, Scan.sequence, count).where(camera)
    if batch_id is not None:
        query = query.where(Scan.batch_id == batch_id)
    if since is not None:
        recent = (
            select(Scan.batch_id, Scan.sequence)
            .where(camera, Scan.scanned_at >= since)
            .group_by(Scan.batch_id, Scan.sequence)
        )
        if batch_id is not None:
            recent = recent.where(Scan.batch_id == batch_id)
        stamps = recent.subquery()
        query = query.join(stamps, and_(Scan.batch_id == stamps.c.batch_id, Scan.sequence == stamps.c.sequence))
    query = (
        query.group_by(Scan.batch_id, Scan.sequence)
        .having(
            or_(
                devices >= min(limits.devices_notice, limits.devices_warning),
                # two provinces are enough for impossible travel
                provinces >= min(2, limits.provinces_notice, limits.provinces_warning),
                early >= min(limits.before_activation_notice, limits.before_activation_warning),
            )
        )
        .order_by(devices.desc(), Scan.batch_id, Scan.sequence)
        .limit(limit)
    )
    candidates = session.execute(query).all()
    found = _batches(session, [row[0] for row in candidates])
    flagged = []
    for batch_id_, sequence, scans in candidates:
        batch = found.get(batch_id_) if batch_id_ is not None else None
        if batch is None or sequence is None:
            continue
        state = batches.state_of(batch, sequence)
        history = scan_records.history(session, batch.id, sequence)
        flags = clones.assess(history, limits, activated=state is RangeState.ACTIVATED)
        if flags:
            flagged.append(FlaggedStamp(batch, sequence, flags, scans, state))
    return sorted(
        flagged,
        key=lambda f: (f.level is not clones.Level.WARNING, -max(x.count for x in f.flags), f.batch.id, f.sequence),
    )


@dataclass(frozen=True)
class TopStamp:
    sequence: int
    serial: str | None
    scans: int
    devices: int
    last_at: datetime


@dataclass(frozen=True)
class BatchScans:
    """A batch's scan record: camera scans and typed serials, verdicts, devices, first and last scan."""

    batch: Batch
    camera_scans: int
    serial_lookups: int
    devices: int
    stamps_scanned: int
    first_at: datetime | None
    last_at: datetime | None
    verdicts: list[Count]
    top: list[TopStamp]
    reports: int


def batch_scans(session: Session, batch: Batch, top: int = 10) -> BatchScans:
    """Return the scan record of one batch, with its most-scanned stamps."""
    mine = Scan.batch_id == batch.id
    camera = and_(mine, Scan.channel != Channel.SERIAL)
    camera_scans, devices, stamps, first_at, last_at = session.execute(
        select(
            func.count(Scan.id),
            _devices(),
            func.count(distinct(Scan.sequence)),
            func.min(Scan.scanned_at),
            func.max(Scan.scanned_at),
        ).where(camera)
    ).one()
    serial_lookups = session.scalar(select(func.count(Scan.id)).where(mine, Scan.channel == Channel.SERIAL)) or 0
    by_verdict = {
        verdict: Count(verdict.value, scans, devs)
        for verdict, scans, devs in session.execute(
            select(Scan.verdict, func.count(Scan.id), _devices()).where(mine).group_by(Scan.verdict)
        )
    }
    top_rows = session.execute(
        select(Scan.sequence, func.count(Scan.id), _devices(), func.max(Scan.scanned_at))
        .where(camera)
        .group_by(Scan.sequence)
        .order_by(func.count(Scan.id).desc(), Scan.sequence)
        .limit(top)
    ).all()
    secret = batch.secret
    return BatchScans(
        batch=batch,
        camera_scans=camera_scans or 0,
        serial_lookups=serial_lookups,
        devices=devices or 0,
        stamps_scanned=stamps or 0,
        first_at=first_at,
        last_at=last_at,
        verdicts=[by_verdict[v] for v in sorted(by_verdict, key=lambda v: v.severity)],
        top=[
            TopStamp(seq, serials.serial(batch.id, seq, secret) if secret else None, n, d, last)
            for seq, n, d, last in top_rows
            if seq is not None
        ],
        reports=session.scalar(select(func.count(Report.id)).where(Report.batch_id == batch.id)) or 0,
    )


# --- Shoppers' reports ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    report: Report
    serial: str | None
    handling: list[AuditEntry] = field(default_factory=list)  # newest first: who marked it, when, the note


@dataclass(frozen=True)
class ReportPage:
    rows: list[ReportRow]
    page: int
    pages: int
    total: int
    status: ReportStatus | None


def report_status(text: str | None) -> ReportStatus | None:
    """Return the status a list is filtered by, or None for every report."""
    if not text:
        return None
    try:
        return ReportStatus(text)
    except ValueError as error:
        raise ValidationError(f"unknown report status '{text}'", field="status") from error


def reports_page(
    session: Session, page: int = 1, *, status: ReportStatus | None = None, per_page: int = REPORTS_PER_PAGE
) -> ReportPage:
    """Return one page of shoppers' reports, newest first, with serials and how each was handled."""
    where = [Report.status == status] if status is not None else []
    total = session.scalar(select(func.count(Report.id)).where(*where)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    reports = session.scalars(
        select(Report)
        .where(*where)
        .order_by(Report.created_at.desc(), Report.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    found = _batches(session, [r.batch_id for r in reports])
    notes: dict[str, list[AuditEntry]] = {}
    if reports:
        for entry in session.scalars(
            select(AuditEntry)
            .where(AuditEntry.target.in_([_target(r) for r in reports]), AuditEntry.action == "report.handle")
            .order_by(AuditEntry.id.desc())
        ):
            notes.setdefault(entry.target, []).append(entry)
    rows = []
    for report in reports:
        batch = found.get(report.batch_id) if report.batch_id is not None else None
        serial = None
        if batch is not None and batch.secret is not None and report.sequence is not None:
            serial = serials.serial(batch.id, report.sequence, batch.secret)
        rows.append(ReportRow(report, serial, notes.get(_target(report), [])))
    return ReportPage(rows, page, pages, total, status)


def _target(report: Report) -> str:
    return f"report:{report.id}"


def report_or_404(session: Session, report_id: int) -> Report:
    """Return the report or raise NotFound."""
    report = session.get(Report, report_id)
    if report is None:
        raise NotFound(f"there is no report {report_id}")
    return report


def report_photo(session: Session, report_id: int) -> tuple[bytes, str]:
    """Return a report's photo and its media type, or raise NotFound."""
    report = report_or_404(session, report_id)
    if report.photo is None:
        raise NotFound(f"report {report_id} has no photo")
    return report.photo, report.photo_type or "image/jpeg"


def _report_snapshot(report: Report) -> dict[str, Any]:
    return {"status": report.status.value, "verdict": report.verdict.value, "batch": report.batch_id}


def handle_report(session: Session, report: Report, status: str, note: str, *, actor: str) -> Report:
    """Mark a report reviewed (acted upon) or dismissed, with the inspector's note, in the audit log."""
    try:
        new_status = ReportStatus(status)
    except ValueError as error:
        raise ValidationError("choose reviewed or dismissed", field="status") from error
    if new_status not in HANDLED:
        raise ValidationError("choose reviewed or dismissed", field="status")
    cleaned = note.strip()
    if not cleaned:
        raise ValidationError("say what was done about the report", field="note")
    if len(cleaned) > 2000:
        raise ValidationError("the note is longer than 2,000 characters", field="note")
    if report.status is new_status:
        raise Conflict(f"report {report.id} is already {new_status.value}")
    before = _report_snapshot(report)
    report.status = new_status
    session.flush()
    audit.record(
        session,
        actor,
        "report.handle",
        _target(report),
        before=before,
        after={**_report_snapshot(report), "note": cleaned},
    )
    return report


# --- Revocation ---------------------------------------------------------------------------------------


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


# --- Offline kit --------------------------------------------------------------------------------------


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
        return OfflineKit(keys, None, error.message)
    return OfflineKit(keys, document["payload"], None)
