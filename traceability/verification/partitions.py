"""Monthly partitions of the scans table on PostgreSQL: create them ahead, rescue rows from DEFAULT, list them.

On PostgreSQL `scans` is partitioned by RANGE of `scanned_at`: one partition a calendar month (UTC), named
`scans_YYYY_MM`, and a DEFAULT partition that takes any scan whose month has no partition yet, so no scan
that was acknowledged is ever refused. The partitions live in their own schema, `scan_partitions`, beside
the application's tables: the schema the models describe keeps exactly the models' tables.

PostgreSQL refuses to create a month's partition while DEFAULT holds rows of that month, so `ensure` first
moves those rows out (in the same transaction), then creates the partition and puts them back into it.
SQLite keeps one plain table: every function here is a no-op there. Functions take a connection, never
commit; the command or migration that calls them owns the transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Connection, text

PARENT = "scans"
PARTITION_KEY = "scanned_at"
SCHEMA = "scan_partitions"
DEFAULT = "scans_default"
DEFAULT_AHEAD = 3  # months created ahead by the migration and create_all; SCAN_PARTITIONS_AHEAD for the command
_MONTHLY = re.compile(r"^scans_(\d{4})_(\d{2})$")


def month_of(at: datetime) -> date:
    """Return the first day of the UTC month containing `at`."""
    at = at.astimezone(UTC)
    return date(at.year, at.month, 1)


def add_months(month: date, count: int) -> date:
    """Return the first day of the month `count` months after `month` (a first day)."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    """Return the name of a month's partition, e.g. scans_2026_12."""
    return f"scans_{month.year:04d}_{month.month:02d}"


def month_start(month: date) -> datetime:
    """Return midnight UTC on the first day of the month: a partition's lower bound."""
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def _literal(moment: datetime) -> str:
    # DDL takes no bound parameters; the value is built from integers, never from input.
    return "'" + moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S+00") + "'"


def _qualified(name: str) -> str:
    return f'"{SCHEMA}"."{name}"'


def is_partitioned(connection: Connection) -> bool:
    """Return whether the scans table is a partitioned table (PostgreSQL after migration 0011)."""
    if connection.dialect.name != "postgresql":
        return False
    kind = connection.execute(
        text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:parent)"), {"parent": PARENT}
    ).scalar()
    return kind == "p"


@dataclass(frozen=True)
class Partitions:
    """The partitions of scans: monthly ones by their month, and whether DEFAULT exists."""

    months: dict[date, str]
    default: bool


def existing(connection: Connection) -> Partitions:
    """Return the partitions attached to scans."""
    names = connection.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:parent)"
        ),
        {"parent": PARENT},
    ).scalars()
    months, default = {}, False
    for name in names:
        if name == DEFAULT:
            default = True
        elif match := _MONTHLY.match(name):
            months[date(int(match[1]), int(match[2]), 1)] = name
    return Partitions(months, default)


@dataclass
class Maintenance:
    """What ensure did: the partitions it created and the scans it moved out of DEFAULT into them."""

    created: list[str] = field(default_factory=list)
    moved: int = 0
    default_left: int = 0  # scans still in DEFAULT afterwards (none, unless one was written meanwhile)


def ensure(connection: Connection, now: datetime, ahead: int) -> Maintenance:
    """Create DEFAULT, this month's and `ahead` next months' partitions, and one for every month in DEFAULT."""
    done = Maintenance()
    if not is_partitioned(connection):
        return done
    connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"'))
    present = existing(connection)
    if not present.default:
        connection.execute(text(f"CREATE TABLE {_qualified(DEFAULT)} PARTITION OF {PARENT} DEFAULT"))
        done.created.append(DEFAULT)
    stray = set(
        connection.execute(
            text(
                f"SELECT DISTINCT date_trunc('month', {PARTITION_KEY} AT TIME ZONE 'UTC')::date "  # noqa: S608 - names are constants
                f"FROM {_qualified(DEFAULT)}"
            )
        ).scalars()
    )
    first = month_of(now)
    wanted = {add_months(first, n) for n in range(ahead + 1)} | stray
    for month in sorted(wanted - set(present.months)):
        done.moved += _create_month(connection, month, rescue=month in stray)
        done.created.append(partition_name(month))
    done.default_left = int(connection.execute(text(f"SELECT count(*) FROM {_qualified(DEFAULT)}")).scalar_one())  # noqa: S608
    return done


def _create_month(connection: Connection, month: date, *, rescue: bool) -> int:
    """Create a month's partition; with `rescue`, move that month's scans out of DEFAULT into it first."""
    name = partition_name(month)
    lower, upper = month_start(month), month_start(add_months(month, 1))
    create = (
        f"CREATE TABLE {_qualified(name)} PARTITION OF {PARENT} "
        f"FOR VALUES FROM ({_literal(lower)}) TO ({_literal(upper)})"
    )
    if not rescue:
        connection.execute(text(create))
        return 0
    holding = f"moving_{name}"
    connection.execute(text(f"CREATE TEMPORARY TABLE {holding} (LIKE {PARENT})"))
    moved = connection.execute(
        text(
            f"WITH moved AS (DELETE FROM {_qualified(DEFAULT)} WHERE {PARTITION_KEY} >= :lower "  # noqa: S608 - names from constants and integers
            f"AND {PARTITION_KEY} < :upper RETURNING *) INSERT INTO {holding} SELECT * FROM moved"
        ),
        {"lower": lower, "upper": upper},
    ).rowcount
    connection.execute(text(create))
    connection.execute(text(f"INSERT INTO {PARENT} SELECT * FROM {holding}"))  # noqa: S608
    connection.execute(text(f"DROP TABLE {holding}"))
    return int(moved)


def drop_older_than(connection: Connection, cutoff: datetime) -> list[str]:
    """Drop the monthly partitions whose whole month lies before `cutoff`; return their names."""
    if not is_partitioned(connection):
        return []
    dropped = []
    for month, name in sorted(existing(connection).months.items()):
        if month_start(add_months(month, 1)) <= cutoff:
            connection.execute(text(f"DROP TABLE {_qualified(name)}"))
            dropped.append(name)
    return dropped
