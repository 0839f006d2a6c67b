"""The public address of approved product photos: named by content hash, so caches may keep them for ever."""

from __future__ import annotations

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue

from traceability.db import get_session
from traceability.registry import photos

bp = Blueprint("photos", __name__, url_prefix="/photos")

YEAR = 365 * 24 * 3600


def _serve(filename: str, *, thumbnail: bool) -> ResponseReturnValue:
    data, media_type = photos.public_image(get_session(), filename, thumbnail=thumbnail)
    response = current_app.response_class(data, mimetype=media_type)
    response.set_etag(filename.partition(".")[0] + ("-thumbnail" if thumbnail else ""))
    # The address is the content's hash: a new photo gets a new address, so no copy ever goes stale.
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response.make_conditional(request)


@bp.get("/<filename>")
def image(filename: str) -> ResponseReturnValue:
    """Serve an approved product photo (`<sha256>.webp`); anything else, or a photo not approved, is 404."""
    return _serve(filename, thumbnail=False)


@bp.get("/thumbnails/<filename>")
def thumbnail(filename: str) -> ResponseReturnValue:
    """Serve the thumbnail of an approved product photo."""
    return _serve(filename, thumbnail=True)
