"""The producer's pages. Every route is behind the producer role and scoped to the user's producer."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, stream_with_context, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from traceability import clock
from traceability.accounts.guards import actor, require_role
from traceability.accounts.models import Role
from traceability.confirmation import confirmed, dry_run
from traceability.db import get_session, transaction
from traceability.errors import DomainError
from traceability.forms import show_error
from traceability.i18n import N_
from traceability.printing import downloads
from traceability.printing import forms as printing_forms
from traceability.printing.views import PrintPages
from traceability.registry import standing
from traceability.registry.models import Producer
from traceability.stamps import batches, producer_batches
from traceability.stamps.batches import BatchOptions
from traceability.stamps.forms import BatchRequestForm, ReasonedRangeForm, StampRangeForm
from traceability.stamps.keystore import store_from_config
from traceability.stamps.models import Batch, RangeState
from traceability.web import number

bp = Blueprint("portal", __name__, url_prefix="/portal")


@bp.before_request
def only_producer_users() -> None:
    """Let only producer users in; g.producer is the one producer whose data they may touch."""
    user = require_role(Role.PRODUCER)
    g.producer = user.producer


def producer() -> Producer:
    value: Producer = g.producer
    return value


def own_batch(batch_id: int) -> Batch:
    """Return the user's producer's batch, or NotFound (another producer's batch does not exist for them)."""
    return producer_batches.batch_of(get_session(), producer(), batch_id)


# Print-ready files as background jobs: /portal/batches/<id>/print..., behind only_producer_users and own_batch.
PRINTING = PrintPages(authorise=own_batch, back="portal.downloads_page", layouts=downloads.layouts, codes=True)
bp.register_blueprint(PRINTING.blueprint())


@bp.app_template_filter("layout_label")
def layout_label(name: str | None) -> str:
    """Return the name of a sheet layout in the page's language (the stored name if it is not offered)."""
    return next((_(label) for layout, label in downloads.layouts() if layout == name), name or "")


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    session = get_session()
    products = standing.products_of(session, producer(), clock.today(), current_app.config["CERTIFICATE_WARNING_DAYS"])
    return render_template(
        "portal/dashboard.html",
        producer=producer(),
        products=products,
        batches=producer_batches.batches_of(session, producer()),
        warning_days=current_app.config["CERTIFICATE_WARNING_DAYS"],
    )


def _request_form() -> BatchRequestForm:
    form = BatchRequestForm()
    form.product.choices = [
        (p.id, f"{p.code} — {p.name}") for p in standing.stampable_products(get_session(), producer(), clock.today())
    ]
    printing_forms.offer_stock(form, downloads.layouts())
    return form


@bp.route("/batches/new", methods=["GET", "POST"])
def request_batch() -> ResponseReturnValue:
    form = _request_form()
    if not printing_forms.searching(form) and form.validate_on_submit():
        try:
            with transaction() as session:
                batch = producer_batches.request_batch(
                    session,
                    producer(),
                    form.product.data,
                    form.quantity.data,
                    BatchOptions(
                        form.lot.data,
                        form.production_date.data,
                        form.expiry_date.data,
                        printing_forms.stock_name(form),
                        scratch_off=bool(form.scratch_off.data),
                    ),
                    check_layout=printing_forms.check_stock,
                    actor=actor(),
                    maximum=current_app.config["MAX_BATCH_QUANTITY"],
                    max_pending=current_app.config["MAX_PENDING_REQUESTS"],
                    today=clock.today(),
                )
        except DomainError as error:
            show_error(form, error)
        else:
            said = _(
                "Request sent: batch %(id)s, %(count)s stamps. The programme office will review it.",
                id=batch.id,
                count=number(batch.quantity),
            )
            flash(said, "success")
            return redirect(url_for("portal.batch", batch_id=batch.id))
    status = 422 if form.is_submitted() and not printing_forms.searching(form) else 200
    return render_template("portal/request.html", form=form, maximum=current_app.config["MAX_BATCH_QUANTITY"]), status


@bp.get("/batches/<int:batch_id>")
def batch(batch_id: int) -> ResponseReturnValue:
    found = producer_batches.batch_of(get_session(), producer(), batch_id)
    return render_template(
        "portal/batch.html",
        batch=found,
        activate_form=StampRangeForm(prefix="activate"),
        void_form=ReasonedRangeForm(prefix="void"),
        formats=downloads.formats(),
    )


# What the page says once stamps have changed state.
CHANGED = {
    RangeState.ACTIVATED: N_("%(count)s stamps activated (%(first)s to %(last)s)."),
    RangeState.VOIDED: N_("%(count)s stamps voided (%(first)s to %(last)s)."),
}


def _change(batch_id: int, state: RangeState, prefix: str) -> ResponseReturnValue:
    """Activate stamps at once; void them only once the producer has seen and confirmed what that does."""
    form = (ReasonedRangeForm if state is RangeState.VOIDED else StampRangeForm)(prefix=prefix)
    found = producer_batches.batch_of(get_session(), producer(), batch_id)
    if form.validate_on_submit():
        first_text, last_text = form.first.data or "", form.last.data or ""
        try:
            first, last = producer_batches.stamp_span(found, first_text, last_text)
            if state is RangeState.VOIDED and not confirmed():
                with dry_run() as session:  # the review appears only if voiding would succeed
                    producer_batches.change_stamps(
                        session, found, first_text, last_text, state, actor=actor(), reason=form.reason.data
                    )
                return render_template(
                    "portal/confirm_void.html",
                    batch=found,
                    form=form,
                    count=last - first + 1,
                    serials=(batches.serial_of(found, first), batches.serial_of(found, last)),
                )
            with transaction() as session:
                producer_batches.change_stamps(
                    session, found, first_text, last_text, state, actor=actor(), reason=form.reason.data
                )
        except DomainError as error:
            show_error(form, error)
        else:
            said = _(CHANGED[state], count=number(last - first + 1), first=first_text, last=last_text or first_text)
            flash(said, "success")
            return redirect(url_for("portal.batch", batch_id=batch_id))
    found = producer_batches.batch_of(get_session(), producer(), batch_id)
    forms = {"activate_form": StampRangeForm(prefix="activate"), "void_form": ReasonedRangeForm(prefix="void")}
    forms[f"{prefix}_form"] = form
    return render_template("portal/batch.html", batch=found, formats=downloads.formats(), **forms), 422


@bp.post("/batches/<int:batch_id>/activate")
def activate(batch_id: int) -> ResponseReturnValue:
    return _change(batch_id, RangeState.ACTIVATED, "activate")


@bp.post("/batches/<int:batch_id>/void")
def void(batch_id: int) -> ResponseReturnValue:
    return _change(batch_id, RangeState.VOIDED, "void")


@bp.get("/batches/<int:batch_id>/download")
def downloads_page(batch_id: int) -> ResponseReturnValue:
    found = own_batch(batch_id)
    return render_template("portal/download.html", batch=found, formats=downloads.formats(), **PRINTING.panel(found))


@bp.get("/batches/<int:batch_id>/download/<fmt>")
def download(batch_id: int, fmt: str) -> ResponseReturnValue:
    session = get_session()
    found = producer_batches.batch_of(session, producer(), batch_id)
    prepared = downloads.prepare_download(
        session,
        store_from_config(current_app.config),
        found,
        fmt,
        actor(),
        offered=downloads.formats(),
        base_url=current_app.config["PUBLIC_BASE_URL"],
        cache_dir=current_app.config["PRINT_DIR"],  # signed once, then served from the kept file
    )
    session.commit()  # the audit entry stands before the first byte is sent
    return Response(
        stream_with_context(iter(prepared.chunks())),
        mimetype=prepared.media_type,
        headers={"Content-Disposition": f'attachment; filename="{prepared.filename}"', "Cache-Control": "no-store"},
    )
