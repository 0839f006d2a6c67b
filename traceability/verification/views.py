"""Public pages and API: the page a stamp's QR opens, the JSON verdict, and the published keys."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from traceability import clock
from traceability.db import get_session
from traceability.errors import ValidationError
from traceability.stamps.keys import keyring
from traceability.stamps.signing import jwks
from traceability.verification.commands import outcome_record
from traceability.verification.services import verify_code

bp = Blueprint("verification", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    return render_template("index.html")


@bp.get("/v/<token>")
def stamp_page(token: str) -> ResponseReturnValue:
    result = verify_code(get_session(), token, clock.today())
    return render_template("verify.html", result=result)


@bp.get("/api/v1/verify")
def verify_api() -> ResponseReturnValue:
    code = request.args.get("code", "")
    if not code:
        raise ValidationError("give the stamp code as ?code=<URL or token>", field="code")
    result = verify_code(get_session(), code, clock.today())
    body: dict[str, Any] = outcome_record(code, result.outcome)
    return jsonify(body)


@bp.get("/.well-known/jwks.json")
def published_keys() -> ResponseReturnValue:
    response = jsonify(jwks(keyring(get_session()).values()))
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
