"""The scans table on PostgreSQL: monthly partitions and DEFAULT, the maintenance command, migration 0011 both
ways with rows; on SQLite one plain table. The schema is the same whether Alembic or create_all made it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import Engine, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable

from tests.verification.scan_rows import add_scan, drop_partitions_since, monthly_partitions, where_stored
from traceability.db import utcnow
from traceability.schema import alembic_config, upgrade_database
from traceability.verification import partitions
from traceability.verification.models import Scan

FAR_MONTH = datetime(2031, 5, 17, 9, 30, tzinfo=UTC)  # no partition is made this far ahead


@pytest.fixture
def engine(app: Flask, database_url: str, session: Session) -> Iterator[Engine]:
    """Return the app's engine on PostgreSQL (other databases skip); partitions a test makes are dropped after."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")
    engine: Engine = app.extensions["db_engine"]
    before = monthly_partitions(engine)
    yield engine
    session.rollback()  # its read lock on scans would hold the DROP below
    drop_partitions_since(engine, before)


def test_create_all_makes_a_partitioned_table_on_postgresql_and_a_plain_one_on_sqlite() -> None:
    on_postgresql = str(CreateTable(Scan.__table__).compile(dialect=postgresql.dialect()))
    assert "PRIMARY KEY (id, scanned_at)" in on_postgresql
    assert "PARTITION BY RANGE (scanned_at)" in on_postgresql
    assert "BIGSERIAL" in on_postgresql
    on_sqlite = str(CreateTable(Scan.__table__).compile(dialect=sqlite.dialect()))
    assert "PRIMARY KEY (id)" in on_sqlite and "PARTITION" not in on_sqlite
    assert "id INTEGER NOT NULL" in on_sqlite  # SQLite's rowid: ids keep being handed out


@pytest.mark.postgres
def test_migrated_table_is_partitioned_with_only_the_indexes_queries_use(session: Session, engine: Engine) -> None:
    assert session.scalar(text("SELECT relkind FROM pg_class WHERE oid = 'scans'::regclass")) == "p"
    indexes = dict(
        session.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'scans'")
        ).all()
    )
    assert sorted(indexes) == ["ix_scans_scanned_at", "ix_scans_stamp", "pk_scans"]
    assert "(id, scanned_at)" in indexes["pk_scans"]
    assert "USING brin (scanned_at)" in indexes["ix_scans_scanned_at"]
    with engine.connect() as connection:
        present = partitions.existing(connection)
    this_month = partitions.month_of(utcnow())
    assert present.default
    assert {partitions.add_months(this_month, n) for n in range(4)} <= set(present.months)


@pytest.mark.postgres
def test_a_scan_whose_month_has_no_partition_is_kept_in_default_until_the_command_moves_it(
    session: Session, engine: Engine, runner: Any
) -> None:
    scan = add_scan(session, FAR_MONTH, province="58")
    session.commit()
    assert where_stored(session, scan.id) == f"{partitions.SCHEMA}.{partitions.DEFAULT}"

    result = runner.invoke(args=["scans", "partitions"])
    assert result.exit_code == 0, result.output
    assert "scans_2031_05" in result.output and "moved 1 scans out of DEFAULT" in result.output
    assert where_stored(session, scan.id) == f"{partitions.SCHEMA}.scans_2031_05"
    kept = session.get(Scan, scan.id)
    assert kept is not None and (kept.scanned_at, kept.province_code) == (FAR_MONTH, "58")

    again = runner.invoke(args=["scans", "partitions"])
    assert again.exit_code == 0 and "nothing to create" in again.output


@pytest.mark.postgres
def test_the_command_creates_months_ahead_as_asked(session: Session, engine: Engine, runner: Any) -> None:
    result = runner.invoke(args=["scans", "partitions", "--ahead", "6"])
    assert result.exit_code == 0, result.output
    with engine.connect() as connection:
        months = set(partitions.existing(connection).months)
    this_month = partitions.month_of(utcnow())
    assert {partitions.add_months(this_month, n) for n in range(7)} <= months
    assert partitions.partition_name(partitions.add_months(this_month, 6)) in result.output


def test_on_sqlite_there_is_nothing_to_partition(runner: Any, database_url: str) -> None:
    if database_url.startswith("postgresql"):
        pytest.skip("SQLite only")
    result = runner.invoke(args=["scans", "partitions"])
    assert result.exit_code == 0 and "not partitioned" in result.output


@pytest.mark.postgres
def test_create_all_on_postgresql_gives_default_and_monthly_partitions(engine: Engine) -> None:
    with engine.connect() as connection:
        transaction = connection.begin()  # rolled back: the migrated table comes back untouched
        connection.execute(text("DROP TABLE scans"))
        Scan.__table__.create(connection)
        present = partitions.existing(connection)
        primary_key = connection.execute(
            text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'pk_scans'")
        ).scalar_one()
        transaction.rollback()
    assert present.default and partitions.month_of(utcnow()) in present.months
    assert primary_key == "PRIMARY KEY (id, scanned_at)"


@pytest.fixture
def scans_before_0011(database_url: str, engine: Engine, session: Session) -> Iterator[list[tuple[Any, ...]]]:
    """Return scans spread over three months and DEFAULT, committed; the database is upgraded again after."""
    now = utcnow()
    for at in (now - timedelta(days=70), now - timedelta(days=35), now - timedelta(hours=1), FAR_MONTH):
        add_scan(session, at, device=f"d{at.month}")
    session.commit()
    rows = _rows(engine)
    yield rows
    upgrade_database(database_url)


def _rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text("SELECT * FROM scans ORDER BY id"))]


@pytest.mark.postgres
def test_migration_0011_keeps_every_scan_both_ways(
    database_url: str, engine: Engine, scans_before_0011: list[tuple[Any, ...]]
) -> None:
    command.downgrade(alembic_config(database_url), "0010")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT relkind FROM pg_class WHERE oid = 'scans'::regclass")).scalar() == "r"
        assert connection.execute(text("SELECT to_regnamespace('scan_partitions')")).scalar() is None
    assert _rows(engine) == scans_before_0011

    upgrade_database(database_url)
    assert _rows(engine) == scans_before_0011
    with engine.begin() as connection:
        assert partitions.is_partitioned(connection)
        stored = connection.execute(text("SELECT tableoid::regclass::text FROM scans ORDER BY id")).scalars().all()
        assert stored[-1] == "scan_partitions.scans_2031_05"  # the far scan got its month, not DEFAULT
        next_id = connection.execute(text("SELECT nextval('scans_id_seq')")).scalar_one()
    assert next_id > scans_before_0011[-1][0]  # the sequence went on where it was
