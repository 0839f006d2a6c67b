"""Probes for load balancers: /healthz (the process answers) and /readyz (database, migrations, keys).

Both answer JSON with `Cache-Control: no-store`, are never rate limited (a balancer probing a busy server
must not be told 429) and record nothing. A failed check names itself in the answer; its details (paths,
driver messages) go to the log only, since the probes are reachable wherever the service is.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, Response, current_app, jsonify
from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from traceability.db import get_session
from traceability.errors import DomainError
from traceability.schema import alembic_config
from traceability.stamps.keys import active_key, active_publication_key
from traceability.stamps.keystore import KeyStore, store_from_config
from traceability.web import csrf, limiter

bp = Blueprint("health", __name__)
csrf.exempt(bp)
log = logging.getLogger(__name__)

OK = "ok"
HEADS_KEY = "alembic_heads"


def migration_heads(app: Flask) -> frozenset[str]:
    """Return the newest revisions of the shipped migrations (read once: the code does not change under us)."""
    heads: frozenset[str] | None = app.extensions.get(HEADS_KEY)
    if heads is None:
        script = ScriptDirectory.from_config(alembic_config(app.config["DATABASE_URL"]))
        heads = app.extensions[HEADS_KEY] = frozenset(script.get_heads())
    return heads


def check_migrations(connection: Connection, heads: frozenset[str]) -> str:
    """Say whether the database stands at the migrations' head, or where it stands instead."""
    current = frozenset(MigrationContext.configure(connection).get_current_heads())
    if current == heads:
        return OK
    at = ", ".join(sorted(current)) or "no revision"
    return f"database at {at}, code at {', '.join(sorted(heads))}: run 'traceability init'"


def check_keys(session: Session, store: KeyStore) -> str:
    """Say whether the active stamp and publication keys are registered and their private halves load."""
    problems = []
    for purpose, find in (("stamp", active_key), ("publication", active_publication_key)):
        try:
            key = find(session)
        except DomainError as error:
            log.warning("readiness: %s", error.message)
            problems.append(f"no active {purpose} key")
            continue
        try:
            store.load(key.id, purpose)
        except (DomainError, OSError) as error:
            log.warning("readiness: %s key %s: %s", purpose, key.id, getattr(error, "message", error))
            problems.append(f"{purpose} key {key.id} cannot be loaded")
    return "; ".join(problems) or OK


def readiness(app: Flask, session: Session) -> dict[str, str]:
    """Run every readiness check; those needing the database are skipped when it cannot be reached."""
    try:
        connection = session.connection()
        connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log.warning("readiness: database unreachable: %s", error.__class__.__name__, exc_info=True)
        skipped = "skipped: the database is unreachable"
        return {"database": "unreachable", "migrations": skipped, "keys": skipped}
    return {
        "database": OK,
        "migrations": check_migrations(connection, migration_heads(app)),
        "keys": check_keys(session, store_from_config(app.config)),
    }


def _answer(body: dict[str, Any], status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
@limiter.exempt
def healthz() -> Response:
    """Answer that the process serves requests (nothing else is asked of it)."""
    return _answer({"status": "ok"}, 200)


@bp.get("/readyz")
@limiter.exempt
def readyz() -> Response:
    """Answer 200 if this instance can verify stamps and sign publications, else 503 naming what failed."""
    checks = readiness(current_app, get_session())
    failed = sorted(name for name, result in checks.items() if result != OK)
    if failed:
        return _answer({"status": "unavailable", "failed": failed, "checks": checks}, 503)
    return _answer({"status": "ready", "checks": checks}, 200)


# What a new worker's first public request would otherwise pay for: compiling the public templates, loading both
# languages' catalogs, opening a database connection, reading the keys and compiling the statements of a
# look-up (the stamp read is the largest of the app). None of it writes anything.
WARM_TEMPLATES = ("base.html", "verify.html", "index.html", "error.html")


def warm_up(app: Flask) -> None:
    """Prepare a new worker before it takes requests (gunicorn's post_worker_init, deploy/gunicorn.conf.py).

    Measured (2026-12-02, benchmarks/load.py, 8 connections): a worker's first page took 125 ms alone and
    277–622 ms when five new workers started under load, against 5–11 ms after; the requests queued behind
    those first pages made the page's p99. A failure here is logged and the worker starts anyway: /readyz
    says what is wrong.
    """
    from flask_babel import get_translations
    from sqlalchemy import select

    from traceability.registry.models import Product
    from traceability.verification import facts
    from traceability.verification.services import read_stamp

    started = time.perf_counter()
    try:
        for name in app.jinja_env.list_templates():
            if name in WARM_TEMPLATES or name.startswith("verification/"):
                app.jinja_env.get_template(name)
        for language in ("vi", "en"):
            with app.test_request_context(f"/?lang={language}"):
                get_translations()
        app.test_client().get("/readyz")  # never rate limited, never a scan
        with app.app_context():
            session = get_session()
            facts.trusted_keys(session)
            read_stamp(session, 0, 0)  # no batch 0: the statement is compiled and run, and reads nothing
            product = session.scalar(select(Product.id).limit(1))
            if product is not None:
                facts.product_facts(session, product)
                facts.shown_photo(session, product)
            session.rollback()
    except Exception:  # a worker that cannot warm up must still start, and answer /readyz
        log.warning("warm-up failed; the first requests will be slower", exc_info=True)
        return
    log.info("warmed up in %.0f ms", (time.perf_counter() - started) * 1000)
