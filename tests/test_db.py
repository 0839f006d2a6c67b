"""The session belongs to the request or the command, in tests as in production.

Each request and each command opens its own session and closes it in the app context's teardown; the test's
own session is a separate one, so it sees what a request wrote only after the request committed it.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, appcontext_popped, g
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from traceability.audit.models import AuditEntry
from traceability.audit.services import record
from traceability.db import get_session, make_engine
from traceability.errors import Conflict


class Opened:
    """The sessions the app opened (each with the `g` it was stored on), seen through SQLAlchemy's events."""

    def __init__(self, app: Flask, test_session: Session) -> None:
        self.sessions: list[Session] = []
        self.globals: list[Any] = []
        self.test_session = test_session
        event.listen(app.extensions["db_sessionmaker"], "after_begin", self._began)

    def _began(self, session: Session, _transaction: Any, _connection: Any) -> None:
        if session is not self.test_session and session not in self.sessions:
            self.sessions.append(session)
            self.globals.append(g._get_current_object())


def closed(session: Session) -> bool:
    """Tell whether the session was closed: no transaction, nothing left in its identity map."""
    return not session.in_transaction() and len(session.identity_map) == 0


def test_each_request_opens_its_own_session_and_closes_it(
    app: Flask, client: FlaskClient, session: Session, publication_key: Any
) -> None:
    opened = Opened(app, session)
    popped: list[Any] = []
    with appcontext_popped.connected_to(lambda sender, **_: popped.append(sender), app):
        for _ in range(2):
            assert client.get("/.well-known/jwks.json").status_code == 200
            assert app.extensions["db_engine"].pool.checkedout() == 0  # the request gave its connection back

    first, second = opened.sessions
    assert first is not second and first is not session
    assert closed(first) and closed(second)
    assert all("db_session" not in request_g for request_g in opened.globals)  # the teardown ran
    assert len(popped) == 2  # each request had its app context: the test holds none open


def test_each_command_opens_its_own_session_and_closes_it(
    app: Flask, runner: FlaskCliRunner, session: Session, signing_key: Any
) -> None:
    opened = Opened(app, session)
    for _ in range(2):
        result = runner.invoke(args=["keys", "list"])
        assert result.exit_code == 0, result.output
    first, second = opened.sessions
    assert first is not second and closed(first) and closed(second)


@pytest.fixture
def probe(app: Flask) -> None:
    """Add a page that records an audit entry, then commits it or fails with a domain error."""

    def write(outcome: str) -> str:
        db = get_session()
        record(db, "test", "probe." + outcome, "probe:1")
        db.flush()  # the entry is in the request's transaction when the error comes
        if outcome == "fail":
            raise Conflict("the probe failed after writing")
        db.commit()
        return "ok"

    app.add_url_rule("/probe/<outcome>", view_func=write)


def test_a_domain_error_rolls_back_only_its_own_request(
    app: Flask, client: FlaskClient, session: Session, probe: None
) -> None:
    record(session, "test", "setup", "probe:0")
    session.commit()
    opened = Opened(app, session)

    assert client.get("/probe/commit").status_code == 200
    assert client.get("/probe/fail").status_code == 409
    assert client.get("/probe/commit").status_code == 200  # the next request starts clean

    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["setup", "probe.commit", "probe.commit"]
    assert len(set(opened.sessions)) == 3 and all(closed(s) for s in opened.sessions)


def test_a_request_sees_only_what_the_test_committed(client: FlaskClient, session: Session, probe: None) -> None:
    record(session, "test", "setup", "probe:0")
    with pytest.raises(AssertionError, match="commit the test's changes first"):
        client.get("/probe/commit")
    session.commit()
    assert client.get("/probe/commit").status_code == 200
    assert session.scalar(select(func.count(AuditEntry.id))) == 2


def test_the_test_sees_a_requests_writes_after_a_fresh_read(client: FlaskClient, session: Session, probe: None) -> None:
    entry = record(session, "test", "setup", "probe:0")
    session.commit()
    assert session.scalar(select(func.count(AuditEntry.id))) == 1  # the test's read transaction is open
    assert client.get("/probe/commit").status_code == 200  # ...and ends before the request, as it must
    assert session.scalar(select(func.count(AuditEntry.id))) == 2
    assert entry.action == "setup"


def test_each_request_chooses_its_own_language_and_user(client: FlaskClient, auth: Any) -> None:
    """Nothing a request keeps on `g` (language, user, CSRF token) reaches the next request."""
    pages = [client.get("/", headers={"Accept-Language": lang}).get_data(as_text=True) for lang in ("vi", "en")]
    assert '<html lang="vi">' in pages[0] and '<html lang="en">' in pages[1]

    first, second = auth.user("administrator"), auth.user("inspector")
    for user in (first, second):
        assert auth.login(user.email).status_code == 302
        assert user.email in client.get("/office/", follow_redirects=True).get_data(as_text=True)
        assert auth.logout().status_code == 302


def test_a_pooled_connection_the_server_ended_is_replaced_without_an_error(app: Flask, database_url: str) -> None:
    """PostgreSQL restarted or ended a session while it sat in the pool: the next request still answers.

    The pool pings each connection it hands out (make_engine's pool_pre_ping) and replaces a dead one: without
    the ping the request meets the dead connection and answers 500 (checked by turning it off).
    """
    engine = app.extensions["db_engine"]
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no server to end a session")
    client = app.test_client()
    look_up = "/api/v1/verify?code=not-a-stamp"  # reads the key ring and records the scan: the database
    assert client.get(look_up).status_code == 200  # the request's connection is now in the pool
    assert engine.pool.checkedin() >= 1
    other = make_engine(database_url)
    with other.connect() as connection:
        ended = connection.exec_driver_sql(
            "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        ).scalar_one()
    other.dispose()
    assert ended >= 1
    for _ in range(3):
        assert client.get(look_up).status_code == 200
