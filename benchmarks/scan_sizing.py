"""Measure bytes per scan on PostgreSQL and print the sizing table: rows a day and disk a year at given rates.

    .venv/bin/python benchmarks/scan_sizing.py --database-url postgresql://root@127.0.0.1/bench_scans [--rows 1000000]

Upgrades the database (it must be one you name for this: it is emptied first, DROP SCHEMA public CASCADE),
issues one batch through the CLI so scans have a real batch to refer to, loads `--rows` realistic scans with
COPY (benchmarks/scan_copy.py: a year of scans in monthly partitions), and divides the scans table's size,
its rows and each index over all partitions, by the rows. Disk a year is that figure times the scans of a
year; WAL, backups and the replicas' copies come on top.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.load import prepare_stamps, require_database, reset_schema, scratch_environment  # noqa: E402
from benchmarks.scan_copy import preload, table_size  # noqa: E402

RATES = (1, 10, 100)  # average scans a second
NATIONAL = 300_000_000  # scans a year at national scale (the figure)
SECONDS_A_DAY, DAYS_A_YEAR = 86_400, 365


def main() -> None:
    """Load the rows, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database for this measurement")
    parser.add_argument("--rows", type=int, default=1_000_000)
    options = parser.parse_args()
    url = options.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    if not url.startswith("postgresql+psycopg://"):
        parser.error("--database-url must be a PostgreSQL URL")
    require_database(url)
    reset_schema(url)
    environment, workdir = scratch_environment(url, "ocop-sizing-")
    prepare_stamps(environment, 1_000, workdir / "stamps.csv")
    loaded = preload(url, options.rows)
    sizes = table_size(url)
    total = sum(sizes.values())
    print(f"loaded {loaded.added:,} scans with COPY in {loaded.seconds:.1f} s ({loaded.added / loaded.seconds:,.0f}/s)")
    print(f"{'part':<22} {'MiB':>8} {'bytes/scan':>11}")
    for name, size in sizes.items():
        print(f"{name:<22} {size / 2**20:>8.1f} {size / loaded.total:>11.1f}")
    per_scan = total / loaded.total
    print(f"{'total':<22} {total / 2**20:>8.1f} {per_scan:>11.1f}")
    print()
    print(f"{'scans':<22} {'rows/day':>12} {'rows/year':>14} {'disk/year':>10}")
    for label, yearly in [(f"{r}/s average", r * SECONDS_A_DAY * DAYS_A_YEAR) for r in RATES] + [
        ("300M/year", NATIONAL)
    ]:
        print(f"{label:<22} {yearly / DAYS_A_YEAR:>12,.0f} {yearly:>14,} {yearly * per_scan / 1e9:>8.1f} GB")


if __name__ == "__main__":
    main()
