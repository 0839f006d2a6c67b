"""Print jobs for the web: request a batch's files, have them run off the request, report progress.

A request records a queued job (or reuses the done one: the files are produced once and kept under
PRINT_DIR); after the view commits it calls start_jobs(). With QUEUE_URL set, that only puts the job on the
queue (jobqueue.py) and `traceability worker` runs it; without it (the embedded default) the web process's
own runner thread claims queued jobs one at a time. Either way a job runs through jobrunner.py, in sessions
of its own, along the one print path (runs.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from traceability.audit import services as audit
from traceability.db import get_session
from traceability.errors import Conflict, NotFound, Term, read_stored
from traceability.i18n import N_
from traceability.printing import services
from traceability.printing.jobqueue import PrintQueue
from traceability.printing.jobrunner import PrintRunner, job_or_404
from traceability.printing.models import JobStatus, PrintJob
from traceability.printing.outputs import check_formats, file_name, outputs_under
from traceability.stamps.models import Batch

EXTENSION_KEY = "print_runner"
QUEUE_KEY = "print_queue"
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


def _lock_files(session: Session, batch_id: int, layout: str, ecc: str, formats: tuple[str, ...]) -> None:
    """Hold, until the transaction ends, the right to record a job for these files.

    Two requests for the same files at the same moment would both find no job and both queue one: on
    PostgreSQL the second waits here for the first to commit, then finds its job. SQLite needs nothing:
    every transaction there begins IMMEDIATE (db.py), one writer at a time.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    name = f"ocop-print:{batch_id}:{layout}:{ecc}:{','.join(formats)}".encode()
    key = int.from_bytes(hashlib.sha256(name).digest()[:8], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


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
    reproduces them identically (the recorded hashes are checked). Requests for the same files at the same
    moment get one job. Nothing is committed here: the caller commits, then calls start_jobs(). layout None
    means the layout asked for with the batch; a layout whose labels cannot hold the code is refused here
    (LabelTooSmall), not after the job starts (without base_url, at the largest code any stamp URL makes).
    """
    services.require_printable(batch)
    stock = services.layout_for(batch, layout)
    ecc = services.check_ecc_choice(ecc)
    services.check_code_fits(stock, base_url, ecc)
    chosen = stock.name
    wanted = check_formats(formats)
    outputs_under(Path("."), batch.id, chosen, ecc, wanted)  # refuses two ZIP formats at once
    directory = Path(print_dir if print_dir is not None else current_app.config["PRINT_DIR"])
    _lock_files(session, batch.id, chosen, ecc, wanted)
    job = _latest_job(session, batch.id, chosen, ecc, wanted)
    if job is not None and job.status is JobStatus.DONE and not _files_present(job, directory):
        # Done, but a file went missing: reproduce it, byte for byte.
        job.status, job.done, job.error, job.interruptions = JobStatus.QUEUED, 0, None, 0
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
        job.id,
        job.batch_id,
        job.status.value,
        job.done,
        job.total,
        min(percent, 100),
        read_stored(job.error),
        job.files or {},
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


def print_queue(app: Flask | None = None) -> PrintQueue | None:
    """Return the app's print queue, or None when QUEUE_URL is not set (jobs run in the web process)."""
    queue: PrintQueue | None = (app or current_app).extensions.get(QUEUE_KEY)
    return queue


def start_jobs(app: Flask | None = None) -> Future[int]:
    """Have the queued jobs run; call it after committing request_print's job.

    With a queue, put them on it (a finished future: how many were added; without app, the jobs are read in
    the current request's or command's session); else start this process's runner thread (a future: how many
    jobs it ran).
    """
    queue = print_queue(app)
    if queue is None:
        return runner(app).kick()
    return queue.kick(get_session() if app is None and has_app_context() else None)


def perform(job_id: int) -> str:
    """Run one print job: the queue's task, run by `traceability worker` in its app context; say what happened."""
    ran = runner().run_job(job_id)
    return "ran" if ran else "nothing to do: already done, running or failed"


def init_app(app: Flask) -> None:
    """Give the app its print runner, and its queue if QUEUE_URL is set (after db.init_app); nothing starts yet."""
    sessions = app.extensions["db_sessionmaker"]
    app.extensions[EXTENSION_KEY] = PrintRunner.from_config(app.config, sessions)
    if app.config.get("QUEUE_URL"):
        app.extensions[QUEUE_KEY] = PrintQueue.from_config(app.config, sessions)
    else:
        app.extensions.pop(QUEUE_KEY, None)
