"""Measure printing a batch of stamps to PDF: stamps per second, wall time and peak memory of the process tree.

Each measurement runs in a fresh child process; the parent samples the memory of the child and of all its
descendants (the forkserver and the worker processes) from /proc every 50 ms, and reports the peak of the
summed PSS (proportional set size: shared pages are split between the processes sharing them, so forked
workers are not counted twice) and of the summed RSS.

    python benchmarks/print_batch.py                       # 1,000 / 10,000 / 30,000 / 100,000 stamps
    python benchmarks/print_batch.py --sizes 30000 --baseline-sizes 1000,2000
    python benchmarks/print_batch.py --from-database       # also: a real batch, database to finished PDF
    python benchmarks/print_batch.py --layout avery-l7160@600 --sizes 30000   # any layout name, "@DPI" too

Without --from-database, tokens are synthetic 193-digit numbers (no signing). With it, each size also runs
the service path of `traceability batch print`: a fresh SQLite database with the demo registry and a new
key, a batch issued (not timed), then timed from loading the batch to the PDF renamed into place and its
stamps marked printed, signing every stamp on the way.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
BASE_URL = "https://ocop.gov.vn"
PREFIX = BASE_URL + "/v/"
DEMO_PRODUCT = "NT-SP01"
LABEL = "HTX Nho Thái An"
DEFAULT_SIZES = (1_000, 10_000, 30_000, 100_000)
SAMPLE_SECONDS = 0.05


def synthetic_rows(count: int, seed: int = 2026) -> Iterator[tuple[str, str, int]]:
    """Yield (serial, 193 random digits, stars) lazily, so the batch itself takes no memory."""
    import numpy as np

    rng = np.random.default_rng(seed)
    for start in range(0, count, 1000):
        block = rng.integers(0, 10, (min(1000, count - start), 193), dtype=np.uint8) + 48
        for offset, row in enumerate(block):
            index = start + offset
            yield f"0000123-{index:06d}-{index * 7919 % 100000:05d}", row.tobytes().decode("ascii"), 3 + index % 3


def run_pipeline(count: int, layout_name: str, workers: int, out_path: str) -> dict[str, object]:
    """Print count stamps with the batch encoder and the streaming writer."""
    from traceability.printing.fontfiles import find_fonts
    from traceability.printing.sheets import PrintableStamp, write_pdf
    from traceability.printing.stock import resolve_layout

    fonts = find_fonts()
    started = time.perf_counter()
    stamps = (PrintableStamp(s, PREFIX, d, stars, LABEL) for s, d, stars in synthetic_rows(count))
    with open(out_path, "wb") as out:
        stats = write_pdf(
            stamps,
            out,
            layout=resolve_layout(layout_name),
            fonts=fonts,
            batch_label="BENCH-1",
            count=count,
            workers=workers,
        )
    return {"seconds": time.perf_counter() - started, "bytes": stats.bytes_written, "pages": stats.pages}


def issue_bench_batch(app: Flask, count: int) -> int:
    """Issue a batch of count stamps of a demo product in the app's fresh database; return its id."""
    from traceability import clock
    from traceability.db import get_session
    from traceability.registry.demo import load_demo
    from traceability.registry.services import product_or_404
    from traceability.stamps import batches, keys
    from traceability.stamps.keystore import store_from_config
    from traceability.stamps.models import KeyPurpose

    store = store_from_config(app.config)
    with app.app_context():
        session = get_session()
        keys.generate_key(session, store)
        keys.generate_key(session, store, purpose=KeyPurpose.PUBLICATION)  # signs the ledger's checkpoints
        load_demo(session)
        batch = batches.issue_direct(
            session,
            store,
            product_or_404(session, DEMO_PRODUCT),
            count,
            batches.BatchOptions(lot="BENCH-1"),
            actor="bench",
            maximum=count,
            today=clock.today(),
        )
        session.commit()
        return batch.id


