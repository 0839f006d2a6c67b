"""Print jobs for the web: run off the request thread, produce the files once, keep them, fail readably."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.printing.conftest import decode_pdf
from traceability.db import utcnow
from traceability.printing import jobrunner, jobs, services
from traceability.printing.layouts import LAYOUTS
from traceability.printing.models import JobStatus, PrintJob
from traceability.stamps import batches
from traceability.stamps.models import RangeState
from traceability.verification.services import verify_code
from traceability.verification.verdicts import Verdict

WAIT = 120  # seconds a test waits for the runner at most


@pytest.fixture
def print_runner(app: Flask) -> Iterator[jobrunner.PrintRunner]:
    """Give the app its print runner (create_app will call init_app) and stop it after the test."""
    jobs.init_app(app)
    yield jobs.runner(app)
    jobs.runner(app).shutdown(wait=True)


def run_jobs(app: Flask, session: Session) -> None:
    """Run every queued job to the end, then forget what the test's session had loaded."""
    session.commit()
    jobs.start_jobs(app).result(timeout=WAIT)
    session.expire_all()


def print_dir(app: Flask) -> Path:
    return Path(app.config["PRINT_DIR"])


def test_a_job_runs_to_done_and_its_codes_verify_genuine(
    app: Flask, session: Session, print_runner: jobrunner.PrintRunner, issue_batch: Callable[..., Any]
) -> None:
    batch = issue_batch(100, activate=True)
    job = jobs.request_print(session, batch, "a4-30mm", "producer:7", print_dir=print_dir(app))
    assert (job.status, job.total, job.requested_by) == (JobStatus.QUEUED, 100, "producer:7")
    run_jobs(app, session)

    assert job.status is JobStatus.DONE, job.error
    progress = jobs.progress_of(job)
    assert (progress.done, progress.total, progress.percent, progress.error) == (100, 100, 100, None)
    path = jobs.finished_file(job, "pdf", print_dir(app))
    assert path.parent.parent == print_dir(app) and not list(path.parent.glob(".*"))
    assert job.files is not None and job.files["pdf"]["bytes"] == path.stat().st_size
    assert [r.state for r in batches.batch_or_404(session, batch.id).ranges] == [RangeState.ACTIVATED]
    (first_page,) = decode_pdf(path.read_bytes(), pages=[0])
    assert len(first_page) == LAYOUTS["a4-30mm"].per_sheet
    for url in first_page:
        verification = verify_code(session, url, date.today())
        assert verification.verdict is Verdict.GENUINE, (url, verification.verdict)


def test_a_second_request_reuses_the_file_and_a_lost_file_comes_back_identical(
    app: Flask, session: Session, print_runner: jobrunner.PrintRunner, issue_batch: Callable[..., Any]
) -> None:
    batch = issue_batch(60)
    job = jobs.request_print(session, batch, None, "office:1", formats=("pdf", "csv"), print_dir=print_dir(app))
    assert job.layout == "a4-30mm"
    run_jobs(app, session)
    assert job.status is JobStatus.DONE, job.error
    assert [r.state for r in batch.ranges] == [RangeState.PRINTED]
    pdf, csv = jobs.finished_file(job, "pdf", print_dir(app)), jobs.finished_file(job, "csv", print_dir(app))
    first = {"pdf": pdf.read_bytes(), "csv": csv.read_bytes()}
    modified = pdf.stat().st_mtime_ns

    again = jobs.request_print(
        session, batch, "a4-30mm", "producer:7", formats=("csv", "pdf"), print_dir=print_dir(app)
    )
    assert again.id == job.id and again.status is JobStatus.DONE
    run_jobs(app, session)
    assert pdf.stat().st_mtime_ns == modified
    assert session.scalars(select(PrintJob)).all() == [job]

    pdf.unlink()
    again = jobs.request_print(
        session, batch, "a4-30mm", "producer:7", formats=("pdf", "csv"), print_dir=print_dir(app)
    )
    assert again.id == job.id and again.status is JobStatus.QUEUED
    run_jobs(app, session)
    assert again.status is JobStatus.DONE, again.error
    assert {"pdf": pdf.read_bytes(), "csv": csv.read_bytes()} == first

    other = jobs.request_print(session, batch, "avery-l7160", "producer:7", print_dir=print_dir(app))
    assert other.id != job.id


