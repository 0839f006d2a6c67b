"""Running print jobs: claim one, run it through runs.print_batch, and recover those whose process died.

The PrintJob row is the job's one source of truth, whoever runs it (a `traceability worker` fed by the queue,
jobqueue.py, or the embedded default's thread in each web process). A job is claimed by an atomic status
change, so of several runners only one runs it; the claim's start time is its fencing token: progress, the
final record and a failure are written only while the job still carries it, so a runner that lost its job (it
was silent too long and the job was given to another) can no longer touch it. A running job writes its progress
as a heartbeat; one silent for PRINT_JOB_STALE_SECONDS belongs to a process that died and is queued again, up
to PRINT_JOB_ATTEMPTS runs, then failed. The PDF writer's forkserver pool is safe to start from any thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.orm import Session, sessionmaker

from traceability.db import utcnow
from traceability.errors import STORED_MAX, DomainError, NotFound, stored
from traceability.i18n import N_
from traceability.printing import runs
from traceability.printing.fontfiles import find_fonts
from traceability.printing.models import JobStatus, PrintJob
from traceability.printing.outputs import Progress, WrittenFile, outputs_under, remove_leftovers
from traceability.stamps.keystore import KeyStore, store_from_config

HEARTBEAT_SECONDS = 0.5  # the most often a running job writes its progress
logger = logging.getLogger(__name__)


class JobLost(Exception):
    """The job was taken from this runner (recovered after a silence, then claimed again): stop working on it."""


def job_or_404(session: Session, job_id: int) -> PrintJob:
    """Return the print job or raise NotFound."""
    job = session.get(PrintJob, job_id)
    if job is None:
        raise NotFound(N_("there is no print job %(job)s"), params={"job": job_id})
    return job


@dataclass(frozen=True)
class Claim:
    """A job this runner holds: its id and the start time that fences every later write."""

    job_id: int
    started_at: datetime

    def held(self) -> ColumnElement[bool]:
        """Return the condition under which the job is still this runner's."""
        return and_(
            PrintJob.id == self.job_id, PrintJob.status == JobStatus.RUNNING, PrintJob.started_at == self.started_at
        )


def _interrupted_note(count: int, attempts: int) -> str:
    """Return why the job was run again (or failed), kept as msgid and params for the reader's language."""
    if count < attempts:
        msgid = (
            N_("interrupted once: the process printing this stopped before it finished; it runs again")
            if count == 1
            else N_("interrupted %(count)s times: the process printing this stopped before it finished; it runs again")
        )
    else:
        msgid = (
            N_("interrupted once: the process printing this stopped before it finished; ask for the file again")
            if count == 1
            else N_(
                "interrupted %(count)s times: the process printing this stopped before it finished each time;"
                " ask for the file again"
            )
        )
    return stored(DomainError(msgid, params={"count": count}))


@dataclass(frozen=True)
class Recovered:
    """What one recovery did: jobs queued again, jobs given up after their last attempt."""

    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def recover_stale(session: Session, stale_after: timedelta, attempts: int) -> Recovered:
    """Queue again every running job whose process stopped writing its heartbeat, or fail it after its last attempt.

    Each change is guarded by the job's claim, so two recoveries at once change a job once; the caller commits.
    """
    cutoff = utcnow() - stale_after
    stale = session.execute(
        select(PrintJob.id, PrintJob.started_at, PrintJob.interruptions).where(
            PrintJob.status == JobStatus.RUNNING, PrintJob.heartbeat_at < cutoff
        )
    ).all()
    recovered = Recovered()
    for job_id, started_at, interrupted in stale:
        count = interrupted + 1
        again = count < attempts
        values: dict[str, Any] = {"error": _interrupted_note(count, attempts), "done": 0, "interruptions": count}
        if again:
            values.update(status=JobStatus.QUEUED, heartbeat_at=None)
        else:
            values.update(status=JobStatus.FAILED, finished_at=utcnow())
        guard = Claim(job_id, started_at).held() if started_at is not None else PrintJob.id == job_id
        result = session.execute(update(PrintJob).where(guard, PrintJob.heartbeat_at < cutoff).values(**values))
        if getattr(result, "rowcount", 0) == 1:
            (recovered.requeued if again else recovered.failed).append(job_id)
    return recovered


def claim(session: Session, job_id: int | None = None) -> Claim | None:
    """Move a queued job (this one, or else the oldest) to running and return the claim, or None if none waits.

    The claim is one UPDATE ... WHERE status = 'queued', so of several runners only one wins a job; the
    caller commits to make the claim stand (and must, before running the job in another session).
    """
    while True:
        query = select(PrintJob.id).where(PrintJob.status == JobStatus.QUEUED)
        if job_id is not None:
            query = query.where(PrintJob.id == job_id)
        found = session.scalar(query.order_by(PrintJob.id).limit(1))
        if found is None:
            return None
        now = utcnow()
        result = session.execute(
            update(PrintJob)
            .where(PrintJob.id == found, PrintJob.status == JobStatus.QUEUED)
            .values(status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, done=0)
        )
        if getattr(result, "rowcount", 0) == 1:
            return Claim(found, now)
        if job_id is not None:
            return None
        # Another runner claimed it first: look again. The same transaction will do: under PostgreSQL's
        # read committed each statement sees what was committed before it, and on SQLite, BEGIN IMMEDIATE
        # (db.py) lets no other writer in between, so a claim is never lost there.


def claim_next(session: Session) -> int | None:
    """Claim the oldest queued job and return its id, or None; the caller commits."""
    claimed = claim(session)
    return None if claimed is None else claimed.job_id


