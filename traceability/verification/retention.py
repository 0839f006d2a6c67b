"""Retention of raw scans: count them into daily aggregates, then remove them, in one transaction.

Raw scans carry salted device and network hashes and are the bulk of the database; after SCAN_RETENTION_DAYS
they are reduced to counts per UTC day, batch, province, channel and verdict (`scan_days`). The cutoff is a
UTC midnight, so a day is always aggregated whole, and a scan is counted exactly once: the rows counted are
the rows removed, in the same transaction. A scan is written at the time it happens, so nothing new can
arrive below a cutoff months in the past while the purge runs.

On PostgreSQL the monthly partitions wholly before the cutoff are dropped (instant, no dead rows to vacuum)
and the rest (the cutoff's own month, stray rows in DEFAULT) deleted; on SQLite the rows are deleted.
Running it again removes nothing more: it is safe from cron or a timer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import ColumnElement, Date, cast, delete, distinct, func, insert, select
from sqlalchemy.orm import Session

from traceability.verification import partitions
from traceability.verification.models import Scan, ScanDay


def cutoff_for(now: datetime, days: int) -> datetime:
    """Return the UTC midnight before which scans are older than `days` days."""
    return datetime.combine((now.astimezone(UTC) - timedelta(days=days)).date(), time(), tzinfo=UTC)


@dataclass
class Purge:
    """What a purge did."""

    cutoff: datetime
    scans: int = 0  # raw scans counted into aggregates and removed
    days: int = 0  # aggregate rows written
    partitions: list[str] = field(default_factory=list)  # whole monthly partitions dropped
    deleted: int = 0  # scans deleted row by row (partial month, DEFAULT, SQLite)


def _day(session: Session) -> ColumnElement[object]:
    """Return the UTC day of a scan, in the database's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", Scan.scanned_at), Date)
    return func.date(Scan.scanned_at)  # SQLite stores UTC text: 'YYYY-MM-DD HH:MM:SS'


def purge_scans(session: Session, now: datetime, older_than_days: int) -> Purge:
    """Aggregate the scans older than `older_than_days` days into scan_days, then remove them."""
    done = Purge(cutoff_for(now, older_than_days))
    old = Scan.scanned_at < done.cutoff
    day = _day(session)
    keys = (day, Scan.batch_id, Scan.province_code, Scan.channel, Scan.verdict)
    counts = (
        select(
            *keys,
            func.count(),
            func.count(distinct(Scan.salt_period + ":" + Scan.device)),
            func.count(distinct(Scan.sequence)),
        )
        .where(old)
        .group_by(*keys)
    )
    columns = ("day", "batch_id", "province_code", "channel", "verdict", "scans", "devices", "stamps")
    written = session.execute(insert(ScanDay).from_select(columns, counts).returning(ScanDay.scans)).scalars().all()
    if not written:
        return done
    done.days, done.scans = len(written), sum(written)
    connection = session.connection()
    done.partitions = partitions.drop_older_than(connection, done.cutoff)
    done.deleted = connection.execute(delete(Scan).where(old)).rowcount
    return done
