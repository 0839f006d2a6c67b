"""Measure the web service under load: gunicorn with the shipped config on PostgreSQL, driven by wrk.

    .venv/bin/python benchmarks/load.py --database-url postgresql://root@127.0.0.1/bench_load
        [--stamps 1000] [--duration 15] [--connections 20] [--workers N] [--fresh]
        [--preload-scans 10000000] [--soak 300]

Prepares N distinct activated stamps through the CLI (`traceability init`, `demo`, `batch issue --activate
--csv`), starts gunicorn (deploy/gunicorn.conf.py; WEB_CONCURRENCY from --workers, else the config's
2 x cores + 1) on a free loopback port with rate limits off, and runs wrk over three paths in one run: the bare
route (/healthz: every hook of the web layer, no database), the page a stamp opens (/v/<token>) and the API
(/api/v1/verify?code=<url>). wrk's Lua script walks the distinct stamps, so no two requests of a thread in a
row ask for the same one. Prints req/s, p50, p99, errors and the ratio to the bare route for each path, and
the scan rows written against the requests answered (every answered verification must be recorded).

The database must be one you name for this (createdb bench_load): it gains registry rows, stamps and scans;
--fresh empties it first (DROP SCHEMA public CASCADE). Its keys are kept in --keys-dir between runs.
--soak SECONDS then runs pages and API calls mixed for that long, sampling the workers' memory (VmRSS from
/proc) every 30 s: errors, and whether memory stays flat.
--preload-scans N first tops the scans table up to N realistic rows with COPY (benchmarks/scan_copy.py: a
year of scans of other stamps, in monthly partitions) and prints how long that took and the table's size, so
the figures can be compared with those of an empty table.
wrk is Debian's package: apt-get install wrk.
Requests go to 127.0.0.1 only, for a bounded time.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
# The app gunicorn serves in production; rate limits are turned off by RATELIMIT_ENABLED=false below.
SERVED_APP = "wsgi:app"
MAX_DURATION, MAX_CONNECTIONS, MAX_STAMPS = 600, 1_000, 100_000
MAX_PRELOAD = 100_000_000
MARKER = "LOAD-RESULT "
SOAK_SAMPLE = 30  # seconds between samples of the workers' memory during a soak

# Each wrk thread reads the paths and starts at its own offset, then walks them in order.
WRK_SCRIPT = """
local paths, index = {}, 0
local threads = 0
setup = function(thread)
  thread:set("offset", threads)
  threads = threads + 1
end
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  index = (tonumber(offset) or 0) * 7919
end
request = function()
  index = index + 1
  return wrk.format("GET", paths[index % #paths + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, ' ..
    '"timeout": %d, "p50_us": %d, "p99_us": %d}\\n', "MARKER", summary.requests, summary.duration,
    e.connect, e.read, e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(99)))
