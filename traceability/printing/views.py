"""Print job views for the portal: start a job, poll its progress, download its file.

Not registered, and deliberately without access control: each function takes a batch the caller has already
authorised (a producer's own batch, or any batch for the office). make_blueprint() wires the three routes
around an authorise(batch_id) -> Batch callback, so the routes cannot exist without one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Blueprint, jsonify, request, send_file
from flask.typing import ResponseReturnValue

from traceability.db import get_session
from traceability.errors import NotFound
from traceability.printing import jobs
from traceability.printing.models import PrintJob
from traceability.stamps.models import Batch

MEDIA_TYPES = {"pdf": "application/pdf", "csv": "text/csv", "zip-svg": "application/zip", "zip-png": "application/zip"}


def start_view(
    batch: Batch, *, layout: str | None, actor: str, ecc: str = "M", formats: Iterable[str] = ("pdf",)
) -> ResponseReturnValue:
    """Queue (or reuse) the batch's print job, start the runner, and answer with its progress (202 or 200)."""
    session = get_session()
    job = jobs.request_print(session, batch, layout, actor, ecc=ecc, formats=formats)
    session.commit()
    jobs.start_jobs()
    return jsonify(jobs.progress_of(job).to_dict()), 200 if job.status.value == "done" else 202


def job_for(batch: Batch, job_id: int) -> PrintJob:
    """Return a job of this batch, or raise NotFound (never another batch's job)."""
    job = jobs.job_or_404(get_session(), job_id)
    if job.batch_id != batch.id:
        raise NotFound(f"there is no print job {job_id}")
    return job


def progress_view(batch: Batch, job_id: int) -> ResponseReturnValue:
    """Return the job's progress as JSON (the progress page polls this)."""
    job = job_for(batch, job_id)
    if job.status.value == "queued":
        jobs.start_jobs()  # cheap, and it revives a job whose process died before its runner started
    return jsonify(jobs.progress_of(job).to_dict())


def download_view(batch: Batch, job_id: int, fmt: str = "pdf") -> ResponseReturnValue:
    """Send a done job's file, with its sha256 as the ETag."""
    job = job_for(batch, job_id)
    path = jobs.finished_file(job, fmt)
    return send_file(
        path,
        mimetype=MEDIA_TYPES.get(fmt, "application/octet-stream"),
        as_attachment=True,
        download_name=path.name,
        etag=(job.files or {}).get(fmt, {}).get("sha256", True),
        conditional=True,
    )


def make_blueprint(authorise: Callable[[int], Batch], actor: Callable[[], str], name: str = "printing") -> Blueprint:
    """Return the routes under /batches/<id>/print..., each calling authorise(batch_id) first.

    actor() names the signed-in user for the job and the audit log.
    """
    bp = Blueprint(name, __name__)

    @bp.post("/batches/<int:batch_id>/print")
    def start(batch_id: int) -> ResponseReturnValue:
        batch = authorise(batch_id)
        return start_view(
            batch,
            layout=request.form.get("layout") or None,
            actor=actor(),
            ecc=request.form.get("ecc", "M"),
            formats=request.form.getlist("format") or ("pdf",),
        )

    @bp.get("/batches/<int:batch_id>/print/<int:job_id>")
    def progress(batch_id: int, job_id: int) -> ResponseReturnValue:
        return progress_view(authorise(batch_id), job_id)

    @bp.get("/batches/<int:batch_id>/print/<int:job_id>/<fmt>")
    def download(batch_id: int, job_id: int, fmt: str) -> ResponseReturnValue:
        return download_view(authorise(batch_id), job_id, fmt)

    return bp
