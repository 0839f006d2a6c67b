"""The load balancers' probes: /healthz answers without the database; /readyz checks the database, the
migrations and the active keys, and says which failed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from traceability import create_app
from traceability.schema import alembic_config
from traceability.verification.models import Scan


def _probe(client: FlaskClient, path: str) -> tuple[int, dict[str, Any]]:
    response = client.get(path)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "application/json"
    assert "Set-Cookie" not in response.headers  # a probe opens no session
    return response.status_code, response.get_json()


def test_healthz_answers(client: FlaskClient) -> None:
    assert _probe(client, "/healthz") == (200, {"status": "ok"})


def test_ready_on_a_migrated_database_with_keys(client: FlaskClient, session: Session, publication_key: Any) -> None:
    status, body = _probe(client, "/readyz")
    assert status == 200
    assert body == {"status": "ready", "checks": {"database": "ok", "migrations": "ok", "keys": "ok"}}
    assert session.scalar(select(func.count()).select_from(Scan)) == 0  # a probe is not a scan


def test_not_ready_without_keys(client: FlaskClient) -> None:
    status, body = _probe(client, "/readyz")
    assert status == 503
    assert body["failed"] == ["keys"]
    assert body["checks"]["keys"] == "no active stamp key; no active publication key"


def _missing(path: Path) -> None:
    path.unlink()


def _readable_by_others(path: Path) -> None:
    path.chmod(0o644)


def _damaged(path: Path) -> None:
    path.write_bytes(b"-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")


@pytest.mark.parametrize("spoil", [_missing, _readable_by_others, _damaged], ids=lambda f: f.__name__.strip("_"))
def test_not_ready_when_a_key_file_cannot_be_loaded(
    client: FlaskClient, store: Any, signing_key: Any, publication_key: Any, spoil: Any
) -> None:
    spoil(store.path(publication_key.id, "publication"))
    status, body = _probe(client, "/readyz")
    assert status == 503
    assert body["failed"] == ["keys"]
    assert body["checks"]["keys"] == f"publication key {publication_key.id} cannot be loaded"
    assert str(store.directory) not in str(body)  # where the keys live is for the log, not the answer


@pytest.fixture
def alembic_version(session: Session, database_url: str) -> Iterator[str]:
    """Yield the head revision; the database's recorded revision is set back to it after the test."""
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    assert head is not None
    yield head
    session.rollback()
    session.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    session.commit()


@pytest.mark.parametrize("where", ["behind", "ahead"])
def test_not_ready_when_migrations_are_not_at_head(
    client: FlaskClient, session: Session, database_url: str, publication_key: Any, alembic_version: str, where: str
) -> None:
    scripts = ScriptDirectory.from_config(alembic_config(database_url))
    revision = scripts.get_revision(alembic_version).down_revision if where == "behind" else "9999_from_a_newer_release"
    session.execute(text("UPDATE alembic_version SET version_num = :revision"), {"revision": revision})
    session.commit()
    status, body = _probe(client, "/readyz")
    assert status == 503
    assert body["failed"] == ["migrations"]
    assert body["checks"]["migrations"] == (
        f"database at {revision}, code at {alembic_version}: run 'traceability init'"
    )


def app_without_database(tmp_path: Path) -> Any:
    """Return an app whose database cannot be opened (its folder does not exist)."""
    return create_app(
        {
            "ENV": "testing",
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'no such folder' / 'db.sqlite3'}",
            "KEYS_DIR": str(tmp_path / "keys"),
            "PRINT_DIR": str(tmp_path / "prints"),
            "SECRET_KEY": "test-secret",
        }
    )


def test_healthz_needs_no_database_and_readyz_names_it(tmp_path: Path) -> None:
    app = app_without_database(tmp_path)
    client = app.test_client()
    assert _probe(client, "/healthz") == (200, {"status": "ok"})
    status, body = _probe(client, "/readyz")
    assert status == 503
    assert body["failed"] == ["database", "keys", "migrations"]
    assert body["checks"]["database"] == "unreachable"
    assert body["checks"]["keys"].startswith("skipped")
    app.extensions["db_engine"].dispose()


def test_probes_are_never_rate_limited(app_config: dict[str, Any]) -> None:
    app = create_app({**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_DEFAULT": "1 per minute"})
    client = app.test_client()
    assert [client.get("/").status_code for _ in range(2)] == [200, 429]  # the default limit applies elsewhere
    assert {client.get(path).status_code for path in ["/healthz", "/readyz"] * 3} <= {200, 503}
    assert client.post("/healthz").status_code == 405  # GET only, so nothing for CSRF to protect
    app.extensions["db_engine"].dispose()


def test_warming_up_compiles_the_public_pages_and_writes_nothing(
    app: Any, session: Session, publication_key: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from traceability.audit.models import AuditEntry
    from traceability.health import warm_up

    caplog.set_level("INFO", logger="traceability.health")
    warm_up(app)
    cache = app.jinja_env.cache
    compiled = {name for _, name in cache} if cache is not None else set()
    assert {"verify.html", "base.html", "verification/macros.html"} <= compiled
    assert any(record.getMessage().startswith("warmed up in ") for record in caplog.records)
    assert session.scalar(select(func.count()).select_from(Scan)) == 0
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_a_worker_that_cannot_warm_up_still_starts(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from traceability.health import warm_up

    app = app_without_database(tmp_path)
    warm_up(app)  # the database cannot be opened: logged, not raised
    assert any(record.getMessage().startswith("warm-up failed") for record in caplog.records)
    assert app.test_client().get("/healthz").status_code == 200
    app.extensions["db_engine"].dispose()
