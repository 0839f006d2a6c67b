"""Realistic scan rows loaded into PostgreSQL with COPY, and the on-disk size of the scans table.

Shared by benchmarks/load.py (--preload-scans) and benchmarks/scan_sizing.py. The rows look like the service's
own: salted 128-bit device and network hashes, a code hash, the salt period of their week, a verdict and
channel mix of a live programme (mostly genuine camera scans, a few forged codes with no stamp, some typed
serials), a province for one scan in three, and times in order over the days before now, as scans are
appended. Stamps are taken beyond the batches' issued sequences, about two scans each, so a benchmark's own
stamps keep their own short histories while the table and its indexes grow as they would nationwide.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from traceability.verification import partitions

SALT_DAYS = 7
CHUNK = 20_000  # rows per write to the COPY stream
PROVINCES = ["01", "79", "48", "58", "31", "92", "75", "56", "22", "38", "46", "66"]
# (channel, verdict, flags, share): the mix of a programme whose stamps are mostly genuine.
MIX = [
    ("page", "genuine", "genuine", 0.86),
    ("api", "genuine", "genuine", 0.05),
    ("serial", "genuine", "genuine", 0.03),
    ("page", "not_activated", "not_activated", 0.02),
    ("page", "suspicious", "suspicious,genuine", 0.01),
    ("page", "forged", "forged", 0.02),
    ("page", "malformed", "malformed", 0.01),
]
COLUMNS = (
    "scanned_at, channel, verdict, flags, batch_id, sequence, code_hash, device, network_hash, salt_period, "
    "province_code"
)


def plain_url(database_url: str) -> str:
    """Return the URL as psycopg takes it (no SQLAlchemy driver name)."""
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


def _hash(generator: random.Random) -> str:
    return f"{generator.getrandbits(128):032x}"


def scan_lines(count: int, batches: list[tuple[int, int]], end: datetime, days: int, seed: int = 10) -> Iterator[str]:
    """Yield `count` scans as COPY text lines, oldest first, spread evenly over the `days` before `end`."""
    generator = random.Random(seed)
    kinds = [kind[:3] for kind in MIX]
    weights = [kind[3] for kind in MIX]
    start = end - timedelta(days=days)
    step = timedelta(days=days) / max(count, 1)
    stamps_per_batch = max(1, count // (2 * max(len(batches), 1)))  # about two scans a stamp
    for index in range(count):
        at = start + step * index
        channel, verdict, flags = generator.choices(kinds, weights)[0]
        if verdict in ("forged", "malformed") or not batches:
            batch, sequence = r"\N", r"\N"
        else:
            batch_id, issued = batches[generator.randrange(len(batches))]
            batch, sequence = str(batch_id), str(issued + generator.randrange(stamps_per_batch))
        province = generator.choice(PROVINCES) if generator.random() < 1 / 3 else r"\N"
        period = f"{SALT_DAYS}d{at.date().toordinal() // SALT_DAYS}"
        yield "\t".join(
            (
                at.isoformat(),
                channel,
                verdict,
                flags,
                batch,
                sequence,
                _hash(generator),
                _hash(generator),
                _hash(generator),
                period,
                province,
            )
        )


@dataclass(frozen=True)
class Loaded:
    """What a preload did: rows added, seconds the COPY took, rows in the table afterwards."""

    added: int
    seconds: float
    total: int


def preload(database_url: str, rows: int, days: int = 365) -> Loaded:
    """Top the scans table up to `rows` rows with COPY (monthly partitions made first), then ANALYZE it."""
    end = datetime.now(UTC) - timedelta(days=1)
    with psycopg.connect(plain_url(database_url)) as connection:
        have = connection.execute("SELECT count(*) FROM scans").fetchone()
        missing = rows - (have[0] if have else 0)
        if missing <= 0:
            return Loaded(0, 0.0, rows - missing)
        batches = [(int(b), int(q)) for b, q in connection.execute("SELECT id, quantity FROM batches").fetchall()]
        # End this read before another connection creates partitions: CREATE TABLE .. PARTITION OF scans
        # waits for every transaction that read scans, this one included (seen: the preload hung for good).
        connection.commit()
        started = time.perf_counter()
        _partitions_for(database_url, end - timedelta(days=days), end)
        with connection.cursor() as cursor, cursor.copy(f"COPY scans ({COLUMNS}) FROM STDIN") as copy:
            chunk: list[str] = []
            for line in scan_lines(missing, batches, end, days):
                chunk.append(line)
                if len(chunk) == CHUNK:
                    copy.write("\n".join(chunk) + "\n")
                    chunk = []
            if chunk:
                copy.write("\n".join(chunk) + "\n")
        connection.commit()
        seconds = time.perf_counter() - started
        connection.execute("ANALYZE scans")
        connection.commit()
        total = connection.execute("SELECT count(*) FROM scans").fetchone()
    return Loaded(missing, seconds, int(total[0]) if total else 0)


def _partitions_for(database_url: str, start: datetime, end: datetime) -> None:
    """Create the monthly partitions from start to end, as the daily command would have over that time."""
    from traceability.db import make_engine

    engine = make_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        month = partitions.month_of(start)
        while month <= partitions.month_of(end):
            partitions.ensure(connection, partitions.month_start(month), 0)
            month = partitions.add_months(month, 1)
    engine.dispose()


SIZE_QUERY = """
    SELECT sum(pg_table_size(relid)) FILTER (WHERE isleaf) AS heap,
           (SELECT sum(pg_relation_size(p.relid)) FROM pg_partition_tree('pk_scans') p) AS pk,
           (SELECT sum(pg_relation_size(p.relid)) FROM pg_partition_tree('ix_scans_stamp') p) AS stamp,
           (SELECT sum(pg_relation_size(p.relid)) FROM pg_partition_tree('ix_scans_scanned_at') p) AS by_time
    FROM pg_partition_tree('scans')
"""


def table_size(database_url: str) -> dict[str, int]:
    """Return the bytes of the scans table's rows (heap and TOAST) and of each of its indexes, all partitions."""
    with psycopg.connect(plain_url(database_url)) as connection:
        row = connection.execute(SIZE_QUERY).fetchone()
    names = ("table", "pk_scans", "ix_scans_stamp", "ix_scans_scanned_at")
    return {name: int(value or 0) for name, value in zip(names, row or (), strict=True)}
