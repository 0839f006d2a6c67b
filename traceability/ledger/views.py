"""The public ledger API: the latest checkpoint, the verifier key, entries, and inclusion and consistency proofs."""

from __future__ import annotations

import base64

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from traceability.db import get_session
from traceability.i18n import N_
from traceability.ledger import services
from traceability.ledger.services import LedgerParameterInvalid
from traceability.stamps import ledger_entries
from traceability.stamps.keys import active_publication_key

bp = Blueprint("ledger", __name__)

MAX_NUMBER = 2**63 - 1  # what a database integer holds; larger ids name nothing


def _text(body: str, cache: str = "no-cache") -> Response:
    response = Response(body, mimetype="text/plain")
    response.headers["Cache-Control"] = cache
    return response


def _json(body: object, cache: str = "public, max-age=300") -> Response:
    response = jsonify(body)
    response.headers["Cache-Control"] = cache
    return response


def _number(name: str) -> int:
    """Return a query parameter as a whole number 0 .. 2**63-1, or refuse it with a 422 naming it."""
    raw = request.args.get(name)
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 19 or int(raw) > MAX_NUMBER:
        raise LedgerParameterInvalid(
            N_("give %(name)s as a whole number from 0 to %(max)s"),
            field=name,
            params={"name": name, "max": MAX_NUMBER},
        )
    return int(raw)


def _optional(name: str) -> int | None:
    """Return an optional query parameter as a whole number, or None when it is absent."""
    return _number(name) if name in request.args else None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@bp.get("/api/v1/ledger/checkpoint")
def checkpoint() -> ResponseReturnValue:
    return _text(services.latest_checkpoint_or_404(get_session()).note)


@bp.get("/api/v1/ledger/key")
def key() -> ResponseReturnValue:
    session = get_session()
    active_publication_key(session)  # 409 no_publication_key when nothing can sign the ledger
    origin = services.log_origin(session, services.configured_origin(current_app.config))
    return _text("".join(f"{line}\n" for line in ledger_entries.verifier_keys(session, origin)))


@bp.get("/api/v1/ledger/entries")
def entries() -> ResponseReturnValue:
    start = _number("start")
    end = _optional("end")
    page = services.entries(get_session(), start, end)
    entries = [services.entry_json(row) for row in page.records]
    return _json({"start": page.start, "end": page.end, "tree_size": page.tree_size, "entries": entries})


@bp.get("/api/v1/ledger/proof/inclusion")
def inclusion() -> ResponseReturnValue:
    batch_id = _number("batch")
    size = _optional("size")
    proof = services.inclusion_proof(get_session(), batch_id, size)
    return _json(
        {
            "batch": batch_id,
            "leaf_index": proof.leaf_index,
            "tree_size": proof.tree_size,
            "audit_path": [_b64(node) for node in proof.path],
        }
    )


@bp.get("/api/v1/ledger/proof/consistency")
def consistency() -> ResponseReturnValue:
    session = get_session()
    first = _number("first")
    second = _optional("second")
    second = services.tree_size(session) if second is None else second
    path = services.consistency_proof(session, first, second)
    return _json({"first": first, "second": second, "consistency_path": [_b64(node) for node in path]})
