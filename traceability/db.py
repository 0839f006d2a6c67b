"""Declarative base, shared column types, and the session that belongs to a request or a command."""

from __future__ import annotations

import enum
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import DateTime, Enum, MetaData, String, TypeDecorator, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

if TYPE_CHECKING:
    from flask import Flask

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_type(enum_class: type[enum.Enum]) -> Enum:
    """Store an enum by its value as a plain string column (portable, readable, easy to migrate)."""
    return Enum(
        enum_class,
        values_callable=lambda members: [m.value for m in members],
        native_enum=False,
        validate_strings=True,
        length=32,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), str: String(255)}


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def private_database_files(url: str) -> None:
    """Create a SQLite database file readable by its owner only, and narrow an existing one and its journals.

    The file holds batch secrets, password hashes and shoppers' contacts. Creating it here (0600, never
    through the umask) comes before SQLite opens it, and SQLite gives its -wal and -shm files the database
    file's own mode. No umask change: it is process-wide and would race other threads.
    """
    if not url.startswith("sqlite"):
        return
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT, 0o600))
    except OSError:
        return  # a missing folder: SQLite's own error says it better
    for name in (path, path + "-wal", path + "-shm", path + "-journal"):
        try:
            if os.stat(name).st_mode & 0o077:
                os.chmod(name, 0o600)
        except FileNotFoundError:
            continue


def _json_text(value: Any) -> str:
    # Vietnamese stays readable in JSON columns (audit before/after) for anyone reading the database itself.
    return json.dumps(value, ensure_ascii=False)


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets foreign keys and a busy timeout so concurrent writers wait."""
    if url.startswith("sqlite"):
        private_database_files(url)
        engine = create_engine(url, connect_args={"timeout": 30}, json_serializer=_json_text)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # pysqlite's own transaction handling defers BEGIN; take over so that BEGIN IMMEDIATE
            # (used for serial allocation) and foreign keys behave as on PostgreSQL.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()
            private_database_files(url)  # files an older version left readable to everyone

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=_json_text)


def init_app(app: Flask) -> None:
    """Create the engine and session factory and close the request's session on teardown."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_request_session)


def get_session() -> Session:
    """Return the session of the current request or command, opening it on first use."""
    from flask import current_app, g

    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
    session: Session = g.db_session
    return session


def rollback_request_session() -> None:
    """Roll back the current request's session, if one was opened."""
    from flask import g

    session = g.get("db_session")
    if session is not None:
        session.rollback()


def _close_request_session(_exc: BaseException | None) -> None:
    from flask import g

    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def transaction() -> Iterator[Session]:
    """Yield the current session and commit at the end, or roll back on any error."""
    session = get_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


@contextmanager
def one_write() -> Iterator[Session]:
    """Yield the current session for work whose only write is one statement: on PostgreSQL it commits as it runs.

    A verification reads its stamp in one statement and appends its scan in one INSERT: a transaction around
    them adds nothing (no statement depends on another seeing the same snapshot, and there is nothing to
    roll back), but costs two round trips, BEGIN and COMMIT, and PostgreSQL's work for each. In autocommit
    the INSERT returns only when the row is durable (synchronous_commit stays on), so an answered scan is
    never lost, and an error after it keeps the row (the look-up did happen). SQLite keeps its transaction:
    there BEGIN IMMEDIATE is what makes concurrent writers wait. More than one write here would commit them
    one by one: use transaction() for that.
    """
    session = get_session()
    if session.get_bind().dialect.name == "postgresql":
        if session.in_transaction():
            session.commit()  # the request read something first: autocommit applies from a fresh connection
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    with transaction() as same:
        yield same
