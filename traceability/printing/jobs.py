"""Print jobs for the web: request a batch's files, run them off the request thread, report progress.

A request records a queued job (or reuses the done one: the files are produced once and kept under
PRINT_DIR); after the view commits it calls start_jobs(), and the app's single runner thread claims queued
jobs one at a time with its own session. The PDF writer's forkserver pool is safe to start from a thread.

Several web processes may each have a runner: a job is claimed by an atomic status change, so each runs
once, and a running job whose heartbeat stopped (its process died) is marked failed by the next runner.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from traceability.audit import services as audit
from traceability.db import utcnow
from traceability.errors import Conflict, DomainError, NotFound, Term
from traceability.i18n import N_
from traceability.printing import services
from traceability.printing.models import JobStatus, PrintJob
from traceability.stamps import batches
from traceability.stamps.keystore import KeyStore, store_from_config
from traceability.stamps.models import Batch

EXTENSION_KEY = "print_runner"
# Job states as JobNotFinished names them, translated when shown (errors.Term).
JOB_STATES = (N_("queued"), N_("running"), N_("failed"))
HEARTBEAT_SECONDS = 0.5  # the most often a running job writes its progress
logger = logging.getLogger(__name__)


class JobNotFinished(Conflict):
    code = "print_job_not_finished"


def job_or_404(session: Session, job_id: int) -> PrintJob:
    """Return the print job or raise NotFound."""
    job = session.get(PrintJob, job_id)
    if job is None:
        raise NotFound(N_("there is no print job %(job)s"), params={"job": job_id})
    return job


def batch_job_or_404(session: Session, batch: Batch, job_id: int) -> PrintJob:
    """Return a job of this batch, or raise NotFound (never another batch's job)."""
    job = job_or_404(session, job_id)
    if job.batch_id != batch.id:
        raise NotFound(_("There is no print job %(id)s.", id=job_id))
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
        path = print_dir / services.file_name(job.batch_id, job.layout, job.ecc, fmt)
        if not path.is_file() or path.stat().st_size != record["bytes"]:
            return False
    return True


def request_print(
    session: Session,
    batch: Batch,
    layout: str | None,
    actor: str,
    *,
    ecc: str = "M",
    formats: Iterable[str] = ("pdf",),
    print_dir: str | Path | None = None,
) -> PrintJob:
    """Return the job that produces (or produced) these files for the batch; queue one if needed.

    A done job whose files are still there is returned as it is; if they went missing it is queued again and
    reproduces them identically (the recorded hashes are checked). Nothing is committed here: the caller
    commits, then calls start_jobs(). layout None means the layout asked for with the batch.
    """
    services.require_printable(batch)
    chosen = services.layout_for(batch, layout).name
    ecc = services.check_ecc(ecc)
    wanted = services.check_formats(formats)
    services.outputs_under(Path("."), batch.id, chosen, ecc, wanted)  # refuses two ZIP formats at once
    directory = Path(print_dir if print_dir is not None else current_app.config["PRINT_DIR"])
    job = session.scalar(
        select(PrintJob)
        .where(
            PrintJob.batch_id == batch.id,
            PrintJob.layout == chosen,
            PrintJob.ecc == ecc,
            PrintJob.formats == ",".join(wanted),
            PrintJob.status != JobStatus.FAILED,
        )
        .order_by(PrintJob.id.desc())
        .limit(1)
    )
    if job is not None and (job.status is not JobStatus.DONE or _files_present(job, directory)):
        return job
    if job is not None:  # done, but a file went missing: reproduce it, byte for byte
        job.status, job.done, job.error = JobStatus.QUEUED, 0, None
        job.started_at = job.finished_at = job.heartbeat_at = None
        session.flush()
        return job
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
    path = directory / services.file_name(job.batch_id, job.layout, job.ecc, fmt)
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


def recover_stale(session: Session, stale_after: timedelta) -> int:
    """Mark failed every running job whose process stopped writing its heartbeat; return how many."""
    cutoff = utcnow() - stale_after
    result = session.execute(
        update(PrintJob)
        .where(PrintJob.status == JobStatus.RUNNING, PrintJob.heartbeat_at < cutoff)
        .values(
            status=JobStatus.FAILED,
            finished_at=utcnow(),
            error="interrupted: the process printing this stopped before it finished; ask for the file again",
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def claim_next(session: Session) -> int | None:
    """Move the oldest queued job to running and return its id, or None if no job is waiting.

    The claim is one UPDATE ... WHERE status = 'queued', so of several runners only one wins a job; the
    caller commits to make the claim stand (and must, before running the job in another session).
    """
    while True:
        job_id = session.scalar(
            select(PrintJob.id).where(PrintJob.status == JobStatus.QUEUED).order_by(PrintJob.id).limit(1)
        )
        if job_id is None:
            return None
        now = utcnow()
        result = session.execute(
            update(PrintJob)
            .where(PrintJob.id == job_id, PrintJob.status == JobStatus.QUEUED)
            .values(status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, done=0, error=None)
        )
        if getattr(result, "rowcount", 0) == 1:
            return job_id
        # Another runner claimed it first: look again. The same transaction will do: under PostgreSQL's
        # read committed each statement sees what was committed before it, and on SQLite, BEGIN IMMEDIATE
        # (db.py) lets no other writer in between, so a claim is never lost there.


@dataclass
class PrintRunner:
    """Runs print jobs one at a time on a thread of its own, each job with its own database session."""

    sessions: sessionmaker[Session]
    store: KeyStore
    base_url: str
    print_dir: Path
    workers: int
    stale_after: timedelta

    def __post_init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="print-jobs")
        self._lock = threading.Lock()
        self._waiting: Future[int] | None = None

    @classmethod
    def from_app(cls, app: Flask) -> PrintRunner:
        """Build the runner of an app from its configuration."""
        return cls(
            sessions=app.extensions["db_sessionmaker"],
            store=store_from_config(app.config),
            base_url=app.config["PUBLIC_BASE_URL"],
            print_dir=Path(app.config["PRINT_DIR"]),
            workers=int(app.config["PRINT_WORKERS"]),
            stale_after=timedelta(seconds=int(app.config["PRINT_JOB_STALE_SECONDS"])),
        )

    def kick(self) -> Future[int]:
        """Make sure a pass over the queued jobs will start; return its future (the number of jobs run)."""
        with self._lock:
            # A pass that has not started yet will see every job committed before it starts: one is enough.
            if self._waiting is None or self._waiting.running() or self._waiting.done():
                self._waiting = self._executor.submit(self.run_queued)
            return self._waiting

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking jobs; with wait, let the running one finish."""
        self._executor.shutdown(wait=wait, cancel_futures=True)

    def run_queued(self) -> int:
        """Recover stale jobs, then run queued jobs until none is left; return how many ran."""
        ran = 0
        with self.sessions() as session:
            if recovered := recover_stale(session, self.stale_after):
                logger.warning("marked %d interrupted print job(s) as failed", recovered)
            session.commit()
            while True:
                job_id = claim_next(session)
                session.commit()  # the claim stands (or the empty look ends) before the job runs elsewhere
                if job_id is None:
                    return ran
                self.run(job_id)
                ran += 1

    def run(self, job_id: int) -> None:
        """Run one claimed job to done or failed, in a session of its own."""
        with self.sessions() as session:
            pending: services.PendingFiles | None = None
            try:
                pending = self._produce(session, job_id)
                job = job_or_404(session, job_id)
                batch = batches.batch_or_404(session, job.batch_id)
                services.record_printed(
                    session,
                    batch,
                    actor=job.requested_by or "print-job",
                    layout=pending.layout,
                    ecc=job.ecc,
                    hashes=pending.hashes(),
                )
                job.status, job.finished_at, job.heartbeat_at = JobStatus.DONE, utcnow(), utcnow()
                job.done, job.error = job.total, None
                job.files = {w.format: w.record() for w in pending.files}
                # Files first, then the commit: if the commit fails, the files are identical to what a
                # retry writes, so nothing wrong is ever served.
                pending.install()
                session.commit()
            except BaseException as error:
                session.rollback()
                if pending is not None:
                    pending.discard()
                if not isinstance(error, DomainError):
                    logger.exception("print job %s failed", job_id)
                self._fail(session, job_id, error)
                if not isinstance(error, Exception):
                    raise

    def _produce(self, session: Session, job_id: int) -> services.PendingFiles:
        job = job_or_404(session, job_id)
        batch = batches.batch_or_404(session, job.batch_id)
        layout = services.check_layout(job.layout)
        source = services.open_source(session, self.store, batch, self.base_url)
        self.print_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        (self.print_dir / f"batch-{batch.id}").mkdir(mode=0o700, exist_ok=True)
        outputs = services.outputs_under(self.print_dir, batch.id, job.layout, job.ecc, job.format_list)
        expected = {fmt: record["sha256"] for fmt, record in (job.files or {}).items()}
        session.commit()  # end the read transaction before seconds of work (SQLite would block writers)
        last = time.monotonic()

        def progress(done: int, total: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= HEARTBEAT_SECONDS or done == total:
                last = now
                session.execute(
                    update(PrintJob).where(PrintJob.id == job_id).values(done=done, total=total, heartbeat_at=utcnow())
                )
                session.commit()

        pending = services.write_files(
            source, outputs, layout=layout, ecc=job.ecc, workers=self.workers, progress=progress
        )
        changed = sorted(fmt for fmt, sha in pending.hashes().items() if expected.get(fmt, sha) != sha)
        if changed:
            pending.discard()
            raise services.PrintFileChanged(
                f"reproducing batch {batch.id} gave a different {', '.join(changed)} file than the first time; "
                "the kept file was not replaced (report this)"
            )
        return pending

    def _fail(self, session: Session, job_id: int, error: BaseException) -> None:
        message = error.message if isinstance(error, DomainError) else f"printing failed: {error or type(error)}"
        session.execute(
            update(PrintJob)
            .where(PrintJob.id == job_id)
            .values(status=JobStatus.FAILED, error=message[:2000], finished_at=utcnow(), heartbeat_at=utcnow())
        )
        session.commit()


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
    app.extensions[EXTENSION_KEY] = PrintRunner.from_app(app)
