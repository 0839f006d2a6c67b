"""Measure what one stamp-range change and one public look-up cost as a batch's ranges multiply.

    .venv/bin/python benchmarks/ranges.py [--activations 800] [--quantity 100000] [--database-url URL]

Issues one batch, then activates every other stamp one at a time (each activation a request of its own:
change_range, then commit), so the batch gains two ranges per activation. Prints the cost of the Nth
activation (median of the 20 around it) and of verifying one stamp by its code (the public page's look-up)
at the same point. Runs on a throw-away SQLite file unless --database-url names another database.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
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
from traceability.stamps.models import Batch, KeyPurpose, RangeState
from traceability.verification.services import verify_code

WINDOW = 20


def main() -> None:
    """Run the measurements and print a table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--activations", type=int, default=800)
    parser.add_argument("--quantity", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ocop-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    upgrade_database(url)
    keys_dir = workdir / "keys"
    keys_dir.mkdir(mode=0o700)
    app = create_app({"DATABASE_URL": url, "KEYS_DIR": str(keys_dir), "PUBLIC_BASE_URL": "https://ocop.gov.vn"})
    checkpoints = sorted({1, WINDOW, 100, 200, 400, 800, args.activations} & set(range(1, args.activations + 1)))
    print(f"database: {url.split('@')[-1]}  batch of {args.quantity:,} stamps; every other stamp activated alone")
    print(f"{'activation':>10} {'ranges':>7} {'activate ms':>12} {'look-up ms':>11}")
    with app.app_context():
        session = get_session()
        store = store_from_config(app.config)
        load_demo(session)
        key = keys.generate_key(session, store)
        keys.generate_key(session, store, purpose=KeyPurpose.PUBLICATION)  # signs the ledger's checkpoints
        session.commit()
        day = today()
        product = next(p for p in list_products(session) if current_certification(p, day))
        options = BatchOptions(lot="BENCH")
        batch = batches.issue_direct(
            session, store, product, args.quantity, options, actor="bench", maximum=args.quantity, today=day
        )
        session.commit()
        batch_id = batch.id
        stamps = batches.stamps(batch, store.load(key.id), app.config["PUBLIC_BASE_URL"], 0, 1)
        token = next(stamps).token
        costs: list[float] = []
        for n in range(1, args.activations + 1):
            session.expunge_all()  # each activation is a request of its own, with a fresh session
            started = time.perf_counter()
            target = session.get(Batch, batch_id)
            assert target is not None
            sequence = 2 * n
            batches.change_range(session, target, sequence, sequence + 1, RangeState.ACTIVATED, actor="bench")
            session.commit()
            costs.append(time.perf_counter() - started)
            if n in checkpoints:
                window = costs[-WINDOW:]
                session.expunge_all()
                started = time.perf_counter()
                for _ in range(WINDOW):
                    verify_code(session, token, day, frozenset({app.config["PUBLIC_BASE_URL"]}))
                    session.expunge_all()
                lookup = (time.perf_counter() - started) / WINDOW
                print(f"{n:>10} {2 * n + 1:>7} {statistics.median(window) * 1000:>12.1f} {lookup * 1000:>11.2f}")


if __name__ == "__main__":
    main()
