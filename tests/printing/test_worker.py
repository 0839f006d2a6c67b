"""Print work off the web process: with QUEUE_URL set the web only enqueues, `traceability worker` prints, a job
runs with nobody opening its page, and a worker killed mid-job leaves no half-written file and the job runs again.

Needs Redis: TEST_REDIS_URL (default redis://127.0.0.1:6379/1, /2 for the second pytest-xdist worker, ...; that
database is emptied before and after each test).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.registry import FinishedJobRegistry
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import csrf_token
from tests.printing.conftest import decode_pdf
from traceability.db import utcnow
from traceability.printing import jobs
from traceability.printing.jobqueue import QUEUE_NAME, queue_job_id
from traceability.printing.layouts import LAYOUTS
from traceability.printing.models import JobStatus, PrintJob
from traceability.printing.outputs import file_name
from traceability.registry.services import producer_by_code
from traceability.stamps import batches
from traceability.stamps.models import RangeState

# Each pytest-xdist worker empties a Redis database of its own (1 for gw0, 2 for gw1, ...).
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_URL = os.environ.get("TEST_REDIS_URL", f"redis://127.0.0.1:6379/{1 + _WORKER}")
# The installed command, as systemd starts it (python -m would import the package twice).
SCRIPT = Path(sys.executable).with_name("traceability")
TRACEABILITY = (
    [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-c", "from traceability.cli import main; main()"]
)
HANG = 600  # seconds after which a waiting test gives up: a guard against hanging, not a speed check


@pytest.fixture
def queue_url() -> Iterator[str]:
    """Return the test Redis database's URL, emptied; skip the test when no Redis answers."""
    connection = Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except RedisError as error:
        connection.close()
        pytest.skip(f"no Redis answers at {REDIS_URL} (set TEST_REDIS_URL): {error}")
    connection.flushdb()
    yield REDIS_URL
    connection.flushdb()
    connection.close()


@pytest.fixture
def app_config(app_config: dict[str, Any], queue_url: str) -> dict[str, Any]:
    """Return the printing suite's configuration with the print queue on."""
    return {**app_config, "QUEUE_URL": queue_url}


@pytest.fixture
def queue(queue_url: str) -> Iterator[Queue]:
    """Return the print queue as the workers read it."""
    connection = Redis.from_url(queue_url)
    yield Queue(QUEUE_NAME, connection=connection)
    connection.close()


def work_burst(runner: FlaskCliRunner) -> None:
    """Run `traceability worker --burst` in this process, keeping the test's signal handlers."""
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        result = runner.invoke(args=["worker", "--burst"])
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    assert result.exit_code == 0, result.output


def now_of(session: Session, job_id: int) -> PrintJob:
    """Return the job as the database has it now, ending the read (on SQLite an open one blocks every writer)."""
    session.expire_all()
    job = session.get(PrintJob, job_id)
    assert job is not None
    session.commit()
    return job


def prints(app: Flask) -> Path:
    return Path(app.config["PRINT_DIR"])


def print_files(app: Flask) -> list[Path]:
    return sorted(p for p in prints(app).rglob("*") if p.is_file())


def test_a_queued_job_runs_with_nobody_opening_its_page(
    app: Flask, session: Session, runner: FlaskCliRunner, queue: Queue, issue_batch: Callable[..., Any]
) -> None:
    batch = issue_batch(60)
    job = jobs.request_print(session, batch, "a4-30mm", "producer:7", formats=("pdf", "csv"), print_dir=prints(app))
    session.commit()  # and no start_jobs(): as if the web process died right after its commit
    assert queue.count == 0

    work_burst(runner)  # the worker's first sweep finds the queued row and puts it on the queue
    job = now_of(session, job.id)
    assert job.status is JobStatus.DONE, job.error
    assert job.files is not None and sorted(job.files) == ["csv", "pdf"]
    for fmt, record in job.files.items():
        path = jobs.finished_file(job, fmt, prints(app))
        assert hashlib.sha256(path.read_bytes()).hexdigest() == record["sha256"]
    assert queue.count == 0


