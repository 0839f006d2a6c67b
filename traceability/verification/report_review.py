"""Shoppers' reports as the office sees them: the paged list, the photos, and marking each one handled.

Functions take the session first and never commit. Handling is recorded only in the audit log
(report.handle on report:<id>), which is also where the list reads who handled a report and why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from traceability.audit import services as audit
from traceability.audit.models import AuditEntry
from traceability.errors import Conflict, NotFound, Term, ValidationError
from traceability.i18n import N_
from traceability.stamps.batches import serial_of
from traceability.verification.analytics import batches_by_id
from traceability.verification.models import Report, ReportStatus

REPORTS_PER_PAGE = 20
HANDLED = (ReportStatus.REVIEWED, ReportStatus.DISMISSED)
NOTE_MAX = 2000


class ReportNotFound(NotFound):
    """No such report, or one without the photo asked for."""


class ReportAlreadyHandled(Conflict):
    """The report already has the status asked for."""


@dataclass(frozen=True)
class ReportRow:
    report: Report
    serial: str | None
    handling: list[AuditEntry] = field(default_factory=list)  # newest first: who marked it, when, the note


@dataclass(frozen=True)
class ReportPage:
    rows: list[ReportRow]
    page: int
    pages: int
    total: int
    status: ReportStatus | None


def report_status(text: str | None) -> ReportStatus | None:
    """Return the status a list is filtered by, or None for every report."""
    if not text:
        return None
    try:
        return ReportStatus(text)
    except ValueError as error:
        raise ValidationError(
            N_("unknown report status '%(status)s'"), field="status", params={"status": text}
        ) from error


def reports_page(
    session: Session, page: int = 1, *, status: ReportStatus | None = None, per_page: int = REPORTS_PER_PAGE
) -> ReportPage:
    """Return one page of shoppers' reports, newest first, with serials and how each was handled."""
    where = [Report.status == status] if status is not None else []
    total = session.scalar(select(func.count(Report.id)).where(*where)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    reports = session.scalars(
        select(Report)
        .where(*where)
        .order_by(Report.created_at.desc(), Report.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    found = batches_by_id(session, [r.batch_id for r in reports])
    notes: dict[str, list[AuditEntry]] = {}
    if reports:
        for entry in session.scalars(
            select(AuditEntry)
            .where(AuditEntry.target.in_([_target(r) for r in reports]), AuditEntry.action == "report.handle")
            .order_by(AuditEntry.id.desc())
        ):
            notes.setdefault(entry.target, []).append(entry)
    rows = []
    for report in reports:
        batch = found.get(report.batch_id) if report.batch_id is not None else None
        serial = serial_of(batch, report.sequence) if batch is not None and report.sequence is not None else None
        rows.append(ReportRow(report, serial, notes.get(_target(report), [])))
    return ReportPage(rows, page, pages, total, status)


def _target(report: Report) -> str:
    return f"report:{report.id}"


def report_or_404(session: Session, report_id: int) -> Report:
    """Return the report or raise ReportNotFound."""
    report = session.get(Report, report_id)
    if report is None:
        raise ReportNotFound(N_("there is no report %(report)s"), params={"report": report_id})
    return report


def report_photo(session: Session, report_id: int) -> tuple[bytes, str]:
    """Return a report's photo and its media type, or raise ReportNotFound."""
    report = report_or_404(session, report_id)
    if report.photo is None:
        raise ReportNotFound(N_("report %(report)s has no photo"), params={"report": report_id})
    return report.photo, report.photo_type or "image/jpeg"


def _report_snapshot(report: Report) -> dict[str, Any]:
    return {"status": report.status.value, "verdict": report.verdict.value, "batch": report.batch_id}


def handle_report(session: Session, report: Report, status: str, note: str, *, actor: str) -> Report:
    """Mark a report reviewed (acted upon) or dismissed, with the inspector's note, in the audit log."""
    new_status = next((handled for handled in HANDLED if handled.value == status), None)
    if new_status is None:
        raise ValidationError(N_("choose reviewed or dismissed"), field="status")
    cleaned = note.strip()
    if not cleaned:
        raise ValidationError(N_("say what was done about the report"), field="note")
    if len(cleaned) > NOTE_MAX:
        raise ValidationError(
            N_("the note is longer than %(limit)s characters"), field="note", params={"limit": f"{NOTE_MAX:,}"}
        )
    if report.status is new_status:
        raise ReportAlreadyHandled(
            N_("report %(report)s is already %(status)s"),
            params={"report": report.id, "status": Term(new_status.value)},
        )
    before = _report_snapshot(report)
    report.status = new_status
    session.flush()
    audit.record(
        session,
        actor,
        "report.handle",
        _target(report),
        before=before,
        after={**_report_snapshot(report), "note": cleaned},
    )
    return report
