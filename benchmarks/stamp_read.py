"""Measure how a verification's one read grows with the scans its stamp already has, on PostgreSQL.

    .venv/bin/python benchmarks/stamp_read.py --database-url postgresql://root@127.0.0.1/bench_read
        [--other-scans 1000000] [--reads 300]

Empties the database (it must be one you name for this: DROP SCHEMA public CASCADE), issues one batch through
the CLI, optionally loads --other-scans realistic scans of other stamps with COPY (benchmarks/scan_copy.py: a
year of them, in monthly partitions), then gives stamps 0, 10, 100, 1,000 and 10,000 camera scans each and
times `services.read_stamp`, the statement every page and API answer runs, as the app runs it (a session on
the app's engine, psycopg's prepared statement after five runs). Prints the median over --reads reads.

The stamp's scan count and its first scans are read from the scans themselves (scans.summary_columns): what
a shopper is told stays exact, and the read costs more for a stamp scanned very often. This shows how much.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.load import (  # noqa: E402
    prepare_stamps,
    query_scalar,
    require_database,
    reset_schema,
    scratch_environment,
)
from benchmarks.scan_copy import preload  # noqa: E402

COUNTS = (0, 10, 100, 1_000, 10_000)
MAX_READS = 100_000


def give_scans(url: str, batch_id: int, sequence: int, count: int) -> None:
    """Give the stamp `count` camera scans, one a minute back from now (what a stamp scanned often looks like)."""
    from sqlalchemy import text

    from traceability.db import make_engine

    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO scans (scanned_at, channel, verdict, flags, batch_id, sequence, code_hash, device,"
                " network_hash, salt_period)"
                " SELECT now() - make_interval(mins => n), 'page', 'genuine', 'genuine', :batch, :sequence,"
                " md5(n::text), md5('d' || n), md5('n' || n), '7d2900' FROM generate_series(1, :count) AS n"
            ),
            {"batch": batch_id, "sequence": sequence, "count": count},
        )
        connection.execute(text("ANALYZE scans"))
    engine.dispose()


def time_reads(url: str, batch_id: int, sequence: int, reads: int, *, prepared: bool = True) -> float:
    """Return the median milliseconds of read_stamp for one stamp, after five warm-up reads (from the sixth,
    psycopg runs the statement prepared, as in a worker that has answered a few look-ups; with prepared=False
    never, so PostgreSQL plans it at every read, as after a ROLLBACK, which drops psycopg's prepared ones)."""
    from sqlalchemy.orm import Session

    from traceability.db import make_engine
    from traceability.verification.services import read_stamp

    engine = make_engine(url)
    timings: list[float] = []
    with Session(engine) as session:
        if not prepared:
            driver = session.connection().connection.driver_connection
            assert driver is not None
            driver.prepare_threshold = None
        for done in range(reads + 5):
            started = time.perf_counter()
            row = read_stamp(session, batch_id, sequence)
            if done >= 5:
                timings.append(time.perf_counter() - started)
            assert row is not None
        # One transaction for all: the statement alone is timed, without the pool's ping, BEGIN and COMMIT.
        session.commit()
    engine.dispose()
    return statistics.median(timings) * 1000


def main() -> None:
    """Prepare the database, give the stamps their scans, time the reads, print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database for this measurement")
    parser.add_argument("--other-scans", type=int, default=0, help="scans of other stamps to load first (COPY)")
    parser.add_argument("--reads", type=int, default=300, help="timed reads per stamp")
    options = parser.parse_args()
    url = options.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    if not url.startswith("postgresql+psycopg://"):
        parser.error("--database-url must be a PostgreSQL URL")
    if not 1 <= options.reads <= MAX_READS or options.other_scans < 0:
        parser.error(f"--reads must be 1 to {MAX_READS:,} and --other-scans 0 or more")
    require_database(url)
    reset_schema(url)
    environment, workdir = scratch_environment(url, "ocop-read-")
    prepare_stamps(environment, len(COUNTS), workdir / "stamps.csv")
    if options.other_scans:
        loaded = preload(url, options.other_scans)
        print(f"loaded {loaded.added:,} scans of other stamps with COPY in {loaded.seconds:.1f} s")
    # The batch prepare_stamps issued (the demo data may hold others).
    batch_id = int(query_scalar(url, "SELECT max(id) FROM batches"))
    partitions = query_scalar(url, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'scans'::regclass")
    print(f"scans table: {partitions} partitions; {options.reads} reads a stamp, median")
    print(f"{'scans of the stamp':>19} {'read_stamp ms':>14} {'unprepared ms':>14}")
    for sequence, count in enumerate(COUNTS):
        if count:
            give_scans(url, batch_id, sequence, count)
        warm = time_reads(url, batch_id, sequence, options.reads)
        cold = time_reads(url, batch_id, sequence, options.reads, prepared=False)
        print(f"{count:>19,} {warm:>14.2f} {cold:>14.2f}")


if __name__ == "__main__":
    main()