def test_a_job_put_on_the_queue_twice_runs_once(
    app: Flask, session: Session, runner: FlaskCliRunner, queue: Queue, issue_batch: Callable[..., Any]
) -> None:
    batch = issue_batch(30)
    job = jobs.request_print(session, batch, "a4-30mm", "producer:7", formats=("csv",), print_dir=prints(app))
    session.commit()
    assert jobs.start_jobs(app).result() == 1
    assert jobs.start_jobs(app).result() == 0  # still waiting on the queue: not added again
    assert queue.job_ids == [queue_job_id(job.id)]
    jobs.print_queue(app).queue.enqueue(jobs.perform, job.id)  # a stray duplicate
    work_burst(runner)
    assert now_of(session, job.id).status is JobStatus.DONE
    assert [r.state for r in batches.batch_or_404(session, batch.id).ranges] == [RangeState.PRINTED]
    session.commit()
    answers = [queue.fetch_job(i) for i in FinishedJobRegistry(queue=queue).get_job_ids()]
    assert sorted(str(a.return_value()) for a in answers if a is not None) == [
        "nothing to do: already done, running or failed",
        "ran",
    ]


def test_the_web_process_never_prints_when_a_queue_is_set(
    app: Flask,
    client: FlaskClient,
    auth: Any,
    session: Session,
    runner: FlaskCliRunner,
    queue: Queue,
    issue_batch: Callable[..., Any],
) -> None:
    batch = issue_batch(60, code="W-HTX")
    producer = producer_by_code(session, "W-HTX")
    session.commit()
    auth.login(auth.user("producer", producer=producer).email)
    page, start = f"/portal/batches/{batch.id}/download", f"/portal/batches/{batch.id}/print"
    response = client.post(start, data={"csrf_token": csrf_token(client, page), "layout": "a4-30mm", "format": "pdf"})
    assert response.status_code == 303
    for _ in range(3):  # the page, opened again and again, only ever enqueues
        assert client.get(response.headers["Location"]).status_code == 200
    (job,) = session.scalars(select(PrintJob)).all()
    session.commit()

    assert job.status is JobStatus.QUEUED and print_files(app) == []
    assert not [t for t in threading.enumerate() if t.name.startswith("print-jobs")]
    assert queue.job_ids == [queue_job_id(job.id)]

    work_burst(runner)
    assert now_of(session, job.id).status is JobStatus.DONE
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{response.headers['Location']}/pdf" in html


def _worker(env: dict[str, str], log: Path, *arguments: str) -> subprocess.Popen[bytes]:
    """Start `traceability worker` as a process of its own (and its own process group)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [*TRACEABILITY, "worker", *arguments],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@pytest.fixture
def worker_env(app: Flask, queue_url: str, database_url: str, keys_dir: Path) -> dict[str, str]:
    """Return the environment of a `traceability worker` process on the test's database, keys and queue."""
    return {
        **os.environ,
        "TRACEABILITY_ENV": "testing",
        "DATABASE_URL": database_url,
        "KEYS_DIR": str(keys_dir),
        "PRINT_DIR": app.config["PRINT_DIR"],
        "PUBLIC_BASE_URL": app.config["PUBLIC_BASE_URL"],
        "SECRET_KEY": "test-secret",
        "QUEUE_URL": queue_url,
    }


def wait_mid_job(session: Session, job_id: int, worker: subprocess.Popen[bytes], log: Path) -> PrintJob:
    """Wait until the worker has written some stamps of the job (or stopped), and return the job then."""
    deadline = time.monotonic() + HANG
    while (state := now_of(session, job_id)).done == 0 and worker.poll() is None:
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    assert state.status is JobStatus.RUNNING, log.read_text()
    return state


def queue_print(app: Flask, session: Session, batch: Any, formats: tuple[str, ...]) -> tuple[PrintJob, list[Path]]:
    """Request the batch's files in a4-30mm, put the job on the queue; return it and the files' paths."""
    job = jobs.request_print(session, batch, "a4-30mm", "office:1", formats=formats, print_dir=prints(app))
    session.commit()
    assert jobs.start_jobs(app).result() == 1
    return job, [prints(app) / file_name(batch.id, "a4-30mm", "M", fmt) for fmt in formats]


