"""The office's review of product photos: approve one to show it to shoppers, or reject it with a reason.

Administrators and inspectors, like every office page. A photo is what shoppers compare the goods in their
hand with, so it is shown only once someone here has checked that it is this product.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue

from traceability.accounts.guards import actor, require_office
from traceability.db import get_session, transaction, utcnow
from traceability.errors import DomainError
from traceability.forms import ConfirmForm, ReasonForm, show_error
from traceability.i18n import N_
from traceability.registry import photos
from traceability.registry.models import PhotoStatus, ProductPhoto

bp = Blueprint("office_photos", __name__, url_prefix="/office/photos")

# An entry of the office's navigation (see office.views.OFFICE_SECTIONS); the label is an English msgid.
SECTIONS = (("office_photos.queue", N_("Product photos")),)


def _add_sections(state: BlueprintSetupState) -> None:
    state.app.extensions.setdefault("office_sections", []).extend(SECTIONS)


bp.record_once(_add_sections)
bp.before_request(require_office)


def _queue_page(
    approve_forms: dict[int, ConfirmForm] | None = None,
    reject_forms: dict[int, ReasonForm] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    session = get_session()
    pending = photos.pending_photos(session)
    shown = {photo.product_id: photos.approved_photo(session, photo.product_id) for photo in pending}
    approve_forms = approve_forms or {}
    reject_forms = reject_forms or {}
    waiting = {photo.id for photo in pending}
    # A decision on a photo that has left the queue (another reviewer was quicker): say so above the list.
    left = [m for i, f in [*approve_forms.items(), *reject_forms.items()] if i not in waiting for m in f.form_errors]
    body = render_template(
        "office/photos.html",
        pending=pending,
        shown=shown,
        errors=left,
        approve_forms={p.id: approve_forms.get(p.id) or ConfirmForm(prefix=f"approve-{p.id}") for p in pending},
        reject_forms={p.id: reject_forms.get(p.id) or ReasonForm(prefix=f"reject-{p.id}") for p in pending},
    )
    return body, status


@bp.get("/")
def queue() -> ResponseReturnValue:
    """List the photos waiting for a decision, oldest first, beside the photo each product shows now."""
    return _queue_page()


@bp.post("/<int:photo_id>/approve")
def approve(photo_id: int) -> ResponseReturnValue:
    """Show the photo on its product's public page, in place of the one shown before."""
    form = ConfirmForm(prefix=f"approve-{photo_id}")
    if form.validate_on_submit():
        try:
            with transaction() as session:
                photos.approve_photo(session, photos.photo_or_404(session, photo_id), actor=actor(), at=utcnow())
        except DomainError as error:
            show_error(form, error)
            return _queue_page(approve_forms={photo_id: form}, status=error.status)
        return redirect(url_for("office_photos.queue") + "#queue")
    return _queue_page(approve_forms={photo_id: form}, status=422)


@bp.post("/<int:photo_id>/reject")
def reject(photo_id: int) -> ResponseReturnValue:
    """Refuse a pending photo, or withdraw an approved one, with a reason the producer reads."""
    form = ReasonForm(prefix=f"reject-{photo_id}")
    back = request.form.get("back") == "product"
    if form.validate_on_submit():
        try:
            with transaction() as session:
                photo = photos.photo_or_404(session, photo_id)
                photos.reject_photo(session, photo, form.reason.data or "", actor=actor(), at=utcnow())
                product_id = photo.product_id
        except DomainError as error:
            show_error(form, error)
            return _queue_page(reject_forms={photo_id: form}, status=error.status)
        if back:
            return redirect(url_for("office_photos.product", product_id=product_id))
        return redirect(url_for("office_photos.queue") + "#queue")
    return _queue_page(reject_forms={photo_id: form}, status=422)


@bp.get("/products/<int:product_id>")
def product(product_id: int) -> ResponseReturnValue:
    """Show every photo of a product and what was decided; the approved one can be withdrawn here."""
    session = get_session()
    found = photos.product_or_404(session, product_id)
    listed = photos.photos_of(session, found)
    withdraw = {p.id: ReasonForm(prefix=f"reject-{p.id}") for p in listed if p.status is PhotoStatus.APPROVED}
    return render_template("office/photo_product.html", product=found, photos=listed, withdraw_forms=withdraw)


@bp.get("/<int:photo_id>/image")
def image(photo_id: int) -> ResponseReturnValue:
    """Serve any photo, whatever its status, to the office."""
    session = get_session()
    photo: ProductPhoto = photos.photo_or_404(session, photo_id)
    data, media_type = photos.photo_image(session, photo, thumbnail=request.args.get("size") == "thumbnail")
    response = current_app.response_class(data, mimetype=media_type)
    response.headers["Cache-Control"] = "private, no-store"
    return response
