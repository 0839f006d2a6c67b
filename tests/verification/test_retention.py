"""Retention: raw scans older than SCAN_RETENTION_DAYS are counted into daily aggregates and removed in one
transaction, whole partitions dropped on PostgreSQL; younger scans are never touched; a second run is a no-op."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.verification.scan_rows import add_scan, drop_partitions_since, monthly_partitions
from traceability.db import utcnow
from traceability.verification import partitions, retention
from traceability.verification.models import Channel, Scan, ScanDay
from traceability.verification.verdicts import Verdict

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # with 730 days, the cutoff is 2024-12-01 00:00 UTC


@pytest.fixture
def engine(app: Flask, session: Session) -> Iterator[Engine]:
    """Return the app's engine; on PostgreSQL the partitions a test makes are dropped after it."""
    engine: Engine = app.extensions["db_engine"]
    before = monthly_partitions(engine)
    yield engine
    session.rollback()  # its read lock on scans would hold the DROP below
    drop_partitions_since(engine, before)


def _scans(session: Session) -> list[int]:
    return list(session.scalars(select(Scan.id).order_by(Scan.id)))


def _days(session: Session) -> list[tuple[Any, ...]]:
    rows = session.execute(
        select(
            ScanDay.day,
            ScanDay.batch_id,
            ScanDay.province_code,
            ScanDay.channel,
            ScanDay.verdict,
            ScanDay.scans,
            ScanDay.devices,
            ScanDay.stamps,
        ).order_by(ScanDay.day, ScanDay.channel, ScanDay.verdict)
    )
    return [tuple(row) for row in rows]


def test_cutoff_is_the_utc_midnight_retention_days_ago() -> None:
    assert retention.cutoff_for(NOW, 730) == datetime(2024, 12, 1, tzinfo=UTC)
    assert retention.cutoff_for(datetime(2026, 12, 1, 23, 59, tzinfo=UTC), 1) == datetime(2026, 11, 30, tzinfo=UTC)


def test_purge_counts_then_removes_exactly_the_old_scans(session: Session, engine: Engine, issued: Any) -> None:
    batch = issued.batch.id
    old_day = datetime(2024, 10, 3, 8, 0, tzinfo=UTC)
    for device, sequence in (("d1", 1), ("d1", 1), ("d2", 2)):
        add_scan(session, old_day, batch_id=batch, sequence=sequence, device=device, province="58")
    add_scan(session, old_day + timedelta(hours=3), verdict=Verdict.FORGED, channel=Channel.API)  # no stamp
    add_scan(session, datetime(2024, 11, 30, 23, 59, 59, tzinfo=UTC), batch_id=batch, sequence=3)  # last old second
    kept = [
        add_scan(session, datetime(2024, 12, 1, tzinfo=UTC), batch_id=batch, sequence=3).id,  # the cutoff itself
        add_scan(session, datetime(2024, 12, 20, tzinfo=UTC), batch_id=batch, sequence=4).id,  # same month as cutoff
        add_scan(session, NOW - timedelta(hours=1), batch_id=batch, sequence=5).id,
    ]
    session.commit()
    if partitions.is_partitioned(session.connection()):
        # Give the old months their partitions, as the daily command would have: the purge drops them whole.
        partitions.ensure(session.connection(), datetime(2024, 10, 1, tzinfo=UTC), 2)
        session.commit()

    done = retention.purge_scans(session, NOW, 730)
    session.commit()

    assert _scans(session) == kept
    assert (done.scans, done.days) == (5, 3)
    assert _days(session) == [
        (date(2024, 10, 3), None, None, Channel.API, Verdict.FORGED, 1, 1, 0),
        (date(2024, 10, 3), batch, "58", Channel.PAGE, Verdict.GENUINE, 3, 2, 2),
        (date(2024, 11, 30), batch, None, Channel.PAGE, Verdict.GENUINE, 1, 1, 1),
    ]
    if partitions.is_partitioned(session.connection()):
        assert done.partitions == ["scans_2024_10", "scans_2024_11"]
        assert done.deleted == 0  # the cutoff's own month keeps all its rows: they are younger
        assert "scans_2024_12" in monthly_partitions(engine)
    else:
        assert (done.partitions, done.deleted) == ([], 5)


def test_purge_deletes_old_scans_left_in_default(session: Session, engine: Engine) -> None:
    add_scan(session, datetime(2023, 1, 5, tzinfo=UTC))  # a month without a partition: DEFAULT on PostgreSQL
    young = add_scan(session, NOW).id
    session.commit()
    done = retention.purge_scans(session, NOW, 730)
    session.commit()
    assert _scans(session) == [young]
    assert (done.scans, done.deleted, done.partitions) == (1, 1, [])


def test_the_command_purges_once_and_a_second_run_changes_nothing(
    session: Session, engine: Engine, runner: Any
) -> None:
    now = utcnow()
    add_scan(session, now - timedelta(days=800), device="old1")
    add_scan(session, now - timedelta(days=800), device="old2")
    young = add_scan(session, now - timedelta(days=700)).id
    session.commit()

    first = runner.invoke(args=["scans", "purge"])  # SCAN_RETENTION_DAYS: 730 by default
    assert first.exit_code == 0, first.output
    assert "Counted 2 scans before" in first.output and "into 1 daily aggregates" in first.output
    assert _scans(session) == [young]
    aggregates = _days(session)
    assert [row[5:] for row in aggregates] == [(2, 2, 0)]

    second = runner.invoke(args=["scans", "purge"])
    assert second.exit_code == 0, second.output
    assert "nothing to purge" in second.output
    assert _scans(session) == [young] and _days(session) == aggregates


def test_the_retention_period_comes_from_the_settings_or_the_option(
    app_config: dict[str, Any], session: Session, engine: Engine, runner: Any
) -> None:
    add_scan(session, utcnow() - timedelta(days=200))
    session.commit()
    assert "nothing to purge" in runner.invoke(args=["scans", "purge"]).output
    result = runner.invoke(args=["scans", "purge", "--older-than", "180"])
    assert result.exit_code == 0 and "Counted 1 scans" in result.output
    assert session.scalar(select(func.count()).select_from(Scan)) == 0


@pytest.mark.parametrize("days", ["30", "-1", "soon"])
def test_a_retention_shorter_than_the_analytics_is_refused(runner: Any, days: str) -> None:
    result = runner.invoke(args=["scans", "purge", "--older-than", days])
    assert result.exit_code == 2
    assert "--older-than" in result.output and "Traceback" not in result.output