end
""".replace("MARKER", MARKER)


def _bounded(low: int, high: int) -> Any:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    return parse


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _cli(environment: dict[str, str], *args: str) -> str:
    command = [sys.executable, "-c", "from traceability.cli import main; main()", *args]
    done = subprocess.run(command, env=environment, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"traceability {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def prepare_stamps(environment: dict[str, str], count: int, csv: Path) -> list[str]:
    """Initialise the database and issue `count` activated stamps; return their URLs."""
    _cli(environment, "init")
    _cli(environment, "demo")
    products = [json.loads(line) for line in _cli(environment, "products", "--json").splitlines()]
    product = next(p["code"] for p in products if p["certified"])
    batch = ["batch", "issue", "--product", product, "--quantity", str(count), "--activate", "--lot", "LOAD"]
    _cli(environment, *batch, "--csv", str(csv))
    return [line.split(",")[1] for line in csv.read_text().splitlines()[1:]]


def query_scalar(database_url: str, sql: str) -> Any:
    """Return the one value a query gives, on a connection of its own."""
    from sqlalchemy import text

    from traceability.db import make_engine

    engine = make_engine(database_url)
    with engine.connect() as connection:
        value = connection.execute(text(sql)).scalar_one()
    engine.dispose()
    return value


def scan_rows(database_url: str) -> int:
    """Return the number of rows in the scans table."""
    return int(query_scalar(database_url, "SELECT count(*) FROM scans"))


def scratch_environment(database_url: str, prefix: str, keys_dir: Path | None = None) -> tuple[dict[str, str], Path]:
    """Return the environment for the CLI and the server on the database (development settings, prints and,
    unless `keys_dir` is given, keys in a new temporary folder, no instance config) and that folder."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    (workdir / "config.toml").write_text("")  # the repository's instance/config.toml must not apply
    if keys_dir is None:
        keys_dir = workdir / "keys"
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    environment = {
        **os.environ,
        "TRACEABILITY_ENV": "development",  # production refuses plain http and in-memory rate-limit storage
        "TRACEABILITY_CONFIG": str(workdir / "config.toml"),
        "DATABASE_URL": database_url,
        "KEYS_DIR": str(keys_dir),
        "PRINT_DIR": str(workdir / "prints"),
        "SECRET_KEY": secrets.token_urlsafe(32),
    }
    return environment, workdir


def preload_scans(database_url: str, rows: int) -> None:
    """Top the scans table up to `rows` rows with COPY; print the time it took and the table's size."""
    from benchmarks.scan_copy import preload, table_size

    loaded = preload(database_url, rows)
    sizes = table_size(database_url)
    print(
        f"preloaded {loaded.added:,} scans with COPY in {loaded.seconds:.1f} s; the scans table holds "
        f"{loaded.total:,} rows: {sizes['table'] / 2**20:,.0f} MiB of rows and "
        f"{(sum(sizes.values()) - sizes['table']) / 2**20:,.0f} MiB of indexes"
    )


def require_database(database_url: str) -> None:
    """Exit with what to do when the benchmark's database cannot be reached (e.g. not created yet)."""
    from sqlalchemy import make_url, text
    from sqlalchemy.exc import OperationalError

    from traceability.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        name = make_url(database_url).database
        sys.exit(f"cannot use the database {name!r}: {error.orig}\ncreate it first, e.g. createdb -h 127.0.0.1 {name}")
    finally:
        engine.dispose()


def reset_schema(database_url: str) -> None:
    """Empty the database (every table of the public schema)."""
    from sqlalchemy import text

    from traceability.db import make_engine

    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def wait_until_ready(process: subprocess.Popen[bytes], base: str, log: Path, name: str) -> subprocess.Popen[bytes]:
    """Return the server process once /readyz answers 200; exit with its log's path if it dies or takes 60 s."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{name} exited with {process.returncode}; see {log}")
        try:
            if _get(base + "/readyz") == 200:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    sys.exit(f"{name} was not ready within 60 s; see {log}")


def _get(url: str) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback never goes to a proxy
    try:
        with opener.open(url, timeout=5) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def start_server(environment: dict[str, str], base: str, log: Path) -> subprocess.Popen[bytes]:
    """Start gunicorn with the shipped config and wait until /readyz says ready."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG), SERVED_APP],
            env=environment,
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    return wait_until_ready(process, base, log, "gunicorn")