def test_a_revoked_batch_fails_readably_and_leaves_no_file(
    app: Flask, session: Session, print_runner: jobrunner.PrintRunner, issue_batch: Callable[..., Any]
) -> None:
    batch = issue_batch(30)
    job = jobs.request_print(session, batch, "a4-30mm", "producer:7", print_dir=print_dir(app))
    batches.revoke(session, batch, actor="office", reason="wrong product")  # after the request, before the run
    run_jobs(app, session)
    assert job.status is JobStatus.FAILED
    # Kept as msgid and params (errors.stored), read in the reader's language; English outside a request.
    assert jobs.progress_of(job).error == f"batch {batch.id} is revoked; its stamps must not be printed"
    assert job.finished_at is not None and jobs.progress_of(job).status == "failed"
    assert not [p for p in print_dir(app).rglob("*") if p.is_file()]
    with pytest.raises(jobs.JobNotFinished):
        jobs.finished_file(job, "pdf", print_dir(app))
    with pytest.raises(services.BatchNotPrintable, match="revoked"):
        jobs.request_print(session, batch, "a4-30mm", "producer:7", print_dir=print_dir(app))


def test_a_missing_key_fails_readably_and_a_new_request_queues_a_new_job(
    app: Flask, session: Session, print_runner: jobrunner.PrintRunner, issue_batch: Callable[..., Any], keys_dir: Path
) -> None:
    batch = issue_batch(30)
    job = jobs.request_print(session, batch, "avery-l7160", "producer:7", print_dir=print_dir(app))
    moved = {path: path.read_bytes() for path in keys_dir.iterdir()}
    for path in moved:
        path.unlink()
    run_jobs(app, session)
    assert job.status is JobStatus.FAILED and job.error and "key" in job.error.lower()
    assert not [p for p in print_dir(app).rglob("*") if p.is_file()]
    assert [r.state for r in batch.ranges] == [RangeState.ISSUED]

    for path, data in moved.items():
        path.write_bytes(data)
        path.chmod(0o600)
    retry = jobs.request_print(session, batch, "avery-l7160", "producer:7", print_dir=print_dir(app))
    assert retry.id != job.id
    run_jobs(app, session)
    assert retry.status is JobStatus.DONE, retry.error


def test_a_stale_running_job_runs_again_and_a_live_one_is_left_alone(
    app: Flask, session: Session, print_runner: jobrunner.PrintRunner, issue_batch: Callable[..., Any]
) -> None:
    batch = issue_batch(10)
    stale = jobs.request_print(session, batch, "a4-30mm", "producer:7", print_dir=print_dir(app))
    live = jobs.request_print(session, batch, "avery-l7160", "producer:7", print_dir=print_dir(app))
    stale.status, stale.heartbeat_at, stale.started_at = JobStatus.RUNNING, utcnow() - timedelta(hours=1), utcnow()
    live.status, live.heartbeat_at = JobStatus.RUNNING, utcnow()
    run_jobs(app, session)
    assert stale.status is JobStatus.DONE, stale.error
    assert stale.error is None and jobs.finished_file(stale, "pdf", print_dir(app)).is_file()
    assert live.status is JobStatus.RUNNING


def test_a_job_interrupted_on_every_attempt_fails_with_a_clear_message(
    app: Flask, session: Session, issue_batch: Callable[..., Any]
) -> None:
    batch = issue_batch(10)
    job = jobs.request_print(session, batch, "a4-30mm", "producer:7", print_dir=print_dir(app))
    session.commit()
    sessions, attempts = app.extensions["db_sessionmaker"], app.config["PRINT_JOB_ATTEMPTS"]
    for attempt in range(1, attempts + 1):
        with sessions.begin() as worker:  # a worker claims the job, then dies: its heartbeat stops
            claimed = jobrunner.claim(worker)
            assert claimed is not None and claimed.job_id == job.id
        with sessions.begin() as later:  # the next sweep, once the heartbeat is older than the limit
            recovered = jobrunner.recover_stale(later, timedelta(seconds=-1), attempts)
        session.expire_all()
        if attempt < attempts:
            assert recovered.requeued == [job.id] and job.status is JobStatus.QUEUED
            said = jobs.progress_of(job).error
            assert said and said.startswith("interrupted once" if attempt == 1 else f"interrupted {attempt} times")
        assert job.interruptions == attempt  # counted in a column: no rewording of the note resets it
        session.commit()
    assert recovered.failed == [job.id] and job.status is JobStatus.FAILED
    assert jobs.progress_of(job).error == (
        f"interrupted {attempts} times: the process printing this stopped before it finished each time; "
        "ask for the file again"
    )
    assert jobs.request_print(session, batch, "a4-30mm", "producer:7", print_dir=print_dir(app)).id != job.id