def test_a_worker_killed_mid_job_leaves_no_half_written_file_and_the_job_runs_again(
    app: Flask, session: Session, worker_env: dict[str, str], issue_batch: Callable[..., Any], tmp_path: Path
) -> None:
    import pypdfium2 as pdfium

    count, layout = 10_000, LAYOUTS["a4-30mm"]  # over a second of work even on an idle machine: the kill lands mid-job
    batch = issue_batch(count)
    job, (pdf, csv) = queue_print(app, session, batch, ("pdf", "csv"))
    env, log = worker_env, tmp_path / "worker.log"

    worker = _worker({**env, "PRINT_WORKERS": "1"}, log)
    try:
        wait_mid_job(session, job.id, worker, log)
        os.kill(worker.pid, signal.SIGKILL)  # mid-job: stamps are being written
        worker.wait()
    finally:
        with contextlib.suppress(ProcessLookupError):  # and what it started (the PDF writer's pool), as systemd would
            os.killpg(worker.pid, signal.SIGKILL)
    killed = now_of(session, job.id)
    assert killed.status is JobStatus.RUNNING and 0 < killed.done < 2 * count
    assert not pdf.exists() and not csv.exists()  # nothing under the files' names
    partial = [p.name for p in pdf.parent.iterdir()]
    assert partial and all(n.startswith((f".{pdf.name}.", f".{csv.name}.")) and n.endswith(".part") for n in partial)

    # A new worker, once the killed one's heartbeat is older than PRINT_JOB_STALE_SECONDS, runs the job again.
    heartbeat = killed.heartbeat_at
    assert heartbeat is not None
    while utcnow() - heartbeat <= timedelta(seconds=1.5):
        time.sleep(0.1)
    again = _worker({**env, "PRINT_JOB_STALE_SECONDS": "1"}, log, "--burst")
    assert again.wait(timeout=HANG) == 0, log.read_text()

    done = now_of(session, job.id)
    assert done.status is JobStatus.DONE, (done.error, log.read_text())
    assert done.error is None and (done.done, done.total) == (2 * count, 2 * count)
    assert sorted(p.name for p in pdf.parent.iterdir()) == sorted([pdf.name, csv.name])  # the partial file is gone
    assert done.files is not None
    for path, fmt in ((pdf, "pdf"), (csv, "csv")):
        assert hashlib.sha256(path.read_bytes()).hexdigest() == done.files[fmt]["sha256"]
    assert len(csv.read_text(encoding="utf-8").splitlines()) == count + 1
    document = pdfium.PdfDocument(pdf.read_bytes())
    pages = len(document)
    document.close()
    assert pages == layout.sheets_for(count)
    (last,) = decode_pdf(pdf.read_bytes(), pages=[pages - 1])
    assert len(last) == count - (pages - 1) * layout.per_sheet
    assert "interrupted" in log.read_text()  # the sweep said what it did


def test_a_worker_stopped_mid_job_finishes_it_first(
    app: Flask, session: Session, worker_env: dict[str, str], issue_batch: Callable[..., Any], tmp_path: Path
) -> None:
    """SIGTERM (systemctl stop) lets the running job finish, then the worker exits."""
    batch = issue_batch(3_000)
    job, (pdf,) = queue_print(app, session, batch, ("pdf",))
    log = tmp_path / "worker.log"
    worker = _worker(worker_env, log)
    try:
        wait_mid_job(session, job.id, worker, log)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=HANG) == 0, log.read_text()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
    finished = now_of(session, job.id)
    assert finished.status is JobStatus.DONE and finished.files is not None, (finished.error, log.read_text())
    assert hashlib.sha256(pdf.read_bytes()).hexdigest() == finished.files["pdf"]["sha256"]
    assert "warm shut down requested" in log.read_text().lower()
