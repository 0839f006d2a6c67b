"""The producer's product photos: upload one for the office to review, see what was decided and why.

Behind the producer role; every product and photo is looked up through the user's own producer, so another
producer's product or photo does not exist here.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select

from traceability import images
from traceability.accounts.guards import actor, require_role
from traceability.accounts.models import Role
from traceability.db import get_session, transaction, utcnow
from traceability.errors import DomainError
from traceability.forms import Form, show_error
from traceability.registry import photos
from traceability.registry.models import PhotoStatus, Producer, Product

bp = Blueprint("portal_photos", __name__, url_prefix="/portal/photos")


class PhotoUploadForm(Form):
    photo = FileField(_l("Photo of the product"), validators=[FileRequired()])


@bp.before_request
def only_producer_users() -> None:
    """Let only producer users in; g.producer is the one producer whose products they may touch."""
    g.producer = require_role(Role.PRODUCER).producer


def _producer() -> Producer:
    value: Producer = g.producer
    return value


@bp.get("/")
def index() -> ResponseReturnValue:
    """List the producer's products with the photo shoppers see for each."""
    session = get_session()
    products = session.scalars(
        select(Product).where(Product.producer_id == _producer().id).order_by(Product.code)
    ).all()
    shown = {product.id: photos.approved_photo(session, product.id) for product in products}
    return render_template("portal/photos.html", products=products, shown=shown)


def _product_page(product: Product, form: PhotoUploadForm, status: int = 200) -> ResponseReturnValue:
    listed = photos.photos_of(get_session(), product)
    body = render_template(
        "portal/photo_product.html",
        product=product,
        photos=listed,
        form=form,
        statuses=PhotoStatus,
        max_megabytes=images.megabytes(int(current_app.config["PRODUCT_PHOTO_MAX_BYTES"])),
        min_edge=photos.MIN_EDGE,
    )
    return body, status


@bp.route("/products/<int:product_id>", methods=["GET", "POST"])
def product(product_id: int) -> ResponseReturnValue:
    """Show the product's photos and what was decided; a posted photo is kept for the office to review."""
    form = PhotoUploadForm()
    found = photos.own_product(get_session(), _producer(), product_id)
    if not form.is_submitted():
        return _product_page(found, form)
    if form.validate_on_submit():
        try:
            with transaction() as session:
                photos.upload_photo(
                    session,
                    found,
                    form.photo.data.read(),
                    actor=actor(),
                    at=utcnow(),
                    max_bytes=int(current_app.config["PRODUCT_PHOTO_MAX_BYTES"]),
                )
        except DomainError as error:
            show_error(form, error)
            found = photos.own_product(get_session(), _producer(), product_id)
            return _product_page(found, form, error.status)
        return redirect(url_for("portal_photos.product", product_id=product_id, sent=1))
    return _product_page(found, form, 422)


# Read by traceability.web before CSRF parses the form. A file somewhat over the photo limit still reaches the
# view, whose refusal names the limit in the reader's language; up to MAX_CONTENT_LENGTH, which the proxy's own
# body limit matches (deploy/nginx-ocop.conf), so only bodies beyond both get a bare 413.
product.max_content_length = lambda config: max(  # type: ignore[attr-defined]
    int(config.get("MAX_CONTENT_LENGTH") or 0), int(config["PRODUCT_PHOTO_MAX_BYTES"]) + 64 * 1024
)


@bp.get("/<int:photo_id>/image")
def image(photo_id: int) -> ResponseReturnValue:
    """Serve one of the producer's photos, whatever its status, to the producer only."""
    session = get_session()
    photo = photos.own_photo(session, _producer(), photo_id)
    data, media_type = photos.photo_image(session, photo, thumbnail=request.args.get("size") == "thumbnail")
    response = current_app.response_class(data, mimetype=media_type)
    response.headers["Cache-Control"] = "private, no-store"
    return response
