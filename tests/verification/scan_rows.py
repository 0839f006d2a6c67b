"""Raw scan rows for the partition and retention tests, and the PostgreSQL partitions they leave behind."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from traceability.verification import partitions
from traceability.verification.models import Channel, Scan
from traceability.verification.verdicts import Verdict


def add_scan(
    session: Session,
    at: datetime,
    *,
    batch_id: int | None = None,
    sequence: int | None = None,
    device: str = "d1",
    period: str = "7d1",
    province: str | None = None,
    channel: Channel = Channel.PAGE,
    verdict: Verdict = Verdict.GENUINE,
) -> Scan:
    """Add one scan as the service records it, at a chosen time (flushed, not committed)."""
    scan = Scan(
        scanned_at=at,
        channel=channel,
        verdict=verdict,
        flags=verdict.value,
        batch_id=batch_id,
        sequence=sequence,
        code_hash="c" * 32,
        device=device,
        network_hash="n" * 32,
        salt_period=period,
        province_code=province,
    )
    session.add(scan)
    session.flush()
    return scan


def monthly_partitions(engine: Engine) -> set[str]:
    """Return the names of the monthly scan partitions (none on SQLite)."""
    if engine.dialect.name != "postgresql":
        return set()  # and no connection: on SQLite it would wait for the test session's lock
    with engine.connect() as connection:
        if not partitions.is_partitioned(connection):
            return set()
        return set(partitions.existing(connection).months.values())


def drop_partitions_since(engine: Engine, before: set[str]) -> None:
    """Drop the monthly partitions a test created, so the next test sees the migration's set."""
    created = monthly_partitions(engine) - before
    if not created:
        return
    with engine.begin() as connection:
        for name in created:
            connection.execute(text(f'DROP TABLE "{partitions.SCHEMA}"."{name}"'))


def where_stored(session: Session, scan_id: int) -> str:
    """Return the partition holding a scan (PostgreSQL)."""
    return str(session.scalar(text("SELECT tableoid::regclass::text FROM scans WHERE id = :id"), {"id": scan_id}))
