"""Feed mutated stamp codes to the offline verifier and to the HTTP API; count any accepted as genuine.

    .venv/bin/python benchmarks/mutations.py [--database-url postgresql://root@127.0.0.1/DB --fresh]
        [--count 100000] [--http-count 100000] [--http-seconds 600] [--concurrency 16] [--seed 9]

Prepares a service as `traceability init` and `demo` do, issues three activated batches (two products of two
producers), marks the stamp key compromised (its replacement signs a fourth batch after the compromise), and
exports what an offline verifier holds: the JWK Set, the signed revocation bundle and the ledger. Then it
makes --count mutations of the genuine codes, spread evenly over the kinds below, and runs each through
(a) the offline verifier (`verify --offline`'s own loaders and checks, in process) and (b) GET
/api/v1/verify on Werkzeug's threaded server (rate limits off; gunicorn is not in the development venv) on a
free loopback port, for at most --http-seconds. Prints a
table per kind: count, accepted as genuine, crashes or server errors (5xx), 4xx answers, other verdicts.

Kinds: digit flips, truncation, extension, splices of two stamps, re-signing with the stolen (compromised)
key with a field the ledger disagrees with (sequence beyond the batch, another product, stars, certificate
month, a batch never issued or issued after the compromise), signatures by a key that is not ours, Unicode
look-alike digits and URL prefixes, and whitespace or invisible characters inside or around the code.
The row `limit: nonce only` is apart: the thief re-signs a stamp of a batch issued before the compromise,
changing only the random byte the ledger does not hold. Offline that reads genuine by design (it says no
more than a photocopy of that genuine label would); online the batch secret refuses it.

Without --database-url the service runs on a SQLite file in a temporary directory. Requests go to
127.0.0.1 only, for a bounded time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.load import _cli, _free_port, reset_schema, wait_until_ready  # noqa: E402
from benchmarks.mutation_kinds import LIMIT_KIND, Setup, generate  # noqa: E402
from traceability.stamps.keystore import FileKeyStore  # noqa: E402
from traceability.verification.offline_material import offline_material  # noqa: E402
from traceability.verification.services import own_prefixes  # noqa: E402
from traceability.verification.trustlist import apply_revocations  # noqa: E402
from traceability.verification.verdicts import check_offline  # noqa: E402

MAX_COUNT, MAX_SECONDS = 1_000_000, 1_800


@dataclass
class Tally:
    count: int = 0
    accepted: int = 0
    errors: int = 0  # offline: exceptions; HTTP: 5xx or no answer
    refused: int = 0  # HTTP 4xx
    verdicts: Counter[str] = field(default_factory=Counter)


def prepare(environment: dict[str, str], workdir: Path, keys_dir: Path) -> Setup:
    """Issue batches, compromise the stamp key, issue after it, and export the offline verifier's material."""
    _cli(environment, "init")
    _cli(environment, "demo")
    products = [json.loads(line) for line in _cli(environment, "products", "--json").splitlines()]
    certified = [p for p in products if p["certified"]]
    two = [certified[0], next((p for p in certified if p["producer"] != certified[0]["producer"]), certified[-1])]
    urls: list[str] = []
    for index, (product, quantity) in enumerate([(two[0], 300), (two[1], 48), (two[0], 200)]):
        csv = workdir / f"batch{index}.csv"
        urls += [line.split(",")[1] for line in _issue_csv(environment, product["code"], quantity, csv)]
    time.sleep(0.01)
    _cli(environment, "keys", "compromise", "1", "--at", _now(), "--note", "mutation benchmark: the key was stolen")
    later = _issue_csv(environment, two[1]["code"], 30, workdir / "later.csv")
    later_urls = [line.split(",")[1] for line in later]
    files = {name: workdir / f"{name}.json" for name in ("jwks", "revocations", "ledger")}
    _cli(environment, "keys", "export", "--jwks", str(files["jwks"]))
    _cli(environment, "revocations", "export", str(files["revocations"]))
    _cli(environment, "ledger", "export", str(files["ledger"]))
    material = offline_material(str(files["jwks"]), None, str(files["revocations"]), str(files["ledger"]), None, None)
    assert material.bundle is not None and material.ledger is not None
    refs = sorted({entry.product_ref for entry in material.ledger.entries.values()})
    stolen = FileKeyStore(keys_dir).load(1)
    return Setup(
        environment["PUBLIC_BASE_URL"],
        urls,
        later_urls,
        stolen,
        material.stamp_keys,
        material.bundle,
        material.ledger,
        refs,
    )


def _issue_csv(environment: dict[str, str], product: str, quantity: int, csv: Path) -> list[str]:
    args = ["batch", "issue", "--product", product, "--quantity", str(quantity), "--activate", "--csv", str(csv)]
    _cli(environment, *args)
    return csv.read_text().splitlines()[1:]


def _now() -> str:
    from traceability.db import utcnow

    return utcnow().isoformat()


def start_server(environment: dict[str, str], base: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    """Serve the app (rate limits off) with Werkzeug's threaded server on loopback; wait until /readyz answers."""
    program = (
        "from benchmarks.load import serving_app; from werkzeug.serving import run_simple; "
        f"run_simple('127.0.0.1', {port}, serving_app(), threaded=True)"
    )
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", program], env=environment, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT
        )
    return wait_until_ready(process, base, log, "the server")


# --- running --------------------------------------------------------------------------------------------


