"""Measure issuing, signing and verifying stamps from the database.

    .venv/bin/python benchmarks/issue_batch.py [--sizes 1000,30000,100000] [--database-url URL]

Prints, for each size: the time to record the batch, the time to sign every stamp, stamps per second,
and the throughput of online and offline verification on a sample. Runs on a throw-away SQLite file
unless --database-url names another database (its tables are created by the real migrations).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from traceability import create_app
from traceability.clock import today
from traceability.db import get_session
from traceability.registry.demo import load_demo
from traceability.registry.services import current_certification, list_products
from traceability.schema import upgrade_database
from traceability.stamps import batches, keys
from traceability.stamps.batches import BatchOptions
from traceability.stamps.keystore import store_from_config
from traceability.stamps.models import KeyPurpose
from traceability.verification.services import verify_code
from traceability.verification.verdicts import check_offline

VERIFY_SAMPLE = 2_000


def main() -> None:
    """Run the measurements and print a table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,30000,100000")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="ocop-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    upgrade_database(url)
    keys_dir = workdir / "keys"
    keys_dir.mkdir(mode=0o700)
    app = create_app({"DATABASE_URL": url, "KEYS_DIR": str(keys_dir), "PUBLIC_BASE_URL": "https://ocop.gov.vn"})
    print(f"database: {url.split('@')[-1]}  python {sys.version.split()[0]}  cores {os.cpu_count()}")
    print(f"{'stamps':>8} {'record s':>9} {'sign s':>8} {'signed/s':>9} {'verify online/s':>16} {'offline/s':>10}")
    with app.app_context():
        session = get_session()
        store = store_from_config(app.config)
        load_demo(session)
        key = keys.generate_key(session, store)
        keys.generate_key(session, store, purpose=KeyPurpose.PUBLICATION)  # signs the ledger's checkpoints
        session.commit()
        day = today()
        product = next(p for p in list_products(session) if current_certification(p, day))
        private = store.load(key.id)
        ring = keys.keyring(session)
        for size in sizes:
            started = time.perf_counter()
            batch = batches.issue_direct(
                session,
                store,
                product,
                size,
                BatchOptions(lot="BENCH"),
                actor="bench",
                maximum=size,
                today=day,
                activate=True,
            )
            session.commit()
            recorded = time.perf_counter() - started
            started = time.perf_counter()
            urls = [stamp.url for stamp in batches.stamps(batch, private, app.config["PUBLIC_BASE_URL"])]
            signing = time.perf_counter() - started
            sample = urls[: min(VERIFY_SAMPLE, size)]
            started = time.perf_counter()
            for url_text in sample:
                verify_code(session, url_text, day)
            online = len(sample) / (time.perf_counter() - started)
            started = time.perf_counter()
            for url_text in sample:
                check_offline(url_text, ring, date.today())
            offline = len(sample) / (time.perf_counter() - started)
            rate = size / signing
            print(f"{size:>8,} {recorded:>9.3f} {signing:>8.2f} {rate:>9,.0f} {online:>16,.0f} {offline:>10,.0f}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the whole run: {peak_mb:.0f} MB (the URLs of the largest batch are held in memory here)")


if __name__ == "__main__":
    main()