def run_database(count: int, layout_name: str, workers: int, out_path: str) -> dict[str, object]:
    """Issue a batch in a fresh database, then time database to finished PDF, signing included."""
    from traceability import create_app
    from traceability.db import transaction
    from traceability.printing import runs
    from traceability.printing.fontfiles import find_fonts
    from traceability.printing.outputs import Outputs
    from traceability.schema import upgrade_database
    from traceability.stamps.keystore import store_from_config

    folder = Path(out_path).parent
    (folder / "keys").mkdir(mode=0o700)
    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    app = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": url,
            "KEYS_DIR": str(folder / "keys"),
            "PUBLIC_BASE_URL": BASE_URL,
            "PRINT_DIR": str(folder),
            "SECRET_KEY": "bench",
            "PRINT_WORKERS": workers,
        }
    )
    upgrade_database(url)
    batch_id = issue_bench_batch(app, count)
    settings = runs.PrintSettings(BASE_URL, workers, find_fonts())
    with app.app_context():  # the service `traceability batch print` calls, in a fresh context
        started = time.perf_counter()
        printed = runs.print_batch(
            transaction,
            store_from_config(app.config),
            batch_id,
            Outputs(pdf=Path(out_path)),
            settings=settings,
            actor="bench",
            layout=layout_name,
        )
        seconds = time.perf_counter() - started
    assert printed.marked == count and printed.stats is not None
    return {"seconds": seconds, "bytes": printed.stats.bytes_written, "pages": printed.stats.pages}