def run_offline(setup: Setup, codes: list[tuple[str, str]]) -> dict[str, Tally]:
    """Check every code as `verify --offline` does (trimmed, then keys, ledger and bundle)."""
    tallies: dict[str, Tally] = {}
    prefixes, today = own_prefixes({"PUBLIC_BASE_URL": setup.base}), date.today()
    for kind, code in codes:
        tally = tallies.setdefault(kind, Tally())
        tally.count += 1
        try:
            outcome = check_offline(code.strip(), setup.ring, today, prefixes, setup.ledger)
            verdict = apply_revocations(outcome, setup.bundle, setup.ledger).verdict.value
        except Exception:
            tally.errors += 1
            continue
        tally.accepted += verdict == "genuine"
        tally.verdicts[verdict] += 1
    return tallies


def run_http(setup: Setup, codes: list[tuple[str, str]], seconds: int, concurrency: int) -> dict[str, Tally]:
    """GET /api/v1/verify for each code until done or `seconds` pass; tally the answers."""
    tallies: dict[str, Tally] = {kind: Tally() for kind, _ in codes}
    lock, deadline = threading.Lock(), time.monotonic() + seconds
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def ask(item: tuple[str, str]) -> None:
        if time.monotonic() > deadline:
            return
        kind, code = item
        status, verdict = 0, ""
        try:
            with opener.open(f"{setup.base}/api/v1/verify?code={quote(code, safe='')}", timeout=30) as reply:
                status, verdict = reply.status, json.loads(reply.read()).get("verdict", "")
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = 0
        with lock:
            tally = tallies[kind]
            tally.count += 1
            if status >= 500 or status == 0:
                tally.errors += 1
            elif status >= 400:
                tally.refused += 1
                tally.verdicts[f"HTTP {status}"] += 1
            else:
                tally.accepted += verdict == "genuine"
                tally.verdicts[verdict] += 1

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(ask, codes))
    return tallies


def print_table(title: str, tallies: dict[str, Tally]) -> None:
    """Print kind, count, accepted, errors, 4xx and the other verdicts, with totals (the limit row apart)."""
    print(f"\n{title}")
    print(f"{'kind':<30} {'count':>8} {'accepted':>9} {'5xx/crash':>9} {'4xx':>7}  other verdicts")
    total = Tally()
    for kind, tally in tallies.items():
        others = ", ".join(f"{verdict} {n:,}" for verdict, n in tally.verdicts.most_common() if verdict != "genuine")
        line = f"{kind:<30} {tally.count:>8,} {tally.accepted:>9,} {tally.errors:>9,} {tally.refused:>7,}  {others}"
        if kind == LIMIT_KIND:
            limit = line
            continue
        print(line)
        total.count, total.accepted = total.count + tally.count, total.accepted + tally.accepted
        total.errors, total.refused = total.errors + tally.errors, total.refused + tally.refused
    print(f"{'total':<30} {total.count:>8,} {total.accepted:>9,} {total.errors:>9,} {total.refused:>7,}")
    if "limit" in locals():
        print(limit)


def parse_arguments() -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="a database for this benchmark (default: a temporary SQLite file)")
    parser.add_argument("--fresh", action="store_true", help="empty the PostgreSQL database first")
    parser.add_argument("--count", type=int, default=100_000, help="mutations for the offline verifier")
    parser.add_argument("--http-count", type=int, default=100_000, help="of those, how many go over HTTP")
    parser.add_argument("--http-seconds", type=int, default=600, help="time bound for the HTTP part")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=9)
    options = parser.parse_args()
    for name, high in (("count", MAX_COUNT), ("http_count", MAX_COUNT), ("http_seconds", MAX_SECONDS)):
        if not 0 <= getattr(options, name) <= high:
            parser.error(f"--{name.replace('_', '-')} must be between 0 and {high}")
    if not 1 <= options.concurrency <= 64:
        parser.error("--concurrency must be between 1 and 64")
    return options


def main() -> None:
    """Prepare the service, mutate, verify offline and over HTTP, print the tables."""
    options = parse_arguments()
    workdir = Path(tempfile.mkdtemp(prefix="ocop-mutations-"))
    keys_dir = workdir / "keys"
    keys_dir.mkdir(mode=0o700)
    url = options.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    if options.fresh and url.startswith("postgresql"):
        reset_schema(url)
    (workdir / "config.toml").write_text("")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "TRACEABILITY_ENV": "development",
        "TRACEABILITY_CONFIG": str(workdir / "config.toml"),
        "DATABASE_URL": url,
        "KEYS_DIR": str(keys_dir),
        "PRINT_DIR": str(workdir / "prints"),
        "SECRET_KEY": secrets.token_urlsafe(32),
        "PUBLIC_BASE_URL": base,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "LOG_FORMAT": "json",
    }
    started = time.perf_counter()
    setup = prepare(environment, workdir, keys_dir)
    codes = generate(setup, options.count, options.seed)
    print(
        f"prepared {len(setup.urls) + len(setup.later):,} genuine stamps and {len(codes):,} mutations "
        f"in {time.perf_counter() - started:.1f} s ({workdir})"
    )
    started = time.perf_counter()
    offline = run_offline(setup, codes)
    print_table(
        f"(a) offline verifier, JWK Set + revocation bundle + ledger ({time.perf_counter() - started:.1f} s)", offline
    )
    if options.http_count:
        sample = random.Random(options.seed + 1).sample(codes, min(options.http_count, len(codes)))
        server = start_server(environment, base, port, workdir / "server.log")
        started = time.perf_counter()
        try:
            answers = run_http(setup, sample, options.http_seconds, options.concurrency)
            http = {kind: answers[kind] for kind in offline if kind in answers}
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        sent = sum(t.count for t in http.values())
        print_table(
            f"(b) GET /api/v1/verify on the Werkzeug threaded server, {sent:,} of {len(sample):,} sent in "
            f"{time.perf_counter() - started:.1f} s (bound {options.http_seconds} s)",
            http,
        )


if __name__ == "__main__":
    main()