def test_a_claim_is_the_callers_to_commit_and_only_one_runner_wins_it(
    app: Flask, session: Session, issue_batch: Callable[..., Any]
) -> None:
    batch = issue_batch(10)
    job = jobs.request_print(session, batch, "a4-30mm", "producer:7", print_dir=print_dir(app))
    session.commit()
    sessions = app.extensions["db_sessionmaker"]
    with sessions() as first:
        assert jobrunner.claim_next(first) == job.id
        first.rollback()  # not committed: the job is still waiting
    with sessions() as first, sessions() as second:
        claimed = jobrunner.claim(first)
        assert claimed is not None and claimed.job_id == job.id
        first.commit()
        assert jobrunner.claim_next(second) is None and jobrunner.claim(second, job.id) is None
        second.commit()
    session.expire_all()
    assert job.status is JobStatus.RUNNING and job.started_at == claimed.started_at
    session.commit()


def test_a_runner_that_lost_its_job_can_no_longer_write_to_it(
    app: Flask, session: Session, issue_batch: Callable[..., Any]
) -> None:
    """A runner silent too long loses its job to another; its late progress or failure changes nothing."""
    batch = issue_batch(10)
    job = jobs.request_print(session, batch, "a4-30mm", "producer:7", print_dir=print_dir(app))
    session.commit()
    sessions, runner = app.extensions["db_sessionmaker"], jobs.runner(app)
    with sessions.begin() as first:
        old = jobrunner.claim(first)
    with sessions.begin() as sweep:
        assert jobrunner.recover_stale(sweep, timedelta(seconds=-1), 3).requeued == [job.id]
    with sessions.begin() as second:
        new = jobrunner.claim(second)
    assert old is not None and new is not None and old.started_at != new.started_at
    with sessions() as late:
        with pytest.raises(jobrunner.JobLost):
            runner._heartbeat(late, old)(10, 10)
        runner._fail(late, old, RuntimeError("too late"))
    session.expire_all()
    assert (job.status, job.done, job.started_at) == (JobStatus.RUNNING, 0, new.started_at)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layout": "a3-50mm"}, "unknown layout 'a3-50mm'; choose one of: a4-20mm, a4-30mm, roll-30mm, a gLabels"),
        ({"layout": "a4-20mm"}, "labels of 20 × 20 mm are too small for this batch's QR code"),
        ({"layout": "a4-30mm", "ecc": "Q"}, "labels of 30 × 30 mm are too small"),
        ({"ecc": "H"}, "error correction must be one of M, Q"),
        ({"formats": ("pdf", "docx")}, "got docx"),
        ({"formats": ("zip-svg", "zip-png")}, "one ZIP format"),
    ],
)
def test_a_request_is_checked_before_anything_is_queued(
    session: Session, issue_batch: Callable[..., Any], kwargs: dict[str, Any], message: str
) -> None:
    batch = issue_batch(5)
    arguments: dict[str, Any] = {"layout": "a4-30mm", **kwargs}
    layout = arguments.pop("layout")
    with pytest.raises(services.ValidationError, match=message):
        jobs.request_print(session, batch, layout, "producer:7", **arguments)
    assert session.scalars(select(PrintJob)).all() == []


@pytest.mark.parametrize(
    ("short_name", "province", "label"),
    [
        ("HTX Thái An", "Ninh Thuận", "HTX Thái An"),
        ("  HTX   Thái An ", "Ninh Thuận", "HTX Thái An"),
        ("Hợp tác xã Nông nghiệp Thái An", "Ninh Thuận", "Ninh Thuận"),
        ("Hợp tác xã Nông nghiệp Thái An", "Tỉnh có tên rất là dài quá mức", "Hợp tác xã Nông nghiệp…"),
    ],
)
def test_the_label_is_the_short_name_or_else_the_province(short_name: str, province: str, label: str) -> None:
    from traceability.registry.models import Producer

    text = services.stamp_label(Producer(short_name=short_name, province=province))
    assert text == label and len(text) <= services.MAX_LABEL


def test_a_mid_size_batch_runs_in_worker_processes_from_the_runner_thread(
    app: Flask, session: Session, print_runner: jobrunner.PrintRunner, issue_batch: Callable[..., Any]
) -> None:
    import pypdfium2 as pdfium

    count, layout = 2_000, LAYOUTS["a4-30mm"]  # five jobs of 480 stamps: the process pool is used
    batch = issue_batch(count, activate=True)
    job = jobs.request_print(session, batch, layout.name, "office:1", print_dir=print_dir(app))
    run_jobs(app, session)
    assert job.status is JobStatus.DONE, job.error
    assert (job.done, job.total) == (count, count)
    pdf = jobs.finished_file(job, "pdf", print_dir(app)).read_bytes()
    document = pdfium.PdfDocument(pdf)
    pages = len(document)
    document.close()
    assert pages == layout.sheets_for(count) == 42
    first, last = decode_pdf(pdf, pages=[0, pages - 1])
    assert (len(first), len(last)) == (layout.per_sheet, count - 41 * layout.per_sheet)
    assert all(verify_code(session, url, date.today()).verdict is Verdict.GENUINE for url in last)