def run_baseline(count: int, out_path: str) -> dict[str, object]:
    """Print count stamps the straightforward way: qrcode defaults, Pillow page images, Pillow PDF."""
    import qrcode
    from PIL import Image, ImageDraw, ImageFont

    from traceability.printing.fontfiles import find_fonts

    regular = find_fonts().regular
    started = time.perf_counter()
    dpi, per_row, per_column = 300, 6, 8
    px = round(30 / 25.4 * dpi)
    qr_px = round(16.17 / 25.4 * dpi)
    font = ImageFont.truetype(regular, 24)
    pages: list[Image.Image] = []
    page: Image.Image | None = None
    draw: ImageDraw.ImageDraw | None = None
    for index, (serial, digits, stars) in enumerate(synthetic_rows(count)):
        position = index % (per_row * per_column)
        if position == 0:
            page = Image.new("L", (round(210 / 25.4 * dpi), round(297 / 25.4 * dpi)), 255)
            draw = ImageDraw.Draw(page)
            pages.append(page)
        assert page is not None and draw is not None
        code = qrcode.make(PREFIX + digits).get_image().convert("L").resize((qr_px, qr_px), Image.NEAREST)
        x = 118 + position % per_row * (px + 24)
        y = 265 + position // per_row * (px + 24)
        page.paste(code, (x + (px - qr_px) // 2, y))
        for line, text in enumerate((f"OCOP {'★' * stars}", LABEL, serial)):
            draw.text((x + px // 2, y + qr_px + 10 + line * 30), text, font=font, fill=0, anchor="mt")
    pages[0].save(out_path, "PDF", resolution=dpi, save_all=True, append_images=pages[1:])
    return {"seconds": time.perf_counter() - started, "bytes": os.path.getsize(out_path), "pages": len(pages)}


def run_encode(count: int) -> dict[str, object]:
    """Encode count version-6-M codes with the batch encoder on one core."""
    from traceability.printing.qrbatch import encode_batch

    digits = [d for _, d, _ in synthetic_rows(count)]
    encode_batch(PREFIX.encode(), digits[:256])  # build the cached tables outside the timing
    started = time.perf_counter()
    encode_batch(PREFIX.encode(), digits)
    return {"seconds": time.perf_counter() - started, "bytes": 0, "pages": 0}


def child_main(mode: str, count: int, layout: str, workers: int) -> None:
    """Run one measurement and print its result as JSON."""
    with tempfile.TemporaryDirectory() as tmp:
        out_path = os.path.join(tmp, "stamps.pdf")
        if mode == "pipeline":
            result = run_pipeline(count, layout, workers, out_path)
        elif mode == "database":
            result = run_database(count, layout, workers, out_path)
        elif mode == "baseline":
            result = run_baseline(count, out_path)
        else:
            result = run_encode(count)
    print(json.dumps(result))


def _children() -> dict[int, list[int]]:
    """Return the parent → children map of all processes."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def _kilobytes(pid: int, path: str, key: str) -> int:
    """Return one kB field of a /proc file of a process, or 0 if the process is gone."""
    try:
        with open(f"/proc/{pid}/{path}") as handle:
            for line in handle:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_memory(root: int) -> tuple[int, int]:
    """Return the summed PSS and RSS (kB) of a process and all its descendants."""
    tree = _children()
    pids, pss, rss = [root], 0, 0
    while pids:
        pid = pids.pop()
        pss += _kilobytes(pid, "smaps_rollup", "Pss:")
        rss += _kilobytes(pid, "status", "VmRSS:")
        pids.extend(tree.get(pid, []))
    return pss, rss


def measure(mode: str, count: int, layout: str, workers: int) -> dict[str, float]:
    """Run one measurement in a fresh process and return its timings and peak memory."""
    command = [sys.executable, __file__, "--child", mode, str(count), "--layout", layout, "--workers", str(workers)]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, env=env, text=True)
    peak_pss = peak_rss = 0
    while child.poll() is None:
        pss, rss = tree_memory(child.pid)
        peak_pss, peak_rss = max(peak_pss, pss), max(peak_rss, rss)
        time.sleep(SAMPLE_SECONDS)
    process_seconds = time.perf_counter() - started
    output, _ = child.communicate()
    if child.returncode:
        raise SystemExit(f"{mode} {count} failed with exit code {child.returncode}")
    result = json.loads(output.strip().splitlines()[-1])
    return {
        "stamps": count,
        "seconds": result["seconds"],
        "process_seconds": process_seconds,
        "per_second": count / result["seconds"],
        "pss_mb": peak_pss / 1024,
        "rss_mb": peak_rss / 1024,
        "file_mb": result["bytes"] / 1e6,
        "pages": result["pages"],
    }


def row(name: str, m: dict[str, float], note: str = "") -> str:
    """Format one result line."""
    return (
        f"{name:<28} {m['stamps']:>8,} {m['seconds']:>9.2f} {m['process_seconds']:>9.2f} {m['per_second']:>10,.0f} "
        f"{m['pss_mb']:>9.0f} {m['rss_mb']:>9.0f} {m['file_mb']:>8.1f} {m['pages']:>6,}  {note}"
    )


def parse_sizes(text: str) -> list[int]:
    """Parse a comma-separated list of batch sizes."""
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def main() -> None:
    """Run the requested measurements and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=parse_sizes, default=list(DEFAULT_SIZES))
    parser.add_argument("--baseline-sizes", type=parse_sizes, default=[1_000])
    parser.add_argument("--layout", default="a4-30mm")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--from-database", action="store_true", help="also time a real batch, DB to PDF")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child[0], int(args.child[1]), args.layout, args.workers)
        return

    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, layout {args.layout}, {args.workers} workers")
    print("wall s = inside the child, from first stamp to closed file; process s = incl. interpreter start")
    print(
        f"{'pipeline':<28} {'stamps':>8} {'wall s':>9} {'process s':>9} {'stamps/s':>10} "
        f"{'PSS MB':>9} {'RSS MB':>9} {'file MB':>8} {'pages':>6}"
    )
    encode = measure("encode", 30_000, args.layout, 1)
    print(row("qrbatch encode only, 1 core", encode, "(codes/s, version 6-M, 8-mask selection)"))
    for size in args.sizes:
        print(row(f"qrbatch + stream, {args.workers} workers", measure("pipeline", size, args.layout, args.workers)))
    if args.from_database:
        for size in args.sizes:
            measured = measure("database", size, args.layout, args.workers)
            print(row("database → PDF, signed", measured, "(batch print: load, sign, encode, write, mark)"))
    for size in args.baseline_sizes:
        base = measure("baseline", size, args.layout, 1)
        print(row("qrcode + Pillow pages", base))
        for target in args.sizes:
            if target > size:
                factor = target / size
                scaled = {
                    **base,
                    "stamps": target,
                    "seconds": base["seconds"] * factor,
                    "process_seconds": base["process_seconds"] * factor,
                    "pss_mb": base["pss_mb"] * factor,
                    "rss_mb": base["rss_mb"] * factor,
                    "file_mb": base["file_mb"] * factor,
                    "pages": int(base["pages"] * factor),
                }
                print(row("qrcode + Pillow pages", scaled, f"EXTRAPOLATED linearly from {size:,}"))


if __name__ == "__main__":
    main()
