"""Print job pages, shared by the producer's portal and the programme office: ask, watch, download.

PrintPages wires three routes around an authorise(batch_id) -> Batch callback that checks the role and the
batch's owner, so the routes cannot exist without one. Each side mounts the blueprint under its own
role-guarded blueprint (the parent's before_request runs first) and shows panel() on its batch page.
The pages work without JavaScript: the progress page reloads itself while the job is queued or running.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue

from traceability.accounts.guards import RoleNotAllowed, actor
from traceability.db import get_session
from traceability.errors import DomainError
from traceability.forms import show_error
from traceability.i18n import N_
from traceability.printing import jobs
from traceability.printing.forms import CODES, FILE_KINDS, PrintForm, print_form, searching, stock_name
from traceability.printing.models import JobStatus, PrintJob
from traceability.stamps.models import Batch

MEDIA_TYPES = {"pdf": "application/pdf", "csv": "text/csv", "zip-svg": "application/zip", "zip-png": "application/zip"}
REFRESH_SECONDS = 2  # how often the progress page reloads itself while the job is not finished


@dataclass(frozen=True)
class ReadyFile:
    """A finished file as the progress page lists it."""

    format: str
    name: str
    sha256: str
    size: int

    @property
    def size_text(self) -> str:
        """Return the size for people: kB under a megabyte, else MB with one decimal."""
        return f"{self.size / 1_000_000:.1f} MB" if self.size >= 1_000_000 else f"{max(1, round(self.size / 1000))} kB"


def download_name(kept_name: str) -> str:
    """Return the name a kept file downloads under (and the page shows)."""
    return f"ocop-{kept_name}"


def ready_files(job: PrintJob) -> list[ReadyFile]:
    """Return the files of a done job, in the order they were written."""
    if job.status is not JobStatus.DONE:
        return []
    records = job.files or {}
    return [
        ReadyFile(fmt, download_name(records[fmt]["name"]), str(records[fmt]["sha256"]), int(records[fmt]["bytes"]))
        for fmt in job.format_list
        if fmt in records
    ]


@dataclass(frozen=True)
class PrintPages:
    """The print pages of one side of the site (the producer's portal or the office)."""

    authorise: Callable[[int], Batch]  # role and owner checks; raises Forbidden or NotFound
    back: str  # endpoint (taking batch_id) of the page showing panel(): where the job pages lead back to
    layouts: Callable[[], Sequence[tuple[str, str]]]  # (name, English label) of the layouts offered
    name: str = "printing"
    # Whether this side's users may take a scratch-off batch's hidden codes (a file of its own, never the PDF).
    codes: bool = False

    def blueprint(self) -> Blueprint:
        """Return the start, progress and download routes, to register under the side's own blueprint."""
        bp = Blueprint(self.name, __name__)
        bp.add_url_rule("/batches/<int:batch_id>/print", "start", self.start, methods=["POST"])
        bp.add_url_rule("/batches/<int:batch_id>/print/<int:job_id>", "progress", self.progress)
        bp.add_url_rule("/batches/<int:batch_id>/print/<int:job_id>/<fmt>", "download", self.download)
        return bp

    def form(self, batch: Batch) -> PrintForm:
        """Return the request form for the batch, with translated layout names."""
        return print_form(batch, self.layouts(), codes=self.codes)

    def panel(self, batch: Batch, form: PrintForm | None = None, *, mounted: bool = False) -> dict[str, Any]:
        """Return the context of printing/_panel.html (mounted: called from one of this blueprint's own routes)."""
        here = request.blueprint or ""
        return {
            "print_form": form or self.form(batch),
            "print_jobs": jobs.jobs_of(get_session(), batch.id),
            "printing": here if mounted else f"{here}.{self.name}",
            "file_kinds": FILE_KINDS,
            "back": self.back,
        }

    def start(self, batch_id: int) -> ResponseReturnValue:
        """Queue the file (or reuse the job that made it) and send the browser to its progress page."""
        batch = self.authorise(batch_id)
        form = self.form(batch)
        if searching(form):  # "Find": the products matching the search, nothing queued
            return render_template("printing/start.html", batch=batch, **self.panel(batch, form, mounted=True))
        if form.validate_on_submit():
            session = get_session()
            try:
                layout = stock_name(form)
                job = jobs.request_print(session, batch, layout, actor(), formats=(form.format.data,))
                session.commit()
            except DomainError as error:
                session.rollback()
                show_error(form, error, {"formats": "format", "label_template": "template"})
            else:
                jobs.start_jobs()
                return redirect(url_for(".progress", batch_id=batch.id, job_id=job.id), 303)
        context = self.panel(batch, form, mounted=True)
        return render_template("printing/start.html", batch=batch, **context), 422

    def progress(self, batch_id: int, job_id: int) -> ResponseReturnValue:
        """Show the job: progress while it runs, the error and a retry if it failed, the files when done."""
        batch = self.authorise(batch_id)
        job = jobs.batch_job_or_404(get_session(), batch, job_id)
        if job.status is JobStatus.QUEUED:
            jobs.start_jobs()  # cheap, and it revives a job whose process died before its runner started
        running = job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
        body = render_template(
            "printing/job.html",
            batch=batch,
            job=job,
            progress=jobs.progress_of(job),
            files=ready_files(job),
            file_kinds=FILE_KINDS,
            retry=job.status is JobStatus.FAILED and job.formats in FILE_KINDS,
            refresh=REFRESH_SECONDS if running else None,
            back=self.back,
        )
        return body, 200, {"Cache-Control": "no-store"}

    def download(self, batch_id: int, job_id: int, fmt: str) -> ResponseReturnValue:
        """Send a done job's file as an attachment, its sha256 as the ETag; each download is audited."""
        batch = self.authorise(batch_id)
        if fmt == CODES and not self.codes:
            raise RoleNotAllowed(N_("You may not take this batch's hidden scratch-off codes."))
        session = get_session()
        kept = jobs.download_kept_file(session, batch, job_id, fmt, actor())
        session.commit()
        response = send_file(
            kept.path,
            mimetype=MEDIA_TYPES.get(fmt, "application/octet-stream"),
            as_attachment=True,
            download_name=download_name(kept.path.name),
            etag=kept.sha256 or True,
            conditional=True,
        )
        response.cache_control.private = True  # whoever holds the file can print genuine stamps
        return response