def run_wrk(base: str, paths_file: Path, script: Path, duration: int, connections: int) -> dict[str, Any]:
    """Run wrk over the paths in paths_file and return its summary."""
    threads = min(connections, os.cpu_count() or 1)
    load = [f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s"]
    command = ["wrk", *load, "-s", str(script), base, "--", str(paths_file)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=duration + 60)
    for line in done.stdout.splitlines():
        if line.startswith(MARKER):
            result: dict[str, Any] = json.loads(line.removeprefix(MARKER))
            return result
    sys.exit(f"wrk gave no summary (exit {done.returncode}):\n{done.stdout}{done.stderr}")


def answered(log: Path, offset: int) -> int:
    """Return how many requests the server answered 2xx, from its access log past offset (one JSON a line)."""
    with log.open("rb") as handle:
        handle.seek(offset)
        lines = [json.loads(line) for line in handle if line.startswith(b"{")]
    return sum(1 for line in lines if line.get("logger") == "gunicorn.access" and 200 <= line["status"] < 300)


def measure(
    name: str, paths: list[str], workdir: Path, options: argparse.Namespace, base: str, master: int
) -> dict[str, Any]:
    """Run one path under load; return wrk's figures, the answers the server logged, the scan rows written and
    the CPU time per request of the workers, of PostgreSQL (when it runs on this machine) and of wrk."""
    paths_file = workdir / f"{len(list(workdir.glob('*.paths')))}.paths"
    paths_file.write_text("\n".join(paths) + "\n")
    log = workdir / "gunicorn.log"
    before, offset = scan_rows(options.database_url), log.stat().st_size
    local_database = urlsplit(options.database_url).hostname in LOCAL_HOSTS
    workers_before, database_before, wrk_before = cpu_ticks(master), cpu_ticks(None), os.times()
    result = run_wrk(base, paths_file, workdir / "walk.lua", options.duration, options.connections)
    time.sleep(1)  # requests in flight as wrk stopped are still being answered
    workers_after, database_after, wrk_after = cpu_ticks(master), cpu_ticks(None), os.times()
    result["scans"] = scan_rows(options.database_url) - before
    result["served"] = answered(log, offset)
    errors = sum(result[kind] for kind in ("connect", "read", "write", "status", "timeout"))
    result.update(name=name, errors=errors)
    result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
    requests = max(result["requests"], 1)
    result["app_ms"] = used(workers_before, workers_after) * 1000 / requests
    result["db_ms"] = used(database_before, database_after) * 1000 / requests if local_database else None
    wrk_seconds = sum(getattr(wrk_after, f) - getattr(wrk_before, f) for f in ("children_user", "children_system"))
    result["wrk_ms"] = wrk_seconds * 1000 / requests
    return result


LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", None}  # None: a Unix socket


def proc_files(name: str) -> Iterator[tuple[int, str]]:
    """Yield (pid, text) of /proc/<pid>/<name> for every process (skipping those that end meanwhile)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                yield int(entry.name), (entry / name).read_text()
            except OSError:
                continue


def cpu_ticks(parent: int | None) -> dict[int, int]:
    """Return the CPU time (user + system, in clock ticks) of each child of `parent`, or with None of each
    PostgreSQL process (backends, WAL writer, checkpointer: the database's whole cost), from /proc."""
    found: dict[int, int] = {}
    for pid, stat in proc_files("stat"):
        command, fields = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        # proc(5): after the command come state (3), ppid (4), ..., utime (14) and stime (15).
        if (parent is None and command == "postgres") or (parent is not None and fields[1] == str(parent)):
            found[pid] = int(fields[11]) + int(fields[12])
    return found


def used(before: dict[int, int], after: dict[int, int]) -> float:
    """Return the CPU seconds the processes alive at the end used since `before` (0 for those that were new)."""
    ticks = sum(end - before.get(pid, 0) for pid, end in after.items())
    return ticks / os.sysconf("SC_CLK_TCK")


def worker_rss(master: int) -> dict[int, int]:
    """Return the resident memory in KiB of each gunicorn worker (the master's children), from /proc."""
    found: dict[int, int] = {}
    for pid, status in proc_files("status"):
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master) and "VmRSS" in fields:
            found[pid] = int(fields["VmRSS"].split()[0])
    return found


def run_soak(paths: list[str], workdir: Path, options: argparse.Namespace, base: str, master: int) -> dict[str, Any]:
    """Run pages and API calls mixed for --soak seconds, sampling the workers' memory every SOAK_SAMPLE seconds."""
    samples: list[tuple[float, dict[int, int]]] = []
    result: dict[str, Any] = {}
    runner = threading.Thread(
        target=lambda: result.update(
            measure(
                "soak page+api",
                paths,
                workdir,
                argparse.Namespace(**{**vars(options), "duration": options.soak}),
                base,
                master,
            )
        )
    )
    started = time.monotonic()
    runner.start()
    while runner.is_alive():
        samples.append((time.monotonic() - started, worker_rss(master)))
        runner.join(timeout=SOAK_SAMPLE)
    result["samples"] = samples
    return result


def print_soak(soak: dict[str, Any]) -> None:
    """Print the soak's figures and the workers' memory over time (flat: no leak per request)."""
    print(
        f"\nsoak, pages and API calls mixed, {soak['duration_us'] / 1e6:.0f} s: {soak['rate']:,.0f} req/s, "
        f"p50 {soak['p50_us'] / 1000:.1f} ms, p99 {soak['p99_us'] / 1000:.1f} ms, {soak['errors']:,} errors, "
        f"{soak['served']:,} answered, {soak['scans']:,} scan rows written"
    )
    print(f"{'seconds':>8} {'workers':>8} {'RSS total MiB':>14} {'RSS per worker MiB (min-max)':>30}")
    for at, rss in soak["samples"]:
        sizes = sorted(rss.values()) or [0]
        print(
            f"{at:>8.0f} {len(rss):>8} {sum(sizes) / 1024:>14.1f} {f'{sizes[0] / 1024:.1f}-{sizes[-1] / 1024:.1f}':>30}"
        )
    pids = [set(rss) for _, rss in soak["samples"] if rss]
    if pids and pids[0] != pids[-1]:
        print("!! the worker processes changed during the soak (a worker was replaced): see the server log")


def print_table(results: list[dict[str, Any]]) -> None:
    """Print path, req/s, p50, p99, errors, ratio to the bare route, scan rows against answers, CPU per request,
    and for each path the ratio it could reach at most: if its Python cost no more than the bare route's."""
    bare = results[0]
    print(
        f"{'path':<22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'ratio':>6} {'answered':>9} "
        f"{'scan rows':>9} {'CPU ms/request: app':>20} {'db':>5} {'wrk':>5} {'cores busy':>10}"
    )
    for row in results:
        scans = f"{row['scans']:>9,}" if row is not bare else f"{'-':>9}"
        database = f"{row['db_ms']:>5.2f}" if row["db_ms"] is not None else f"{'-':>5}"
        busy = row["rate"] * (row["app_ms"] + (row["db_ms"] or 0) + row["wrk_ms"]) / 1000
        print(
            f"{row['name']:<22} {row['rate']:>8,.0f} {row['p50_us'] / 1000:>8.1f} {row['p99_us'] / 1000:>8.1f} "
            f"{row['errors']:>7,} {row['rate'] / bare['rate']:>6.2f} {row['served']:>9,} {scans} "
            f"{row['app_ms']:>20.2f} {database} {row['wrk_ms']:>5.2f} {busy:>10.2f}"
        )
    print("answered: 2xx lines in the server's access log; scan rows: rows the scans table gained meanwhile")
    print(
        "CPU ms/request: user + system time of the gunicorn workers, PostgreSQL's processes and wrk, per request;"
        f" cores busy: req/s x their sum (this machine has {os.cpu_count()}: near it, the load saturates them)"
    )
    for row in results[1:]:
        if row["scans"] != row["served"]:
            print(f"!! {row['name']}: {row['served']:,} answered but {row['scans']:,} scan rows written")
    # Saturated, req/s is the cores over the CPU a request costs in all: a path whose app part cost no more
    # than the bare route's still pays PostgreSQL's part, so its ratio cannot pass this bound.
    floor = bare["app_ms"] + bare["wrk_ms"]
    for row in results[1:]:
        if row["db_ms"] is not None and floor > 0:
            print(
                f"{row['name']}: even with no more Python than the bare route, its ratio could not pass "
                f"{floor / (floor + row['db_ms']):.2f} (PostgreSQL alone takes {row['db_ms']:.2f} ms a request)"
            )


def parse_arguments() -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database for this benchmark")
    parser.add_argument("--stamps", type=_bounded(1, MAX_STAMPS), default=1_000)
    parser.add_argument("--duration", type=_bounded(1, MAX_DURATION), default=15, help="seconds per path")
    parser.add_argument("--connections", type=_bounded(1, MAX_CONNECTIONS), default=20)
    parser.add_argument("--workers", type=_bounded(1, 64), default=None, help="WEB_CONCURRENCY (default 2 x cores + 1)")
    parser.add_argument("--fresh", action="store_true", help="empty the database first (DROP SCHEMA public)")
    parser.add_argument(
        "--preload-scans",
        type=_bounded(0, MAX_PRELOAD),
        default=0,
        help="top the scans table up to this many realistic rows with COPY before the run",
    )
    parser.add_argument(
        "--soak",
        type=_bounded(0, MAX_DURATION),
        default=0,
        help="after the table, this many seconds of pages and API calls mixed, the workers' memory sampled",
    )
    parser.add_argument(
        "--keys-dir", type=Path, default=ROOT / "instance" / "load-keys", help="the database's keys, kept between runs"
    )
    options = parser.parse_args()
    if not options.database_url.startswith(("postgresql://", "postgresql+psycopg://")):
        parser.error("--database-url must be a PostgreSQL URL (the benchmark measures production's database)")
    options.database_url = options.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    return options


def main() -> None:
    """Prepare stamps, serve them with gunicorn, load three paths with wrk, and print the table."""
    options = parse_arguments()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    require_database(options.database_url)
    if options.fresh:
        reset_schema(options.database_url)
    environment, workdir = scratch_environment(options.database_url, "ocop-load-", keys_dir=options.keys_dir)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    environment.update(
        PUBLIC_BASE_URL=base,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        LOG_FORMAT="json",
        RATELIMIT_ENABLED="false",  # one client sends every request: the limits would answer 429
    )
    if options.workers:
        environment["WEB_CONCURRENCY"] = str(options.workers)
    started = time.perf_counter()
    urls = prepare_stamps(environment, options.stamps, workdir / "stamps.csv")
    print(f"prepared {len(urls):,} activated stamps in {time.perf_counter() - started:.1f} s")
    if options.preload_scans:
        preload_scans(options.database_url, options.preload_scans)
    (workdir / "walk.lua").write_text(WRK_SCRIPT)
    server = start_server(environment, base, workdir / "gunicorn.log")
    workers = options.workers or 2 * (os.cpu_count() or 1) + 1
    load_before = os.getloadavg()
    common = (workdir, options, base, server.pid)
    pages = [urlsplit(url).path for url in urls]
    calls = [f"/api/v1/verify?code={quote(url, safe='')}" for url in urls]
    soak: dict[str, Any] | None = None
    try:
        results = [
            measure("bare /healthz", ["/healthz"], *common),
            measure("page /v/<token>", pages, *common),
            measure("api /api/v1/verify", calls, *common),
        ]
        if options.soak:
            mixed = [path for pair in zip(pages, calls, strict=True) for path in pair]
            soak = run_soak(mixed, *common)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    load_after = os.getloadavg()
    host = urlsplit(options.database_url).hostname
    print(
        f"gunicorn sync x {workers} workers, {options.connections} connections, {options.duration} s per path, "
        f"{len(urls):,} distinct stamps, PostgreSQL on {host}, {os.cpu_count()} cores"
    )
    print(f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f}; python {sys.version[:6]}")
    print_table(results)
    if soak is not None:
        print_soak(soak)
    print(f"server log: {workdir / 'gunicorn.log'}")


if __name__ == "__main__":
    main()
