"""`traceability backup` and `restore`, end to end on the test database (SQLite, or PostgreSQL in its pass).

An instance with producers, products, batches in every state, scans, a compromised key and signed
checkpoints is backed up; the backup is restored into a fresh database and a fresh key folder; an app over
the restored instance must answer every stamp and every ledger request byte for byte as the original does.
"""

from __future__ import annotations

import csv
import json
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from flask import Flask
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from tests.conftest import Client, CliRunner, database_beside
from traceability import create_app
from traceability.db import make_engine
from traceability.operations.backup import CHECKSUMS, FORMAT, MANIFEST

PUBLIC_PATHS = [
    "/api/v1/ledger/checkpoint",
    "/api/v1/ledger/key",
    "/api/v1/ledger/entries?start=0",
    "/api/v1/ledger/proof/consistency?first=1",
    "/.well-known/jwks.json",
]


def _stamp_urls(runner: Any, tmp_path: Path, product: str, *args: str) -> tuple[int, list[str]]:
    path = tmp_path / f"{uuid4().hex}.csv"
    result = runner.invoke(args=["batch", "issue", "--product", product, "--quantity", "4", "--csv", str(path), *args])
    assert result.exit_code == 0, result.output
    batch = int(result.output.split("Issued batch ", 1)[1].split(":", 1)[0])
    with path.open(encoding="utf-8") as handle:
        return batch, [row["url"] for row in csv.DictReader(handle)]


@pytest.fixture
def instance(app: Flask, runner: Any, client: Any, factory: Any, signing_key: Any, tmp_path: Path) -> dict[str, Any]:
    """Build an instance worth restoring and return its stamp URLs and batch ids."""
    factory.product("NT-SP01")
    trusted, urls = _stamp_urls(runner, tmp_path, "NT-SP01", "--activate")
    waiting, more = _stamp_urls(runner, tmp_path, "NT-SP01")
    revoked, gone = _stamp_urls(runner, tmp_path, "NT-SP01", "--activate")
    assert runner.invoke(args=["batch", "revoke", str(revoked), "--reason", "recalled"]).exit_code == 0
    # The stamp key leaks now: batches before stay trusted, a new key signs the next one.
    leaked = runner.invoke(
        args=["keys", "compromise", str(signing_key.id), "--at", datetime.now(UTC).isoformat(), "--note", "leaked"]
    )
    assert leaked.exit_code == 0, leaked.output
    fresh, newer = _stamp_urls(runner, tmp_path, "NT-SP01", "--activate")
    forged = urls[0][:-1] + ("0" if urls[0][-1] != "0" else "1")
    stamps = [*urls, *more, *gone, *newer, forged]
    for url in stamps:  # scans recorded before the backup
        assert client.get("/api/v1/verify", query_string={"code": url}).status_code == 200
    return {"stamps": stamps, "batches": [trusted, waiting, revoked, fresh]}


@pytest.fixture
def restore_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """Return a fresh, empty database beside the test database (dropped afterwards)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"{url.database}_restore_{uuid4().hex[:8]}"
    server = make_engine(url.set(database="postgres").render_as_string(hide_password=False))
    try:
        yield database_beside(database_url, name)
    finally:
        with server.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture
def restored_app(app_config: dict[str, Any], restore_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Return an app over the fresh database and an empty key folder, as a new server would start."""
    application = create_app({**app_config, "DATABASE_URL": restore_url, "KEYS_DIR": str(tmp_path / "new-keys")})
    application.test_client_class = Client
    application.test_cli_runner_class = CliRunner
    yield application
    application.extensions["db_engine"].dispose()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_restored_instance_verifies_and_publishes_exactly_as_the_original(
    app: Flask, runner: Any, client: Any, instance: dict[str, Any], restored_app: Flask, tmp_path: Path
) -> None:
    backup = tmp_path / "backup"
    made = runner.invoke(args=["backup", str(backup)])
    assert made.exit_code == 0, made.output
    assert "batches: 4, ledger entries: 4" in made.output

    restored = restored_app.test_cli_runner().invoke(args=["restore", str(backup)])
    assert restored.exit_code == 0, restored.output
    assert "counts checked" in restored.output and "ocop-ed25519-1.pem" in restored.output

    # The private keys came back private, byte for byte.
    new_keys = Path(restored_app.config["KEYS_DIR"])
    old_keys = Path(app.config["KEYS_DIR"])
    assert sorted(p.name for p in new_keys.iterdir()) == sorted(p.name for p in old_keys.iterdir())
    for path in new_keys.iterdir():
        assert _mode(path) == 0o600 and path.read_bytes() == (old_keys / path.name).read_bytes()

    original, copy = client, restored_app.test_client()
    batches = instance["batches"]
    paths = [*PUBLIC_PATHS, *(f"/api/v1/ledger/proof/inclusion?batch={b}" for b in batches)]
    for path in paths:
        before, after = original.get(path), copy.get(path)
        assert before.status_code == 200, path
        assert (after.status_code, after.data) == (before.status_code, before.data), path

    verdicts = []
    for url in instance["stamps"]:
        before = original.get("/api/v1/verify", query_string={"code": url})
        after = copy.get("/api/v1/verify", query_string={"code": url})
        assert after.get_json() == before.get_json(), url  # verdict, registry data and scan history alike
        verdicts.append(before.get_json()["verdict"])
    assert set(verdicts) == {"genuine", "not_activated", "revoked", "forged"}

    # The restored instance can still sign: its keys load and the next batch is issued and checkpointed.
    next_batch = restored_app.test_cli_runner().invoke(
        args=["batch", "issue", "--product", "NT-SP01", "--quantity", "1"]
    )
    assert next_batch.exit_code == 0, next_batch.output
    assert copy.get("/api/v1/ledger/checkpoint").data != original.get("/api/v1/ledger/checkpoint").data


