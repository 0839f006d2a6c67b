"""The SQLite database and its journals are readable by their owner only: they hold secrets."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from traceability.db import make_engine
from traceability.schema import upgrade_database


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """Run as a default server would: files come out 0644 unless the code says otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def modes(path: Path) -> dict[str, int]:
    names = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
    return {name.name: stat.S_IMODE(name.stat().st_mode) for name in names if name.exists()}


def test_a_new_database_and_its_wal_files_are_0600(tmp_path: Path) -> None:
    path = tmp_path / "ocop.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE secrets (value TEXT)"))
        connection.execute(text("INSERT INTO secrets VALUES ('batch secret')"))
    found = modes(path)
    engine.dispose()
    assert set(found) == {"ocop.sqlite3", "ocop.sqlite3-wal", "ocop.sqlite3-shm"}
    assert set(found.values()) == {0o600}, {name: oct(mode) for name, mode in found.items()}


def test_an_existing_readable_database_is_narrowed(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    found = modes(path)
    engine.dispose()
    assert set(found.values()) == {0o600}


def test_init_creates_the_database_0600(tmp_path: Path) -> None:
    path = tmp_path / "init.sqlite3"
    upgrade_database(f"sqlite:///{path}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
