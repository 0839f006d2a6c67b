"""The programme office's pages: review queue, batch decisions, audit log, users.

Every route needs an administrator or inspector; decisions that change state say which role they need.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from traceability import clock, labels
from traceability.accounts import services as accounts
from traceability.accounts.forms import UserForm
from traceability.accounts.guards import actor, require_office, require_role, require_user, roles_required
from traceability.accounts.models import Role
from traceability.audit import services as audit
from traceability.confirmation import confirmed, dry_run
from traceability.db import get_session, transaction
from traceability.errors import DomainError
from traceability.forms import ConfirmForm, ReasonForm, show_error
from traceability.ledger.services import configured_origin
from traceability.printing import downloads
from traceability.printing.views import PrintPages
from traceability.stamps import batches, decisions
from traceability.stamps.keystore import store_from_config
from traceability.stamps.models import Batch, BatchStatus
from traceability.web import number

bp = Blueprint("office", __name__, url_prefix="/office")

# Other packages add pages to the office's navigation (scan analytics, shopper reports) with
# app.extensions.setdefault(OFFICE_SECTIONS, []).append((endpoint, label)), label an English msgid.
OFFICE_SECTIONS = "office_sections"


bp.before_request(require_office)


def batch_to_print(batch_id: int) -> Batch:
    """Return any batch for an administrator. Inspectors oversee and may revoke, but never hold print files."""
    require_role(Role.ADMINISTRATOR)
    return batches.batch_or_404(get_session(), batch_id)


# Print-ready files as background jobs: /office/batches/<id>/print..., administrators only.
PRINTING = PrintPages(authorise=batch_to_print, back="office.batch", layouts=downloads.layouts, codes=True)
bp.register_blueprint(PRINTING.blueprint())


@bp.app_context_processor
def office_helpers() -> dict[str, object]:
    return {"office_sections": lambda: list(current_app.extensions.get(OFFICE_SECTIONS, []))}


# {{ user.role | label }}: a stored enum value in the page's language.
bp.add_app_template_filter(labels.label, "label")
bp.add_app_template_global(labels.state_label, "state_label")  # accounts/_macros.html status_label


@bp.get("/")
def queue() -> ResponseReturnValue:
    return render_template("office/queue.html", batches=decisions.review_queue(get_session()))


@bp.get("/batches")
def batch_list() -> ResponseReturnValue:
    status = request.args.get("status") or None
    return render_template(
        "office/batches.html",
        batches=decisions.list_batches(get_session(), status),
        status=status,
        statuses=[s.value for s in BatchStatus],
    )


def _render_batch(batch_id: int, status: int = 200, **forms: object) -> ResponseReturnValue:
    session = get_session()
    found = batches.batch_or_404(session, batch_id)
    context = {
        "approve_form": ConfirmForm(prefix="approve"),
        "reject_form": ReasonForm(prefix="reject"),
        "revoke_form": ReasonForm(prefix="revoke"),
        **forms,
    }
    entries = audit.entries(session, target=f"batch:{batch_id}")
    if found.status is BatchStatus.ISSUED and require_user().role is Role.ADMINISTRATOR:
        context.update(PRINTING.panel(found))
    return render_template("office/batch.html", batch=found, entries=entries, **context), status


@bp.get("/batches/<int:batch_id>")
def batch(batch_id: int) -> ResponseReturnValue:
    return _render_batch(batch_id)


@bp.post("/batches/<int:batch_id>/approve")
@roles_required(Role.ADMINISTRATOR)
def approve(batch_id: int) -> ResponseReturnValue:
    form = ConfirmForm(prefix="approve")
    if form.validate_on_submit():
        try:
            with transaction() as session:
                approved = decisions.approve(
                    session,
                    store_from_config(current_app.config),
                    batch_id,
                    actor=actor(),
                    today=clock.today(),
                    ledger_origin=configured_origin(current_app.config),
                )
                message = _(
                    "Batch %(id)s approved: %(count)s stamps issued and signed.",
                    id=batch_id,
                    count=number(approved.quantity),
                )
        except DomainError as error:
            show_error(form, error)
        else:
            flash(message, "success")
            return redirect(url_for("office.batch", batch_id=batch_id))
    return _render_batch(batch_id, 409 if form.form_errors else 422, approve_form=form)


def _review(batch_id: int, action: str, form: ReasonForm) -> ResponseReturnValue:
    """Render the page that says what rejecting or revoking this batch will do, and asks to confirm it."""
    found = batches.batch_or_404(get_session(), batch_id)
    return render_template("office/confirm_batch.html", batch=found, action=action, form=form)


@bp.post("/batches/<int:batch_id>/reject")
@roles_required(Role.ADMINISTRATOR)
def reject(batch_id: int) -> ResponseReturnValue:
    """Reject a request once the administrator has seen what that means (a first post shows the review)."""
    form = ReasonForm(prefix="reject")
    if form.validate_on_submit():
        reason = form.reason.data or ""
        try:
            if not confirmed():
                with dry_run() as session:  # the review appears only if the rejection would succeed
                    decisions.reject(session, batch_id, actor=actor(), reason=reason)
                return _review(batch_id, "reject", form)
            with transaction() as session:
                decisions.reject(session, batch_id, actor=actor(), reason=reason)
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("Batch %(id)s rejected. The producer sees your reason.", id=batch_id), "success")
            return redirect(url_for("office.queue"))
    return _render_batch(batch_id, 422, reject_form=form)


@bp.post("/batches/<int:batch_id>/revoke")
def revoke(batch_id: int) -> ResponseReturnValue:
    """Revoke a whole batch once its consequences have been shown and confirmed (a first post shows them)."""
    form = ReasonForm(prefix="revoke")
    if form.validate_on_submit():
        reason = form.reason.data or ""
        try:
            if not confirmed():
                with dry_run() as session:
                    decisions.revoke(session, batch_id, actor=actor(), reason=reason)
                return _review(batch_id, "revoke", form)
            with transaction() as session:
                revoked = decisions.revoke(session, batch_id, actor=actor(), reason=reason)
                message = _(
                    "Batch %(id)s revoked: its %(count)s stamps now read as revoked.",
                    id=batch_id,
                    count=number(revoked.quantity),
                )
        except DomainError as error:
            show_error(form, error)
        else:
            flash(message, "success")
            return redirect(url_for("office.batch", batch_id=batch_id))
    return _render_batch(batch_id, 422, revoke_form=form)


@bp.get("/users")
@roles_required(Role.ADMINISTRATOR)
def users() -> ResponseReturnValue:
    return render_template("office/users.html", users=accounts.list_users(get_session()), form=ConfirmForm())


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMINISTRATOR)
def new_user() -> ResponseReturnValue:
    form = UserForm()
    if form.validate_on_submit():
        try:
            with transaction() as session:
                created = accounts.create_user(
                    session,
                    current_app.config,
                    email=form.email.data or "",
                    role=form.role.data or "",
                    password=form.password.data or "",
                    producer_code=(form.producer.data or "").strip() or None,
                    actor=actor(),
                )
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("Account %(email)s created.", email=created.email), "success")
            return redirect(url_for("office.users"))
    return render_template("office/user_form.html", form=form), 422 if form.is_submitted() else 200


def _set_active(user_id: int, active: bool) -> ResponseReturnValue:
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("office.users"))
    with transaction() as session:
        user = accounts.user_or_404(session, user_id)
        accounts.set_active(session, user, active, actor=actor(), by=require_user())
        email = user.email
    if active:
        flash(_("Account %(email)s enabled: it can log in again.", email=email), "success")
    else:
        flash(_("Account %(email)s disabled: it is logged out and cannot log in.", email=email), "success")
    return redirect(url_for("office.users"))


@bp.post("/users/<int:user_id>/disable")
@roles_required(Role.ADMINISTRATOR)
def disable_user(user_id: int) -> ResponseReturnValue:
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/enable")
@roles_required(Role.ADMINISTRATOR)
def enable_user(user_id: int) -> ResponseReturnValue:
    return _set_active(user_id, True)
