"""Fixtures: a real database per test run (SQLite file, or PostgreSQL via TEST_DATABASE_URL), wiped
between tests; an app, client and CLI runner whose requests and commands each open and close their own
session, as in production; the test's own session beside them; small factories for registry records."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import event, make_url, text
from sqlalchemy.orm import ORMExecuteState, Session
from werkzeug.test import TestResponse

from traceability import create_app
from traceability.db import make_engine
from traceability.ledger import ddl as ledger_ddl
from traceability.models import Base
from traceability.schema import upgrade_database
from traceability.verification import claim_triggers

BASE_URL = "https://ocop.example.vn"

pytest_plugins = ["tests.live"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that touches the database, so a second pass can run just those on PostgreSQL."""
    for item in items:
        if "database_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return the test database, upgraded once through the real migrations."""
    url = os.environ.get("TEST_DATABASE_URL") or "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")
    if url.startswith("postgresql"):
        url = _worker_database(url.replace("postgresql://", "postgresql+psycopg://", 1))
        engine = make_engine(url)
        with engine.begin() as connection:  # start clean: a crashed earlier run may have left tables
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade_database(url)
    return url


def database_beside(url: str, name: str) -> str:
    """Create the PostgreSQL database `name` on url's server if it is missing; return its URL."""
    server = make_engine(url)
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _worker_database(url: str) -> str:
    """Give each pytest-xdist worker its own PostgreSQL database beside TEST_DATABASE_URL's (test_gw0, ...).

    SQLite needs nothing: each worker has its own temporary folder.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return database_beside(url, f"{make_url(url).database}_{worker}") if worker else url


def _wipe(url: str) -> None:
    engine = make_engine(url)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            # The ledger's triggers refuse DELETE (TRUNCATE above fires none): lift them for the wipe only.
            for statement in ledger_ddl.drop_statements("sqlite") + claim_triggers.drop_statements("sqlite"):
                connection.execute(text(statement))
            for table in tables:
                connection.execute(text(f'DELETE FROM "{table}"'))
            for statement in ledger_ddl.create_statements("sqlite") + claim_triggers.create_statements("sqlite"):
                connection.execute(text(statement))
    engine.dispose()


@pytest.fixture(autouse=True)
def no_instance_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a developer's instance/config.toml out of the tests: point the app at an empty one."""
    empty = tmp_path_factory.getbasetemp() / "empty-config.toml"
    empty.touch()
    monkeypatch.setenv("TRACEABILITY_CONFIG", str(empty))


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    """Return an empty key folder for this test (tests never touch the project's keys/)."""
    path = tmp_path / "keys"
    path.mkdir(mode=0o700)
    return path


@pytest.fixture
def app_config(database_url: str, keys_dir: Path, tmp_path: Path) -> dict[str, Any]:
    """Return the configuration mapping tests pass to create_app (tests may change it first)."""
    return {
        "ENV": "testing",
        "TESTING": True,
        "DATABASE_URL": database_url,
        "KEYS_DIR": str(keys_dir),
        "PUBLIC_BASE_URL": BASE_URL,
        "SECRET_KEY": "test-secret",
        "PRINT_DIR": str(tmp_path / "prints"),
        "RATELIMIT_ENABLED": False,
    }


# The test is a second process on the database: its own `session` is not the session of any request or
# command. Before each test-client request or CLI command the test's session ends its read transaction, as
# a test talking to a separate server would have to (on SQLite every transaction begins IMMEDIATE, so the
# request would wait for it; the rollback that ends it also expires what the test had loaded in it).
# Changes the test has not committed are an error: no request would see them.


def hand_over(session: Session | None) -> None:
    """End the test session's transaction before a request or command runs in a session of its own."""
    if session is None:
        return
    if session.new or session.dirty or session.deleted or session.info.get("wrote"):
        raise AssertionError("commit the test's changes first: a request or command runs in its own session")
    session.rollback()


