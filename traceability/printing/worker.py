"""`traceability worker`'s engine: an RQ worker that runs print jobs off the web processes (its task: jobs.perform).

It runs the jobs in its own process (RQ's SimpleWorker: no fork per job): the CPU-heavy part already runs in
the PDF writer's process pool, and a forked copy of a process holding database connections and a started
pool is what SimpleWorker avoids. On its first loop and every half PRINT_JOB_STALE_SECONDS it sweeps: jobs
whose process died are queued again (jobrunner.recover_stale) and every queued row is put on the queue, so a
job runs whether or not anyone opens its page, and after a kill -9 as after a restart.
"""

from __future__ import annotations

from typing import Any

from rq import SimpleWorker

from traceability.printing.jobqueue import PrintQueue
from traceability.printing.jobrunner import PrintRunner

MAX_SWEEP_SECONDS = 600  # RQ's own maintenance interval: the longest between two sweeps
DEQUEUE_MARGIN_SECONDS = 15  # RQ waits on the queue for its worker TTL less this


class PrintWorker(SimpleWorker):
    """An RQ worker for the print queue that also sweeps the print-job table."""

    def __init__(self, queue: PrintQueue, runner: PrintRunner, **kwargs: Any) -> None:
        sweep = max(1, min(MAX_SWEEP_SECONDS, int(runner.stale_after.total_seconds()) // 2))
        super().__init__(
            [queue.queue],
            connection=queue.connection,
            maintenance_interval=sweep,
            worker_ttl=sweep + DEQUEUE_MARGIN_SECONDS,  # so that an idle worker wakes up to sweep
            **kwargs,
        )
        self.print_queue = queue
        self.runner = runner

    def run_maintenance_tasks(self) -> None:
        """Run RQ's maintenance, then queue again the jobs of dead processes and enqueue every queued row."""
        super().run_maintenance_tasks()  # type: ignore[no-untyped-call]  # RQ leaves this one unannotated
        self.sweep()

    def sweep(self) -> int:
        """Recover stale jobs and put every queued job on the queue; return how many were added."""
        self.runner.recover()
        added = self.print_queue.enqueue_queued()
        if added:
            self.log.info("Worker %s: put %d waiting print job(s) on the queue", self.name, added)
        return added
