"""The inspectors' side of verification: shoppers' reports, scan analytics, revocation and the offline kit.

Administrators and inspectors only, like every office page. Whole batches are revoked through the office's
existing action (office.revoke); this blueprint adds a confirmation page for it and revocation of a
range of stamps, which had no office page before.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, TextAreaField
from wtforms.validators import InputRequired, Length

from traceability import clock
from traceability.accounts.guards import actor, require_office
from traceability.db import get_session, transaction, utcnow
from traceability.errors import DomainError
from traceability.forms import Form, ReasonForm, show_error
from traceability.i18n import N_
from traceability.stamps import batches
from traceability.stamps.forms import ReasonedRangeForm
from traceability.stamps.keystore import store_from_config
from traceability.verification import analytics as scan_analytics
from traceability.verification import claims, range_revocation
from traceability.verification import report_review as report_services
from traceability.verification.clones import Level, Thresholds
from traceability.verification.models import ReportStatus
from traceability.verification.offline_kit import offline_kit as build_offline_kit
from traceability.verification.provinces import get_province
from traceability.verification.texts import flag_text

bp = Blueprint("office_analytics", __name__, url_prefix="/office")

# Entries of the office's navigation (see office.views.OFFICE_SECTIONS); labels are English msgids.
SECTIONS = (
    ("office_analytics.overview", N_("Scan analytics")),
    ("office_analytics.reports", N_("Shoppers' reports")),
    ("office_analytics.offline_kit", N_("Offline kit")),
)


def _add_sections(state: BlueprintSetupState) -> None:
    state.app.extensions.setdefault("office_sections", []).extend(SECTIONS)


bp.record_once(_add_sections)


bp.before_request(require_office)


class HandleReportForm(Form):
    status = SelectField(_l("Outcome"), validate_choice=False)
    note = TextAreaField(_l("Note"), validators=[InputRequired(), Length(max=2000)])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = [
            (ReportStatus.REVIEWED.value, _l("reviewed: followed up")),
            (ReportStatus.DISMISSED.value, _l("dismissed: nothing to do")),
        ]


def _handle_form(report_id: int) -> HandleReportForm:
    return HandleReportForm(prefix=f"report{report_id}")


def _thresholds() -> Thresholds:
    return Thresholds.from_config(current_app.config)


def _province_name(code: str) -> str:
    province = get_province(code)
    return province.name if province else code


def _page_number() -> int:
    text = request.args.get("page", "1")
    return int(text) if text.isdigit() else 1


# --- Scan analytics ---------------------------------------------------------------------------------


@bp.get("/analytics")
def overview() -> ResponseReturnValue:
    days = scan_analytics.period_days(request.args.get("days"))
    session = get_session()
    since = scan_analytics.period_start(utcnow(), days)
    flagged = scan_analytics.flagged_stamps(session, _thresholds(), since=since)
    return render_template(
        "office/analytics/overview.html",
        days=days,
        periods=scan_analytics.PERIODS,
        overview=scan_analytics.overview(session, since),
        activity=scan_analytics.batch_activity(session, since),
        warnings=[f for f in flagged if f.level is Level.WARNING],
        notices=[f for f in flagged if f.level is Level.NOTICE],
        flag_text=flag_text,
    )


@bp.get("/analytics/batches/<int:batch_id>")
def batch(batch_id: int) -> ResponseReturnValue:
    session = get_session()
    found = batches.batch_or_404(session, batch_id)
    flagged = scan_analytics.flagged_stamps(session, _thresholds(), batch_id=found.id)
    return render_template(
        "office/analytics/batch.html",
        batch=found,
        record=scan_analytics.batch_scans(session, found),
        flagged=flagged,
        flag_text=flag_text,
        claims=claims.batch_claims(session, found) if found.scratch_off else None,
    )


# --- Revocation: a range of stamps (new), or the whole batch (confirmation for the existing action) ------


def _render_range(batch_id: int, form: ReasonedRangeForm, status: int = 200) -> ResponseReturnValue:
    found = batches.batch_or_404(get_session(), batch_id)
    return render_template("office/analytics/revoke_stamps.html", batch=found, form=form), status


@bp.route("/analytics/batches/<int:batch_id>/revoke-stamps", methods=["GET", "POST"])
def revoke_stamps(batch_id: int) -> ResponseReturnValue:
    """Ask for the stamps and a reason, show what would change, and revoke only once that is confirmed."""
    if request.method == "GET":
        form = ReasonedRangeForm(prefix="range", first=request.args.get("first", ""), last=request.args.get("last", ""))
        return _render_range(batch_id, form)
    form = ReasonedRangeForm(prefix="range")
    if not form.validate_on_submit():
        return _render_range(batch_id, form, 422)
    first, last, reason = form.first.data or "", form.last.data or "", form.reason.data
    try:
        if request.form.get("confirmed") != "1":
            session = get_session()
            found = batches.batch_or_404(session, batch_id)
            preview = range_revocation.preview_range_revocation(session, found, first, last, reason)
            return render_template("office/analytics/revoke_stamps_confirm.html", preview=preview, form=form)
        with transaction() as session:
            found = batches.batch_or_404(session, batch_id)
            range_revocation.revoke_range(session, found, first, last, reason, actor=actor())
    except DomainError as error:
        show_error(form, error)
        return _render_range(batch_id, form, error.status)
    flash(
        _("Stamps %(first)s to %(last)s of batch %(id)s revoked.", first=first, last=last or first, id=batch_id),
        "success",
    )
    return redirect(url_for("office_analytics.batch", batch_id=batch_id))


@bp.get("/analytics/batches/<int:batch_id>/revoke-batch")
def revoke_batch(batch_id: int) -> ResponseReturnValue:
    """Confirm revoking a whole batch; the form posts to the office's existing revoke action."""
    session = get_session()
    found = batches.batch_or_404(session, batch_id)
    return render_template(
        "office/analytics/revoke_batch.html",
        batch=found,
        record=scan_analytics.batch_scans(session, found),
        form=ReasonForm(prefix="revoke"),
    )