def test_the_backup_is_private_and_describes_itself(
    app: Flask, runner: Any, instance: dict[str, Any], tmp_path: Path
) -> None:
    backup = tmp_path / "backup"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    assert _mode(backup) == 0o700 and _mode(backup / "keys") == 0o700
    assert all(_mode(path) == 0o600 for path in backup.rglob("*") if path.is_file())
    manifest = json.loads((backup / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["format"] == FORMAT
    database = manifest["database"]
    assert database["revision"] and database["rows"]["batches"] == 4 and database["rows"]["scans"] > 0
    assert [(k["id"], k["purpose"], k["status"]) for k in database["keys"]] == [
        (1, "stamp", "compromised"),
        (2, "publication", "active"),
        (3, "stamp", "active"),
    ]
    assert sorted(manifest["files"]) == sorted(
        [database["file"], "keys/ocop-ed25519-1.pem", "keys/ocop-publication-2.pem", "keys/ocop-ed25519-3.pem"]
    )
    sums = (backup / CHECKSUMS).read_text(encoding="utf-8").splitlines()
    assert sorted(line.split("  ")[1] for line in sums) == sorted(manifest["files"])  # `sha256sum -c` reads it
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_backup_refuses_a_folder_that_is_not_empty(app: Flask, runner: Any, signing_key: Any, tmp_path: Path) -> None:
    target = tmp_path / "used"
    target.mkdir()
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 1 and "is not an empty folder" in result.output
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


def test_restore_refuses_a_database_with_tables(
    app: Flask, runner: Any, signing_key: Any, tmp_path: Path, app_config: dict[str, Any]
) -> None:
    backup = tmp_path / "backup"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    over_itself = create_app({**app_config, "KEYS_DIR": str(tmp_path / "empty-keys")})
    try:
        result = over_itself.test_cli_runner().invoke(args=["restore", str(backup)])
    finally:
        over_itself.extensions["db_engine"].dispose()
    assert result.exit_code == 1
    assert "is not empty" in result.output and "never overwrites" in result.output
    assert not (tmp_path / "empty-keys").exists() or not list((tmp_path / "empty-keys").iterdir())


def test_restore_refuses_a_key_folder_with_keys(
    app: Flask, runner: Any, signing_key: Any, restored_app: Flask, tmp_path: Path
) -> None:
    backup = tmp_path / "backup"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    keys = Path(restored_app.config["KEYS_DIR"])
    keys.mkdir(mode=0o700)
    (keys / "ocop-ed25519-1.pem").write_bytes(b"another instance's key")
    os.chmod(keys / "ocop-ed25519-1.pem", 0o600)
    result = restored_app.test_cli_runner().invoke(args=["restore", str(backup)])
    assert result.exit_code == 1
    assert "already holds key files (ocop-ed25519-1.pem)" in result.output and "never replaces a key" in result.output
    assert (keys / "ocop-ed25519-1.pem").read_bytes() == b"another instance's key"
    with restored_app.extensions["db_engine"].connect() as connection:  # nothing was restored either
        assert inspect(connection).get_table_names() == []


@pytest.mark.parametrize("damaged", ["database", "key"])
def test_restore_refuses_a_changed_backup(
    app: Flask, runner: Any, signing_key: Any, restored_app: Flask, tmp_path: Path, damaged: str
) -> None:
    backup = tmp_path / "backup"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    manifest = json.loads((backup / MANIFEST).read_text(encoding="utf-8"))
    name = manifest["database"]["file"] if damaged == "database" else "keys/ocop-ed25519-1.pem"
    with (backup / name).open("ab") as handle:
        handle.write(b"\n")
    result = restored_app.test_cli_runner().invoke(args=["restore", str(backup)])
    assert result.exit_code == 1
    assert f"{name} does not match its SHA-256 in the manifest" in result.output
    assert not Path(restored_app.config["KEYS_DIR"]).exists()


def test_restore_refuses_a_folder_that_is_not_a_backup(restored_app: Flask, tmp_path: Path) -> None:
    result = restored_app.test_cli_runner().invoke(args=["restore", str(tmp_path)])
    assert result.exit_code == 1 and f"{tmp_path} is not a backup: it has no manifest.json" in result.output


def test_restore_warns_when_the_passphrase_does_not_open_the_active_keys(
    app: Flask, runner: Any, signing_key: Any, app_config: dict[str, Any], restore_url: str, tmp_path: Path
) -> None:
    backup = tmp_path / "backup"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    settings = {**app_config, "DATABASE_URL": restore_url, "KEYS_DIR": str(tmp_path / "new-keys")}
    elsewhere = create_app({**settings, "KEYS_PASSPHRASE": "not the one these keys were written with"})
    try:
        result = elsewhere.test_cli_runner().invoke(args=["restore", str(backup)])
    finally:
        elsewhere.extensions["db_engine"].dispose()
    assert result.exit_code == 0, result.output
    assert "Warning: " in result.output and "ocop-ed25519-1.pem is encrypted and KEYS_PASSPHRASE" in result.output
