"""The print-job runner: one thread a process claims queued jobs and runs each through runs.print_batch.

A job is claimed by an atomic status change, so of several processes' runners only one runs it; a running
job writes its progress as a heartbeat, and one whose heartbeat stopped (its process died) is marked failed
by the next runner pass. The PDF writer's forkserver pool is safe to start from this thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from traceability.db import utcnow
from traceability.errors import DomainError, NotFound
from traceability.i18n import N_
from traceability.printing import runs
from traceability.printing.fontfiles import find_fonts
from traceability.printing.models import JobStatus, PrintJob
from traceability.printing.outputs import Progress, WrittenFile, outputs_under
from traceability.stamps.keystore import KeyStore, store_from_config

HEARTBEAT_SECONDS = 0.5  # the most often a running job writes its progress
logger = logging.getLogger(__name__)


def job_or_404(session: Session, job_id: int) -> PrintJob:
    """Return the print job or raise NotFound."""
    job = session.get(PrintJob, job_id)
    if job is None:
        raise NotFound(N_("there is no print job %(job)s"), params={"job": job_id})
    return job


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


def _mark_done(job_id: int) -> runs.OnRecorded:
    """Return the hook that records a job done, with its files, in the transaction that marks stamps printed."""

    def mark(session: Session, files: list[WrittenFile]) -> None:
        job = job_or_404(session, job_id)
        job.status, job.finished_at, job.heartbeat_at = JobStatus.DONE, utcnow(), utcnow()
        job.done, job.error = job.total, None
        job.files = {w.format: w.record() for w in files}

    return mark


@dataclass
class PrintRunner:
    """Runs print jobs one at a time on a thread of its own, each job with its own database sessions."""

    sessions: sessionmaker[Session]
    store: KeyStore
    base_url: str
    print_dir: Path
    workers: int
    stale_after: timedelta
    font: str | None = None  # PRINT_FONT; None finds DejaVu Sans through fontconfig

    def __post_init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="print-jobs")
        self._lock = threading.Lock()
        self._waiting: Future[int] | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any], sessions: sessionmaker[Session]) -> PrintRunner:
        """Build a runner from the app's configuration and session factory."""
        return cls(
            sessions=sessions,
            store=store_from_config(config),
            base_url=config["PUBLIC_BASE_URL"],
            print_dir=Path(config["PRINT_DIR"]),
            workers=int(config["PRINT_WORKERS"]),
            stale_after=timedelta(seconds=int(config["PRINT_JOB_STALE_SECONDS"])),
            font=config.get("PRINT_FONT"),
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
        """Run one claimed job to done or failed; this session only reads the job and writes its progress."""
        with self.sessions() as session:
            try:
                self._print(session, job_id)
            except BaseException as error:
                session.rollback()
                if not isinstance(error, DomainError):
                    logger.exception("print job %s failed", job_id)
                self._fail(session, job_id, error)
                if not isinstance(error, Exception):
                    raise

    def _print(self, session: Session, job_id: int) -> None:
        job = job_or_404(session, job_id)
        batch_dir = self.print_dir / f"batch-{job.batch_id}"
        self.print_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        batch_dir.mkdir(mode=0o700, exist_ok=True)
        outputs = outputs_under(self.print_dir, job.batch_id, job.layout, job.ecc, job.format_list)
        expected = {fmt: record["sha256"] for fmt, record in (job.files or {}).items()}
        session.commit()  # end the read transaction before seconds of work (SQLite would block writers)
        runs.print_batch(
            self.sessions.begin,
            self.store,
            job.batch_id,
            outputs,
            settings=runs.PrintSettings(self.base_url, self.workers, find_fonts(self.font)),
            actor=job.requested_by or "print-job",
            layout=job.layout,
            ecc=job.ecc,
            progress=self._heartbeat(session, job_id),
            expected=expected,
            on_recorded=_mark_done(job_id),
        )

    @staticmethod
    def _heartbeat(session: Session, job_id: int) -> Progress:
        """Return a progress callback writing the job's progress and heartbeat, at most every HEARTBEAT_SECONDS."""
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

        return progress

    def _fail(self, session: Session, job_id: int, error: BaseException) -> None:
        message = error.message if isinstance(error, DomainError) else f"printing failed: {error or type(error)}"
        session.execute(
            update(PrintJob)
            .where(PrintJob.id == job_id)
            .values(status=JobStatus.FAILED, error=message[:2000], finished_at=utcnow(), heartbeat_at=utcnow())
        )
        session.commit()