# --- Shoppers' reports ------------------------------------------------------------------------------


def _render_reports(
    failed: HandleReportForm | None = None, failed_id: int | None = None, status_code: int = 422
) -> ResponseReturnValue:
    status = report_services.report_status(request.args.get("status"))
    page = report_services.reports_page(get_session(), _page_number(), status=status)
    forms = {row.report.id: _handle_form(row.report.id) for row in page.rows}
    if failed is not None and failed_id is not None:
        forms[failed_id] = failed
    return render_template(
        "office/analytics/reports.html",
        page=page,
        forms=forms,
        statuses=[s.value for s in ReportStatus],
        province_name=_province_name,
    ), (status_code if failed is not None else 200)


@bp.get("/reports")
def reports() -> ResponseReturnValue:
    return _render_reports()


@bp.get("/reports/<int:report_id>/photo")
def report_photo(report_id: int) -> ResponseReturnValue:
    """Serve a report's photo to staff only; it may show a shop or a person, so no cache keeps it."""
    photo, media_type = report_services.report_photo(get_session(), report_id)
    response = current_app.response_class(photo, mimetype=media_type)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Disposition"] = f'inline; filename="report-{report_id}.jpg"'
    return response


@bp.post("/reports/<int:report_id>/handle")
def handle_report(report_id: int) -> ResponseReturnValue:
    """Mark a report handled with a note; the list it was posted from comes back, at that report."""
    form, status_code = _handle_form(report_id), 422
    if form.validate_on_submit():
        try:
            with transaction() as session:
                report = report_services.report_or_404(session, report_id)
                report_services.handle_report(
                    session, report, form.status.data or "", form.note.data or "", actor=actor()
                )
        except DomainError as error:
            show_error(form, error)
            status_code = error.status
        else:
            flash(_("Report %(id)s marked as handled.", id=report_id), "success")
            back = url_for(
                "office_analytics.reports",
                page=request.args.get("page"),
                status=request.args.get("status"),
                _anchor=f"report-{report_id}",
            )
            return redirect(back)
    report_services.report_or_404(get_session(), report_id)
    return _render_reports(form, report_id, status_code)


# --- Offline kit ------------------------------------------------------------------------------------


@bp.get("/offline-kit")
def offline_kit() -> ResponseReturnValue:
    max_age = timedelta(seconds=int(current_app.config["REVOCATIONS_MAX_AGE_SECONDS"]))
    kit = build_offline_kit(get_session(), store_from_config(current_app.config), utcnow(), clock.today(), max_age)
    return render_template("office/analytics/offline_kit.html", kit=kit, base_url=current_app.config["PUBLIC_BASE_URL"])
