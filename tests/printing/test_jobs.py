"""Print jobs for the web: run off the request thread, produce the files once, keep them, fail readably."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
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
    (first_page,) = decode_pdf(path.read_bytes(), pages=[0])
    assert len(first_page) == LAYOUTS["a4-30mm"].per_sheet
    for url in first_page:
        verification = verify_code(session, url, date.today())
        assert verification.verdict is Verdict.GENUINE, (url, verification.verdict)
    assert [r.state for r in batches.batch_or_404(session, batch.id).ranges] == [RangeState.ACTIVATED]


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
    assert job.error == f"batch {batch.id} is revoked; its stamps must not be printed"
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


def test_a_stale_running_job_is_marked_failed_and_a_live_one_is_left_alone(
    app: Flask, session: Session, print_runner: jobrunner.PrintRunner, issue_batch: Callable[..., Any]
) -> None:
    batch = issue_batch(10)
    stale = jobs.request_print(session, batch, "a4-30mm", "producer:7", print_dir=print_dir(app))
    live = jobs.request_print(session, batch, "avery-l7160", "producer:7", print_dir=print_dir(app))
    stale.status, stale.heartbeat_at = JobStatus.RUNNING, utcnow() - timedelta(hours=1)
    live.status, live.heartbeat_at = JobStatus.RUNNING, utcnow()
    run_jobs(app, session)
    assert stale.status is JobStatus.FAILED and stale.error and stale.error.startswith("interrupted")
    assert live.status is JobStatus.RUNNING


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
        assert jobrunner.claim_next(first) == job.id
        first.commit()
        assert jobrunner.claim_next(second) is None
        second.commit()
    session.expire_all()
    assert job.status is JobStatus.RUNNING


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
        job.error
        == f"PRINT_FONT is '{tmp_path / 'missing.ttf'}', which is not a TrueType font file this service can read"
    )
    assert [r.state for r in batch.ranges] == [RangeState.ISSUED]
