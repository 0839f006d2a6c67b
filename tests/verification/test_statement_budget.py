"""The work one verification does, counted (never timed): SQL statements per look-up, no lazy loads from
templates, and the bound on how long cached registry facts may be stale."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import ORMExecuteState, Session

from tests.verification.conftest import Issued
from traceability.db import make_engine
from traceability.verification import facts
from traceability.verification.models import Scan

# A warm worker reads a stamp in one statement and records the scan in a second.
WARM_BUDGET = 2
# A cold one also reads the key ring (1), the product with its producer, areas and certifications (3) and,
# for the page, the product's approved photo (1).
COLD_BUDGET = 7


class Statements:
    """The SQL statements an engine runs, and the lazy loads any session issues, while it listens."""

    def __init__(self) -> None:
        self.sql: list[str] = []
        self.lazy: list[str] = []

    def clear(self) -> None:
        self.sql.clear()
        self.lazy.clear()

    def executed(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE: PostgreSQL's BEGIN is no statement here
            self.sql.append(" ".join(statement.split())[:80])

    def orm(self, state: ORMExecuteState) -> None:
        if state.is_select and state.lazy_loaded_from is not None:
            self.lazy.append(str(state.lazy_loaded_from.class_.__name__))


@pytest.fixture
def statements(app: Flask) -> Iterator[Statements]:
    counter = Statements()
    engine = app.extensions["db_engine"]
    event.listen(engine, "before_cursor_execute", counter.executed)
    event.listen(Session, "do_orm_execute", counter.orm)
    yield counter
    event.remove(Session, "do_orm_execute", counter.orm)
    event.remove(engine, "before_cursor_execute", counter.executed)


def _page(client: FlaskClient, issued: Issued, sequence: int) -> None:
    response = client.get("/v/" + issued.url(sequence).rsplit("/", 1)[1])
    assert response.status_code == 200
    assert "Nho xanh Ninh Thuận" in response.get_data(as_text=True)


def _api(client: FlaskClient, issued: Issued, sequence: int) -> None:
    response = client.get("/api/v1/verify", query_string={"code": issued.url(sequence)})
    assert response.status_code == 200
    body = response.get_json()
    assert body["verdict"] == "genuine" and body["material_areas"][0]["code"] == "NT-A01"
    assert body["producer"]["code"] == "NT-P01" and body["certification"]["stars"] == 4


@pytest.mark.parametrize("look_up", [_page, _api], ids=["page", "api"])
def test_a_warm_verification_reads_once_and_writes_the_scan_once(
    client: FlaskClient, issued: Issued, statements: Statements, session: Session, look_up: Any
) -> None:
    look_up(client, issued, 0)  # the worker's first look-up fills its cache
    statements.clear()
    look_up(client, issued, 1)
    assert len(statements.sql) <= WARM_BUDGET, statements.sql
    assert [s.split()[0] for s in statements.sql] == ["SELECT", "INSERT"], statements.sql
    assert statements.lazy == []
    # Each answered look-up was committed before the answer: the test's own session sees both scans.
    assert session.scalar(select(func.count(Scan.id))) == 2


def _revisit(client: FlaskClient, issued: Issued, sequence: int) -> None:
    """Open the page, then come back to it as its province form does: the same look-up, no new scan."""
    token = issued.url(sequence).rsplit("/", 1)[1]
    first = client.get("/v/" + token).get_data(as_text=True)
    ref = re.search(r'name="ref" value="([^"]+)"', first)
    assert ref is not None
    response = client.get("/v/" + token, query_string={"seen": ref.group(1)})
    assert response.status_code == 200 and "Nho xanh Ninh Thuận" in response.get_data(as_text=True)


@pytest.mark.parametrize("look_up", [_page, _api, _revisit], ids=["page", "api", "revisit"])
def test_on_postgresql_a_look_up_sends_no_begin_and_no_commit(
    app: Flask, client: FlaskClient, issued: Issued, session: Session, look_up: Any
) -> None:
    """The read and the scan's INSERT each commit as they run (db.one_write): two round trips fewer."""
    engine = app.extensions["db_engine"]
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: on SQLite BEGIN IMMEDIATE is what makes concurrent writers wait")
    autocommit: list[tuple[str, bool]] = []

    def executed(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        autocommit.append((statement.split()[0], conn.connection.driver_connection.autocommit))

    look_up(client, issued, 0)
    event.listen(engine, "before_cursor_execute", executed)
    try:
        look_up(client, issued, 1)
    finally:
        event.remove(engine, "before_cursor_execute", executed)
    # psycopg sends BEGIN before a statement on a connection out of autocommit, and COMMIT at the end (or a
    # ROLLBACK, after which it drops its prepared statements).
    if look_up is _revisit:  # the first visit, then the way back: the scan it made, read by its id
        assert autocommit == [("SELECT", True), ("INSERT", True), ("SELECT", True), ("SELECT", True)]
    else:
        assert autocommit == [("SELECT", True), ("INSERT", True)]
    session.rollback()
    assert engine.pool.checkedout() == 0  # the request gave its connection back
    with engine.connect() as connection:  # out of autocommit again, for the next request's transaction
        assert connection.connection.driver_connection.autocommit is False
    # Each answered scan is durable; the way back from the form records none.
    assert session.scalar(select(func.count(Scan.id))) == 2


@pytest.mark.parametrize("look_up", [_page, _api], ids=["page", "api"])
def test_with_the_cache_off_every_look_up_stays_within_the_cold_budget_and_loads_nothing_lazily(
    app_config: dict[str, Any], issued: Issued, look_up: Any
) -> None:
    from traceability import create_app

    app = create_app({**app_config, "VERIFY_CACHE_SECONDS": 0})
    counter = Statements()
    event.listen(app.extensions["db_engine"], "before_cursor_execute", counter.executed)
    event.listen(Session, "do_orm_execute", counter.orm)
    try:
        for sequence in range(3):
            counter.clear()
            look_up(app.test_client(), issued, sequence)
            assert len(counter.sql) <= COLD_BUDGET, counter.sql
            assert counter.lazy == []
    finally:
        event.remove(Session, "do_orm_execute", counter.orm)
        app.extensions["db_engine"].dispose()


def test_the_page_of_a_serial_and_of_a_revisit_stay_within_budget(
    client: FlaskClient, issued: Issued, statements: Statements
) -> None:
    from traceability.stamps.batches import serial_of

    _page(client, issued, 0)
    statements.clear()
    response = client.get("/serial", query_string={"s": serial_of(issued.batch, 2)})
    assert response.status_code == 200
    assert len(statements.sql) <= WARM_BUDGET and statements.lazy == []


def test_an_office_change_in_this_process_shows_at_once(client: FlaskClient, issued: Issued, session: Session) -> None:
    from traceability.registry.models import CertificationStatus

    _api(client, issued, 0)
    certification = issued.batch.product.certifications[0]
    certification.status = CertificationStatus.REVOKED
    session.commit()
    body = client.get("/api/v1/verify", query_string={"code": issued.url(1)}).get_json()
    assert body["verdict"] == "certificate_expired" and body["certification"]["status"] == "revoked"


def test_a_change_from_another_process_shows_within_verify_cache_seconds(
    app: Flask, client: FlaskClient, issued: Issued, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(facts.time, "monotonic", lambda: now[0])
    _api(client, issued, 0)
    other = make_engine(database_url)  # another process's connection: no session of this one sees the write
    with other.begin() as connection:
        connection.execute(text("UPDATE certifications SET status = 'revoked'"))
    other.dispose()
    seconds = float(app.config["VERIFY_CACHE_SECONDS"])
    now[0] += seconds - 1
    assert client.get("/api/v1/verify", query_string={"code": issued.url(1)}).get_json()["verdict"] == "genuine"
    now[0] += 2
    body = client.get("/api/v1/verify", query_string={"code": issued.url(2)}).get_json()
    assert body["verdict"] == "certificate_expired"