def test_a_print_font_that_is_not_a_font_fails_the_job_readably(
    app: Flask, session: Session, issue_batch: Callable[..., Any], tmp_path: Path
) -> None:
    app.config["PRINT_FONT"] = str(tmp_path / "missing.ttf")
    jobs.init_app(app)  # the runner reads the setting when it is built
    try:
        batch = issue_batch(10)
        job = jobs.request_print(session, batch, "a4-30mm", "producer:7", print_dir=print_dir(app))
        run_jobs(app, session)
    finally:
        jobs.runner(app).shutdown(wait=True)
    assert job.status is JobStatus.FAILED
    assert (
        jobs.progress_of(job).error
        == f"PRINT_FONT is '{tmp_path / 'missing.ttf'}', which is not a TrueType font file this service can read"
    )
    assert [r.state for r in batch.ranges] == [RangeState.ISSUED]


def test_requests_for_the_same_files_at_the_same_moment_make_one_job(
    app: Flask, session: Session, issue_batch: Callable[..., Any]
) -> None:
    batch = issue_batch(10)
    sessions, asking = app.extensions["db_sessionmaker"], 4
    together = threading.Barrier(asking)
    found: list[int] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            with sessions() as own:
                mine = batches.batch_or_404(own, batch.id)
                own.commit()  # on SQLite an open transaction holds the write lock: load, then wait for the others
                together.wait(timeout=WAIT)
                job = jobs.request_print(own, mine, "a4-30mm", "producer:7", print_dir=print_dir(app))
                own.commit()
                found.append(job.id)
        except BaseException as error:  # reported below, on the test's thread
            errors.append(error)

    threads = [threading.Thread(target=ask) for _ in range(asking)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT)
    assert not errors and len(found) == asking and len(set(found)) == 1, (errors, found)
    assert len(session.scalars(select(PrintJob)).all()) == 1


@pytest.mark.postgres
def test_on_postgresql_a_second_request_waits_for_the_first_to_commit_and_takes_its_job(
    app: Flask, session: Session, issue_batch: Callable[..., Any], database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL); SQLite lets one writer in at a time from BEGIN on")
    batch = issue_batch(10)
    session.commit()
    sessions = app.extensions["db_sessionmaker"]
    second_job: list[int] = []

    def second() -> None:
        with sessions() as own:
            mine = batches.batch_or_404(own, batch.id)
            second_job.append(jobs.request_print(own, mine, "a4-30mm", "t", print_dir=print_dir(app)).id)
            own.commit()

    waiting = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    with sessions() as first:
        job = jobs.request_print(first, batches.batch_or_404(first, batch.id), "a4-30mm", "t", print_dir=print_dir(app))
        thread = threading.Thread(target=second)
        thread.start()
        while not session.scalar(waiting):  # until the second request waits on the first one's lock
            session.commit()
            assert thread.is_alive(), "the second request did not wait for the first"
            time.sleep(0.01)
        session.commit()
        first.commit()
    thread.join(timeout=WAIT)
    assert second_job == [job.id]


def test_a_worker_needs_a_queue(runner: Any) -> None:
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 1
    assert "QUEUE_URL is not set: print jobs run in the web processes themselves" in result.output


def test_a_queue_that_cannot_be_reached_leaves_the_job_queued_for_the_worker(
    app_config: dict[str, Any], database_url: str, issue_batch: Callable[..., Any], session: Session
) -> None:
    from traceability import create_app

    unreachable = create_app({**app_config, "QUEUE_URL": "redis://127.0.0.1:9/0"})  # nothing listens on port 9
    try:
        batch = issue_batch(5)
        job = jobs.request_print(session, batch, "a4-30mm", "producer:7", print_dir=print_dir(unreachable))
        session.commit()
        assert jobs.start_jobs(unreachable).result() == 0
        session.expire_all()
        assert job.status is JobStatus.QUEUED
    finally:
        unreachable.extensions["db_engine"].dispose()


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "127.0.0.1:6379", "memory://"])
def test_a_queue_url_that_is_not_redis_stops_the_service_at_start(url: str, tmp_path: Path) -> None:
    from traceability import config
    from traceability.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="QUEUE_URL must be a redis://, rediss:// or unix:// URL"):
        config.load(str(tmp_path), {"QUEUE_URL": url}, environ={})