def _mark_done(claimed: Claim) -> runs.OnRecorded:
    """Return the hook that records a job done, with its files, in the transaction that marks stamps printed."""

    def mark(session: Session, files: list[WrittenFile]) -> None:
        now = utcnow()
        result = session.execute(
            update(PrintJob)
            .where(claimed.held())
            .values(
                status=JobStatus.DONE,
                finished_at=now,
                heartbeat_at=now,
                done=PrintJob.total,
                error=None,
                files={w.format: w.record() for w in files},
            )
        )
        if getattr(result, "rowcount", 0) != 1:
            raise JobLost(claimed.job_id)  # rolls the stamps back and discards the files: the new owner writes them

    return mark


@dataclass
class PrintRunner:
    """Runs print jobs, each with its own database sessions; the embedded default runs them on a thread of its own."""

    sessions: sessionmaker[Session]
    store: KeyStore
    base_url: str
    print_dir: Path
    workers: int
    stale_after: timedelta
    attempts: int = 3
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
            attempts=int(config["PRINT_JOB_ATTEMPTS"]),
            font=config.get("PRINT_FONT"),
        )

    def kick(self) -> Future[int]:
        """Make sure a pass over the queued jobs will start on this process's thread; return its future."""
        with self._lock:
            # A pass that has not started yet will see every job committed before it starts: one is enough.
            if self._waiting is None or self._waiting.running() or self._waiting.done():
                self._waiting = self._executor.submit(self.run_queued)
            return self._waiting

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking jobs; with wait, let the running one finish."""
        self._executor.shutdown(wait=wait, cancel_futures=True)

    def recover(self) -> Recovered:
        """Recover the jobs whose process died (queue them again, or fail them after their last attempt)."""
        with self.sessions.begin() as session:
            recovered = recover_stale(session, self.stale_after, self.attempts)
        if recovered.requeued:
            logger.warning("queued %d interrupted print job(s) again: %s", len(recovered.requeued), recovered.requeued)
        if recovered.failed:
            logger.warning(
                "failed %d print job(s) interrupted on every attempt: %s", len(recovered.failed), recovered.failed
            )
        return recovered

    def run_queued(self) -> int:
        """Recover stale jobs, then run queued jobs until none is left; return how many ran."""
        self.recover()
        ran = 0
        while (claimed := self._claim(None)) is not None:
            self.run(claimed)
            ran += 1
        return ran

    def run_job(self, job_id: int) -> bool:
        """Run this job if it is still waiting (not already run or running elsewhere); return whether it ran."""
        claimed = self._claim(job_id)
        if claimed is None:
            return False
        self.run(claimed)
        return True

    def _claim(self, job_id: int | None) -> Claim | None:
        with self.sessions.begin() as session:  # the claim stands before the job runs in other sessions
            return claim(session, job_id)

    def run(self, claimed: Claim) -> None:
        """Run one claimed job to done or failed; this session only reads the job and writes its progress."""
        with self.sessions() as session:
            try:
                self._print(session, claimed)
            except JobLost:
                session.rollback()
                logger.warning("print job %s was taken over by another runner; this run stopped", claimed.job_id)
            except Exception as error:
                session.rollback()
                if not isinstance(error, DomainError):
                    logger.exception("print job %s failed", claimed.job_id)
                self._fail(session, claimed, error)
            except BaseException:
                # Stopped from outside (a second SIGTERM, Ctrl-C): not the job's fault, so it waits for the next run.
                session.rollback()
                self._release(session, claimed)
                raise

    def _print(self, session: Session, claimed: Claim) -> None:
        job = job_or_404(session, claimed.job_id)
        batch_dir = self.print_dir / f"batch-{job.batch_id}"
        self.print_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        batch_dir.mkdir(mode=0o700, exist_ok=True)
        outputs = outputs_under(self.print_dir, job.batch_id, job.layout, job.ecc, job.format_list)
        expected = {fmt: record["sha256"] for fmt, record in (job.files or {}).items()}
        session.commit()  # end the read transaction before seconds of work (SQLite would block writers)
        # What a killed run left half-written: this claim is the job's only runner now (a former one that
        # is still alive loses the job at its next heartbeat and never installs a file).
        remove_leftovers(outputs)
        runs.print_batch(
            self.sessions.begin,
            self.store,
            job.batch_id,
            outputs,
            settings=runs.PrintSettings(self.base_url, self.workers, find_fonts(self.font)),
            actor=job.requested_by or "print-job",
            layout=job.layout,
            ecc=job.ecc,
            progress=self._heartbeat(session, claimed),
            expected=expected,
            on_recorded=_mark_done(claimed),
        )

    @staticmethod
    def _heartbeat(session: Session, claimed: Claim) -> Progress:
        """Return a progress callback writing the job's progress and heartbeat, at most every HEARTBEAT_SECONDS."""
        last = time.monotonic()

        def progress(done: int, total: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= HEARTBEAT_SECONDS or done == total:
                last = now
                result = session.execute(
                    update(PrintJob).where(claimed.held()).values(done=done, total=total, heartbeat_at=utcnow())
                )
                session.commit()
                if getattr(result, "rowcount", 0) != 1:
                    raise JobLost(claimed.job_id)

        return progress

    def _fail(self, session: Session, claimed: Claim, error: Exception) -> None:
        # A domain error is kept as msgid and params, so the page says it in the reader's language.
        message = stored(error) if isinstance(error, DomainError) else f"printing failed: {error or type(error)}"
        session.execute(
            update(PrintJob)
            .where(claimed.held())
            .values(status=JobStatus.FAILED, error=message[:STORED_MAX], finished_at=utcnow(), heartbeat_at=utcnow())
        )
        session.commit()

    def _release(self, session: Session, claimed: Claim) -> None:
        session.execute(
            update(PrintJob).where(claimed.held()).values(status=JobStatus.QUEUED, done=0, heartbeat_at=None)
        )
        session.commit()
