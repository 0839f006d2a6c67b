"""The print-job queue: with QUEUE_URL set, web processes only put jobs on an RQ queue in Redis and
`traceability worker` (worker.py) runs them.

The queue only carries job ids: the PrintJob row stays the source of truth for status, progress and the
one-job-per-files rule, and a job runs only if its row can still be claimed (jobrunner.claim). So a job put
on the queue twice runs once, and a queued row that never reached the queue (Redis was down, the web
process died between its commit and the enqueue) is put there by the worker's next sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.job import JobStatus as QueueStatus
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from traceability.printing.models import JobStatus, PrintJob

QUEUE_NAME = "ocop-print"
TASK = "traceability.printing.jobs.perform"  # imported by name, in the worker process only
# Far longer than any batch takes (100,000 stamps in under a minute): a job still running after this is stuck.
JOB_TIMEOUT_SECONDS = 3600
RESULT_TTL_SECONDS = 24 * 3600  # the worker's answers ("ran", "nothing to do") are kept this long, for operators
logger = logging.getLogger(__name__)


def queue_job_id(job_id: int) -> str:
    """Return the queue's id for a print job: one id per job, so a second enqueue of a waiting job is skipped."""
    return f"print-job-{job_id}"


@dataclass
class PrintQueue:
    """Puts print jobs on the Redis queue the workers read; never runs one."""

    sessions: sessionmaker[Session]
    queue: Queue

    @classmethod
    def from_config(cls, config: Mapping[str, Any], sessions: sessionmaker[Session]) -> PrintQueue:
        """Build the queue of the app's QUEUE_URL (no connection is made until the first job)."""
        return cls(sessions, Queue(QUEUE_NAME, connection=Redis.from_url(config["QUEUE_URL"])))

    @property
    def connection(self) -> Redis:
        """Return the Redis connection the queue uses."""
        return self.queue.connection

    def waiting(self, job_id: int) -> bool:
        """Say whether the print job is already on the queue, not yet taken by a worker."""
        try:
            found = Job.fetch(queue_job_id(job_id), connection=self.connection)
        except NoSuchJobError:
            return False
        return found.get_status(refresh=False) == QueueStatus.QUEUED

    def enqueue(self, job_id: int) -> bool:
        """Put the print job on the queue unless it is there already; return whether it was added."""
        if self.waiting(job_id):
            return False
        self.queue.enqueue(
            TASK,
            job_id,
            job_id=queue_job_id(job_id),
            job_timeout=JOB_TIMEOUT_SECONDS,
            result_ttl=RESULT_TTL_SECONDS,
            description=f"print job {job_id}",
        )
        return True

    def enqueue_queued(self, session: Session | None = None) -> int:
        """Put every queued print job on the queue (those already there are skipped); return how many were added.

        session: the caller's, to read the jobs in (a request's: on SQLite a second session would wait for the
        write lock its transaction holds); None reads them in a session of its own.
        """
        query = select(PrintJob.id).where(PrintJob.status == JobStatus.QUEUED).order_by(PrintJob.id)
        if session is not None:
            waiting = list(session.scalars(query))
        else:
            with self.sessions() as own:
                waiting = list(own.scalars(query))
        return sum(self.enqueue(job_id) for job_id in waiting)

    def kick(self, session: Session | None = None) -> Future[int]:
        """Put the queued jobs on the queue now; return a finished future (how many were added).

        A Redis failure is logged, not raised: the job is committed and the worker's sweep enqueues it later.
        """
        done: Future[int] = Future()
        try:
            done.set_result(self.enqueue_queued(session))
        except RedisError:
            logger.exception("the print queue at QUEUE_URL cannot be reached; the worker will pick the job up later")
            done.set_result(0)
        return done