class Client(FlaskClient):
    """The test client; each request runs in its own app context and database session, as in production."""

    def __init__(self, *args: Any, test_session: Session | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.test_session = test_session

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        hand_over(self.test_session)
        return super().open(*args, **kwargs)


class CliRunner(FlaskCliRunner):
    """The CLI runner; each command runs in its own app context and database session, as in production."""

    def __init__(self, app: Flask, test_session: Session | None = None, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.test_session = test_session

    def invoke(self, cli: Any = None, args: Any = None, **kwargs: Any) -> Result:
        hand_over(self.test_session)
        return super().invoke(cli, args, **kwargs)


@pytest.fixture
def app(app_config: dict[str, Any], database_url: str) -> Iterator[Flask]:
    """Return an app on the test database; every table is emptied after the test."""
    from traceability.printing import jobs

    application = create_app(app_config)
    application.test_client_class = Client
    application.test_cli_runner_class = CliRunner
    yield application
    jobs.runner(application).shutdown(wait=True)  # a print job still running would race the wipe below
    application.extensions["db_engine"].dispose()
    _wipe(database_url)


@pytest.fixture
def client(app: Flask, session: Session) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask, session: Session) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """Return the test's own session, apart from every request's: commit to show a request what you made."""
    with app.extensions["db_sessionmaker"]() as test_session:
        event.listen(test_session, "after_flush", _wrote)
        event.listen(test_session, "do_orm_execute", _executed)
        event.listen(test_session, "after_commit", _settled)
        event.listen(test_session, "after_rollback", _settled)
        app.test_client_class = partial(Client, test_session=test_session)  # type: ignore[assignment]
        app.test_cli_runner_class = partial(CliRunner, test_session=test_session)  # type: ignore[assignment]
        yield test_session


def _wrote(session: Session, _context: Any) -> None:
    session.info["wrote"] = True


def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info["wrote"] = True


def _settled(session: Session) -> None:
    session.info.pop("wrote", None)


@pytest.fixture
def store(app: Flask) -> Any:
    from traceability.stamps.keystore import store_from_config

    return store_from_config(app.config)


@pytest.fixture
def signing_key(session: Session, store: Any) -> Any:
    """Create and commit an active stamp key and, as `traceability init` does, a publication key after it.

    Issuing a batch needs both: the publication key signs the ledger checkpoint written with the batch.
    """
    from traceability.stamps.keys import generate_key
    from traceability.stamps.models import KeyPurpose

    key = generate_key(session, store)
    generate_key(session, store, purpose=KeyPurpose.PUBLICATION)
    session.commit()
    return key


def retire_publication_key(session: Session) -> None:
    """Retire the active publication key and commit: for tests of what happens without one."""
    from traceability.stamps.keys import active_publication_key, retire_key

    retire_key(session, active_publication_key(session).id, actor="test")
    session.commit()


@pytest.fixture
def publication_key(session: Session, signing_key: Any) -> Any:
    """Return the active publication key that the signing_key fixture created."""
    from traceability.stamps.keys import active_publication_key

    return active_publication_key(session)


class Factory:
    """Small builders for registry records, each committed so other sessions see them."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.counter = 0

    def producer(self, code: str | None = None, **overrides: Any) -> Any:
        from traceability.registry.services import ProducerData, save_producer

        self.counter += 1
        data = ProducerData(
            code=code or f"P{self.counter:03d}",
            name=overrides.pop("name", f"Hợp tác xã Nho Thái An {self.counter}"),
            short_name=overrides.pop("short_name", f"HTX Thái An {self.counter}"),
            type=overrides.pop("type", "cooperative"),
            commune=overrides.pop("commune", "Xã Nhơn Hải"),
            district=overrides.pop("district", "Huyện Ninh Hải"),
            province_code=overrides.pop("province_code", "58"),
            address_scheme=overrides.pop("address_scheme", "pre2025"),
            address_as_of=overrides.pop("address_as_of", date(2024, 3, 1)),
            **overrides,
        )
        producer = save_producer(self.session, data)
        self.session.commit()
        return producer

    def product(
        self,
        code: str | None = None,
        *,
        producer: Any = None,
        stars: int | None = 4,
        decision_date: date | None = None,
        **overrides: Any,
    ) -> Any:
        from traceability.registry.services import (
            CertificationData,
            ProductData,
            add_certification,
            save_product,
        )

        self.counter += 1
        producer = producer or self.producer()
        product = save_product(
            self.session,
            ProductData(
                code=code or f"SP{self.counter:03d}",
                name=overrides.pop("name", f"Rượu nho Thái An {self.counter}"),
                producer=producer.code,
                product_set=overrides.pop("product_set", "II.1.a"),
                **overrides,
            ),
        )
        if stars is not None:
            add_certification(
                self.session,
                product,
                CertificationData(
                    stars=stars,
                    score={3: 60, 4: 80, 5: 92}[stars],
                    decision_number=f"{self.counter}/QĐ-UBND",
                    decision_date=decision_date or date.today().replace(day=1),
                    authority="UBND tỉnh Ninh Thuận" if stars < 5 else "Bộ Nông nghiệp và Môi trường",
                    authority_level="provincial" if stars < 5 else "national",
                ),
            )
        self.session.commit()
        return product


@pytest.fixture
def factory(session: Session) -> Factory:
    return Factory(session)


# --- Accounts: users, logging in, and posting forms with their CSRF token (CSRF stays on in tests). ---

PASSWORD = "correct horse battery staple"


def csrf_token(client: FlaskClient, path: str) -> str:
    """Return a CSRF token for the client's session, read from a form on the page at path."""
    import re

    response = client.get(path, follow_redirects=True)
    match = re.search(r'<input[^>]*csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    assert match, f"no CSRF token on {path} (status {response.status_code})"
    return match.group(1)


class Auth:
    """Create users and act as them through the real login form."""

    def __init__(self, app: Flask, client: FlaskClient, session: Session) -> None:
        self.app, self.client, self.session = app, client, session

    def user(self, role: str = "producer", producer: Any = None, email: str | None = None, **kw: Any) -> Any:
        from traceability.accounts.services import create_user

        email = email or f"{role}{self.session.info.setdefault('users', 0) + 1}@ocop.example"
        self.session.info["users"] = self.session.info.get("users", 0) + 1
        user = create_user(
            self.session,
            self.app.config,
            email=email,
            role=role,
            password=kw.pop("password", PASSWORD),
            producer_code=producer.code if producer is not None else None,
            actor="test",
        )
        self.session.commit()
        return user

    def login(self, email: str, password: str = PASSWORD, client: FlaskClient | None = None) -> Any:
        client = client or self.client
        token = csrf_token(client, "/login")
        return client.post("/login", data={"email": email, "password": password, "csrf_token": token})

    def logout(self, client: FlaskClient | None = None) -> Any:
        client = client or self.client
        return client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})

    def post(
        self,
        path: str,
        data: dict[str, Any] | None = None,
        *,
        prefix: str = "",
        form_page: str | None = None,
        **kw: Any,
    ) -> Any:
        """Post a form as the logged-in user, with a token from form_page (the page the form is on)."""
        token = csrf_token(self.client, form_page or path)
        name = f"{prefix}-csrf_token" if prefix else "csrf_token"
        return self.client.post(path, data={**(data or {}), name: token}, **kw)


@pytest.fixture
def auth(app: Flask, client: FlaskClient, session: Session) -> Auth:
    return Auth(app, client, session)


@pytest.fixture
def producer_user(auth: Any, factory: Any) -> Any:
    """A logged-in producer user whose producer has one 4-star product."""
    producer = factory.producer("NT-HTX01")
    factory.product("NT-SP01", producer=producer, name="Rượu nho Thái An")
    user = auth.user("producer", producer=producer)
    auth.login(user.email)
    return user


@pytest.fixture
def english(client: FlaskClient) -> None:
    """Ask for English pages (the cookie the language switch sets), for tests that read the English msgids.

    Vietnamese is the default; tests/test_i18n_staff.py checks that the staff pages come in Vietnamese.
    """
    client.set_cookie("lang", "en")
