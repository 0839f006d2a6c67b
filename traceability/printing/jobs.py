"""Print jobs for the web: request a batch's files, run them off the request thread, report progress.

A request records a queued job (or reuses the done one: the files are produced once and kept under
PRINT_DIR); after the view commits it calls start_jobs(), and the app's runner (jobrunner.py) claims queued
jobs one at a time, each in sessions of its own, and runs them through the one print path (runs.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from traceability.audit import services as audit
from traceability.errors import Conflict, NotFound, Term
from traceability.i18n import N_
from traceability.printing import services
from traceability.printing.jobrunner import PrintRunner, job_or_404
from traceability.printing.models import JobStatus, PrintJob
from traceability.printing.outputs import check_formats, file_name, outputs_under
from traceability.stamps.models import Batch

EXTENSION_KEY = "print_runner"
# Job states as JobNotFinished names them, translated when shown (errors.Term).
JOB_STATES = (N_("queued"), N_("running"), N_("failed"))


class JobNotFinished(Conflict):
    code = "print_job_not_finished"


def batch_job_or_404(session: Session, batch: Batch, job_id: int) -> PrintJob:
    """Return a job of this batch, or raise NotFound (never another batch's job)."""
    job = job_or_404(session, job_id)
    if job.batch_id != batch.id:  # the same answer as for a job that does not exist
        raise NotFound(N_("there is no print job %(job)s"), params={"job": job_id})
    return job


def jobs_of(session: Session, batch_id: int, limit: int = 20) -> list[PrintJob]:
    """Return the batch's print jobs, newest first."""
    query = select(PrintJob).where(PrintJob.batch_id == batch_id).order_by(PrintJob.id.desc()).limit(limit)
    return list(session.scalars(query))


def _files_present(job: PrintJob, print_dir: Path) -> bool:
    """Say whether every file of a done job is still where it was written, at its recorded size."""
    if not job.files:
        return False
    for fmt, record in job.files.items():
        path = print_dir / file_name(job.batch_id, job.layout, job.ecc, fmt)
        if not path.is_file() or path.stat().st_size != record["bytes"]:
            return False
    return True


def _latest_job(session: Session, batch_id: int, layout: str, ecc: str, formats: tuple[str, ...]) -> PrintJob | None:
    """Return the newest job, failed ones aside, that produces or produced these files."""
    return session.scalar(
        select(PrintJob)
        .where(
            PrintJob.batch_id == batch_id,
            PrintJob.layout == layout,
            PrintJob.ecc == ecc,
            PrintJob.formats == ",".join(formats),
            PrintJob.status != JobStatus.FAILED,
        )
        .order_by(PrintJob.id.desc())
        .limit(1)
    )


def request_print(
    session: Session,
    batch: Batch,
    layout: str | None,
    actor: str,
    *,
    ecc: str = "M",
    formats: Iterable[str] = ("pdf",),
    print_dir: str | Path | None = None,
    base_url: str | None = None,
) -> PrintJob:
    """Return the job that produces (or produced) these files for the batch; queue one if needed.

    A done job whose files are still there is returned as it is; if they went missing it is queued again and
    reproduces them identically (the recorded hashes are checked). Nothing is committed here: the caller
    commits, then calls start_jobs(). layout None means the layout asked for with the batch; a layout whose
    labels cannot hold the code is refused here (LabelTooSmall), not after the job starts (without base_url, at
    the largest code any stamp URL makes).
    """
    services.require_printable(batch)
    stock = services.layout_for(batch, layout)
    ecc = services.check_ecc_choice(ecc)
    services.check_code_fits(stock, base_url, ecc)
    chosen = stock.name
    wanted = check_formats(formats)
    outputs_under(Path("."), batch.id, chosen, ecc, wanted)  # refuses two ZIP formats at once
    directory = Path(print_dir if print_dir is not None else current_app.config["PRINT_DIR"])
    job = _latest_job(session, batch.id, chosen, ecc, wanted)
    if job is not None and job.status is JobStatus.DONE and not _files_present(job, directory):
        # Done, but a file went missing: reproduce it, byte for byte.
        job.status, job.done, job.error = JobStatus.QUEUED, 0, None
        job.started_at = job.finished_at = job.heartbeat_at = None
    elif job is None:
        job = PrintJob(
            batch_id=batch.id,
            layout=chosen,
            ecc=ecc,
            formats=",".join(wanted),
            status=JobStatus.QUEUED,
            done=0,
            total=batch.quantity * len(wanted),
            requested_by=actor,
        )
        session.add(job)
    session.flush()
    return job


@dataclass(frozen=True)
class JobProgress:
    """What a progress page shows."""

    job: int
    batch: int
    status: str
    done: int
    total: int
    percent: int
    error: str | None
    files: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Return the progress as JSON values."""
        return dict(self.__dict__)


def progress_of(job: PrintJob) -> JobProgress:
    """Return a job's progress."""
    percent = 100 if job.status is JobStatus.DONE else (100 * job.done // job.total if job.total else 0)
    return JobProgress(
        job.id, job.batch_id, job.status.value, job.done, job.total, min(percent, 100), job.error, job.files or {}
    )


def finished_file(job: PrintJob, fmt: str = "pdf", print_dir: str | Path | None = None) -> Path:
    """Return the path of a done job's file, or raise JobNotFinished / NotFound."""
    if job.status is not JobStatus.DONE:
        raise JobNotFinished(
            N_("print job %(job)s is %(status)s, not done"), params={"job": job.id, "status": Term(job.status.value)}
        )
    if fmt not in job.format_list:
        raise NotFound(N_("print job %(job)s has no %(format)s file"), params={"job": job.id, "format": fmt})
    directory = Path(print_dir if print_dir is not None else current_app.config["PRINT_DIR"])
    path = directory / file_name(job.batch_id, job.layout, job.ecc, fmt)
    if not path.is_file():
        raise NotFound(
            N_("the %(format)s file of print job %(job)s is gone; ask for it again"),
            params={"format": fmt, "job": job.id},
        )
    return path


@dataclass(frozen=True)
class KeptFile:
    """A done job's file, cleared for download: where it is and the sha256 it was recorded with."""

    path: Path
    sha256: str | None


def download_kept_file(
    session: Session, batch: Batch, job_id: int, fmt: str, actor: str, print_dir: str | Path | None = None
) -> KeptFile:
    """Check the batch may still be printed, find the job's finished file and audit its download; the caller commits."""
    # A batch revoked (or signed by a key since compromised) after its files were made must not be
    # printed from the kept files either.
    services.require_printable(batch)
    services.require_trusted_key(session, batch)
    job = batch_job_or_404(session, batch, job_id)
    path = finished_file(job, fmt, print_dir)
    sha256 = (job.files or {}).get(fmt, {}).get("sha256")
    audit.record(
        session,
        actor,
        "batch.download",
        f"batch:{batch.id}",
        after={"format": fmt, "layout": job.layout, "ecc": job.ecc, "job": job.id, "sha256": sha256},
    )
    return KeptFile(path, sha256)


def runner(app: Flask | None = None) -> PrintRunner:
    """Return the app's print runner (the current app's by default)."""
    target = app or current_app
    found: PrintRunner | None = target.extensions.get(EXTENSION_KEY)
    if found is None:
        raise RuntimeError("traceability.printing.jobs.init_app(app) was not called")
    return found


def start_jobs(app: Flask | None = None) -> Future[int]:
    """Start running queued jobs off the request thread; call it after committing request_print's job."""
    return runner(app).kick()


def init_app(app: Flask) -> None:
    """Give the app its print runner (after db.init_app); no thread starts and no query runs until start_jobs()."""
    app.extensions[EXTENSION_KEY] = PrintRunner.from_config(app.config, app.extensions["db_sessionmaker"])
