"""Scan analytics for inspectors: scans by verdict, channel and province, busy batches, clone flags.

Functions take the session first and never commit. Devices are only ever counted: a device is a salted
hash that is comparable within one salt period, so a count of distinct (period, hash) pairs is a count of
device-weeks, and the hashes themselves never leave this module. Shoppers' reports live in reports.py and
report_review.py, the revocations made from these pages in range_revocation.py, the offline kit in offline_kit.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, case, distinct, func, or_, select
from sqlalchemy.orm import Session, selectinload

from traceability.errors import ValidationError
from traceability.i18n import N_
from traceability.registry.models import Product
from traceability.stamps import batches, ranges
from traceability.stamps.models import Batch, RangeState
from traceability.verification import clones
from traceability.verification import scans as scan_records
from traceability.verification.models import Channel, Report, Scan
from traceability.verification.provinces import get_province
from traceability.verification.verdicts import Verdict

PERIODS = (7, 30, 90)  # days an inspector may look back over
DEFAULT_PERIOD = 30
# Stamps judged for clone flags per page: the most-scanned candidates first, so a flood stays cheap.
FLAGGED_CANDIDATES = 300


def _devices() -> ColumnElement[int]:
    """Count distinct devices: a hash only means one device within its salt period."""
    return func.count(distinct(Scan.salt_period + ":" + Scan.device))


def period_days(text: str | None) -> int:
    """Return the period asked for (7, 30 or 90 days; 30 when none is given)."""
    if not text:
        return DEFAULT_PERIOD
    if not text.isdigit() or int(text) not in PERIODS:
        raise ValidationError(N_("the period must be 7, 30 or 90 days"), field="days")
    return int(text)


def period_start(now: datetime, days: int) -> datetime:
    """Return when a period of `days` days ending now began."""
    return now - timedelta(days=days)


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
    found = batches_by_id(session, [row[0] for row in rows])
    return [BatchActivity(found[row[0]], *row[1:]) for row in rows if row[0] is not None and row[0] in found]


def batches_by_id(session: Session, ids: Sequence[int | None]) -> dict[int, Batch]:
    """Return the batches of these ids (None skipped) by id, with their ranges, product and producer loaded."""
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
        return batches.serial_of(self.batch, self.sequence)


def flagged_stamps(
    session: Session,
    limits: clones.Thresholds,
    *,
    since: datetime | None = None,
    batch_id: int | None = None,
    limit: int = FLAGGED_CANDIDATES,
) -> list[FlaggedStamp]:
    """Return stamps with clone flags, warnings first, then notices, most devices first.

    A stamp counts if it was scanned or its serial typed since `since` (or ever) and, optionally, belongs to
    one batch; its flags are judged over its whole history by clones.assess, the rules the public look-ups
    compute (and keep from shoppers: they are evidence, not a verdict). The query only narrows the candidates.
    """
    candidates = session.execute(_candidates(limits, since=since, batch_id=batch_id, limit=limit)).all()
    found = batches_by_id(session, [row[0] for row in candidates])
    flagged = []
    for candidate_batch, sequence, scans in candidates:
        batch = found.get(candidate_batch) if candidate_batch is not None else None
        if batch is None or sequence is None:
            continue
        state = ranges.state_of(batch.ranges, sequence)
        history = scan_records.history(session, batch.id, sequence)
        flags = clones.assess(history, limits, activated=state is RangeState.ACTIVATED)
        if flags:
            flagged.append(FlaggedStamp(batch, sequence, flags, scans, state))
    return sorted(
        flagged,
        key=lambda f: (f.level is not clones.Level.WARNING, -max(x.count for x in f.flags), f.batch.id, f.sequence),
    )


def _candidates(
    limits: clones.Thresholds, *, since: datetime | None, batch_id: int | None, limit: int
) -> Select[int | None, int | None, int]:
    """Return the query for (batch, sequence, look-ups) of the stamps that could reach a notice at all.

    Camera scans and typed serials both count: a serial typed from many networks is a flag of its own.
    """
    stamp = and_(Scan.batch_id.is_not(None), Scan.sequence.is_not(None))
    camera = Scan.channel != Channel.SERIAL
    early = func.sum(case((and_(camera, Scan.flags.contains(Verdict.NOT_ACTIVATED.value)), 1), else_=0))
    devices, provinces = _devices(), func.count(distinct(Scan.province_code))
    typed = func.count(distinct(case((Scan.channel == Channel.SERIAL, Scan.salt_period + ":" + Scan.device))))
    query = select(Scan.batch_id, Scan.sequence, func.count(Scan.id)).where(stamp)
    if batch_id is not None:
        query = query.where(Scan.batch_id == batch_id)
    if since is not None:
        recent = (
            select(Scan.batch_id, Scan.sequence)
            .where(stamp, Scan.scanned_at >= since)
            .group_by(Scan.batch_id, Scan.sequence)
        )
        if batch_id is not None:
            recent = recent.where(Scan.batch_id == batch_id)
        stamps = recent.subquery()
        query = query.join(stamps, and_(Scan.batch_id == stamps.c.batch_id, Scan.sequence == stamps.c.sequence))
    return (
        query.group_by(Scan.batch_id, Scan.sequence)
        .having(
            or_(
                devices >= min(limits.devices_notice, limits.devices_warning),
                # two provinces are enough for impossible travel
                provinces >= min(2, limits.provinces_notice, limits.provinces_warning),
                early >= min(limits.before_activation_notice, limits.before_activation_warning),
                typed >= min(limits.typed_serial_notice, limits.typed_serial_warning),
            )
        )
        .order_by(devices.desc(), Scan.batch_id, Scan.sequence)
        .limit(limit)
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
            TopStamp(seq, batches.serial_of(batch, seq), n, d, last) for seq, n, d, last in top_rows if seq is not None
        ],
        reports=session.scalar(select(func.count(Report.id)).where(Report.batch_id == batch.id)) or 0,
    )
