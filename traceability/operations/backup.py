"""Back up and restore one instance: its database and its private key files, described by a manifest.

A backup is a directory (mode 0700) holding the database (PostgreSQL: a `pg_dump --format=custom`
archive; SQLite: a copy made by SQLite's online backup API), the key files exactly as `KEYS_DIR` holds them
(mode 0600, still encrypted with `KEYS_PASSPHRASE`, which is never in a backup), `manifest.json` (format,
time, schema revision, keys, row counts, SHA-256 of every file) and `SHA256SUMS` for `sha256sum -c`.
Restoring refuses a target database with tables or a target key folder with key files, checks every hash
first, and compares the restored row counts with the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import URL, make_url

from traceability.db import make_engine, private_database_files
from traceability.errors import DomainError
from traceability.schema import alembic_config
from traceability.stamps.keystore import PREFIXES, FileKeyStore, KeyStoreError

FORMAT = "ocop-backup/v1"
MANIFEST = "manifest.json"
CHECKSUMS = "SHA256SUMS"
KEYS_FOLDER = "keys"
DATABASE_FILES = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
# What a manifest may name: the database file or a key file under keys/, never a path outside the backup.
KEY_FILE = re.compile(r"^keys/(" + "|".join(re.escape(p) for p in PREFIXES.values()) + r")[1-9][0-9]{0,4}\.pem$")
TOOL_VERSION = re.compile(r"\(PostgreSQL\) (\d+)(?:\.(\d+))?")
CHUNK = 1 << 20


class BackupError(DomainError):
    """A backup cannot be written or restored; the message tells the operator why (English, command line)."""

    status = 500
    code = "backup"


@dataclass(frozen=True)
class Restored:
    """What a restore put back, and what the operator still has to do."""

    manifest: dict[str, Any]
    key_files: list[str]
    warnings: list[str] = field(default_factory=list)


def dialect_of(database_url: str) -> str:
    """Return "postgresql" or "sqlite" for a database URL; refuse any other database."""
    name = make_url(database_url).get_backend_name()
    if name not in DATABASE_FILES:
        raise BackupError("backups support PostgreSQL and SQLite, not %(name)s", params={"name": name})
    return name


def sha256_file(path: Path) -> str:
    """Return the SHA-256 of a file, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --- writing a backup ---------------------------------------------------------------------------------------


def create_backup(
    database_url: str, keys_dir: str | os.PathLike[str], destination: Path, now: datetime
) -> dict[str, Any]:
    """Write a backup of the database and the key files into destination (new, or an empty folder)."""
    dialect = dialect_of(database_url)
    destination = Path(destination)
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise BackupError("%(path)s exists and is not an empty folder; choose a new one", params={"path": destination})
    destination.parent.mkdir(parents=True, exist_ok=True)
    # Written into a private sibling, renamed into place only when complete: no half backup ever looks whole.
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.partial-", dir=destination.parent))
    try:
        os.chmod(staging, 0o700)
        database_file = staging / DATABASE_FILES[dialect]
        if dialect == "postgresql":
            database = _dump_postgresql(database_url, database_file)
        else:
            database = _copy_sqlite(database_url, database_file)
        # The key files after the database: a key is saved before the row that names it commits, so every
        # key the dumped database knows is already on disk here.
        key_files = _copy_key_files(Path(keys_dir), staging / KEYS_FOLDER)
        database["file"] = database_file.name
        files = [database_file.name, *key_files]
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": now.isoformat(),
            "database": database,
            "key_files": key_files,
            "files": {
                name: {"sha256": sha256_file(staging / name), "bytes": (staging / name).stat().st_size}
                for name in files
            },
        }
        missing = [key for key in database["keys"] if f"{KEYS_FOLDER}/{key['file']}" not in key_files]
        manifest["keys_without_private_file"] = [key["id"] for key in missing]
        _write_private(staging / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        sums = "".join(f"{entry['sha256']}  {name}\n" for name, entry in manifest["files"].items())
        _write_private(staging / CHECKSUMS, sums)
        if destination.exists():
            destination.rmdir()  # the empty folder the operator named
        staging.rename(destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def _write_private(path: Path, content: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(content)


def _key_file_name(key_id: int, purpose: str) -> str:
    return f"{PREFIXES[purpose]}{key_id}.pem"


def _copy_key_files(keys_dir: Path, target: Path) -> list[str]:
    """Copy every private key file, byte for byte (still encrypted), mode 0600; return their backup paths."""
    target.mkdir(mode=0o700)
    store = FileKeyStore(keys_dir)
    copied = []
    for purpose in PREFIXES:
        for key_id in store.ids(purpose) if keys_dir.is_dir() else []:
            name = _key_file_name(key_id, purpose)
            _copy_private(store.path(key_id, purpose), target / name)
            copied.append(f"{KEYS_FOLDER}/{name}")
    return sorted(copied)


def _copy_private(source: Path, target: Path) -> None:
    """Copy a file to a new file created 0600 (never through the umask, never over an existing file)."""
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out, source.open("rb") as handle:
        shutil.copyfileobj(handle, out)


def _inventory(connection: Connection) -> dict[str, Any]:
    """Return the schema revision, the registered keys and every table's row count, as one snapshot sees them."""
    heads = sorted(MigrationContext.configure(connection).get_current_heads())
    if not heads:
        raise BackupError("the database has no schema revision: run 'traceability init' first")
    quote = connection.dialect.identifier_preparer.quote
    tables = sorted(inspect(connection).get_table_names())
    # Table names from the database's own catalogue, quoted as identifiers: no outside text reaches the SQL.
    counts = {name: connection.execute(text(f"SELECT count(*) FROM {quote(name)}")).scalar_one() for name in tables}  # noqa: S608
    rows = connection.execute(text("SELECT id, purpose, status FROM signing_keys ORDER BY id")).all()
    keys = [
        {"id": key_id, "purpose": purpose, "status": status, "file": _key_file_name(key_id, purpose)}
        for key_id, purpose, status in rows
    ]
    return {"revision": heads, "keys": keys, "rows": counts}


def postgresql_target(database_url: str) -> tuple[str, dict[str, str]]:
    """Return a libpq connection URI for the PostgreSQL tools and their environment (the password in
    PGPASSWORD, never on a command line that `ps` shows)."""
    url: URL = make_url(database_url)
    environment = {**os.environ}
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), environment


def _tool(name: str) -> tuple[str, int]:
    """Return the path and major version of a PostgreSQL client tool, or explain how to get it."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            "%(tool)s is not installed: install the PostgreSQL client (Debian: apt-get install postgresql-client)",
            params={"tool": name},
        )
    output = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    match = TOOL_VERSION.search(output)
    if match is None:
        raise BackupError(
            "cannot tell the version of %(tool)s from %(output)r", params={"tool": name, "output": output}
        )
    return path, int(match.group(1))


def _run(command: list[str], environment: Mapping[str, str], tool: str) -> None:
    finished = subprocess.run(command, capture_output=True, text=True, env=dict(environment), check=False)
    if finished.returncode != 0:
        raise BackupError(
            "%(tool)s failed (exit %(code)s): %(error)s",
            params={"tool": tool, "code": finished.returncode, "error": finished.stderr.strip()},
        )


def _dump_postgresql(database_url: str, target: Path) -> dict[str, Any]:
    """Dump with pg_dump from one exported snapshot, the same the manifest's counts are read from."""
    pg_dump, tool_major = _tool("pg_dump")
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                server = int(connection.execute(text("SHOW server_version_num")).scalar_one())
                server_major = server // 10_000
                if tool_major < server_major:
                    raise BackupError(
                        "pg_dump %(tool)s cannot dump a PostgreSQL %(server)s server: install "
                        "postgresql-client-%(server)s",
                        params={"tool": tool_major, "server": server_major},
                    )
                snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                inventory = _inventory(connection)
                uri, environment = postgresql_target(database_url)
                # While this transaction stays open, pg_dump sees exactly the snapshot counted above.
                _run(
                    [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={target}", f"--dbname={uri}"],
                    environment,
                    "pg_dump",
                )
    finally:
        engine.dispose()
    os.chmod(target, 0o600)
    return {"dialect": "postgresql", "server_major": server_major, "pg_dump_major": tool_major, **inventory}


def sqlite_path(database_url: str) -> Path:
    """Return the file of a SQLite database URL; refuse an in-memory one."""
    path = make_url(database_url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        raise BackupError(
            "only a SQLite database in a file can be backed up or restored, not %(url)r", params={"url": database_url}
        )
    return Path(path)


def _copy_sqlite(database_url: str, target: Path) -> dict[str, Any]:
    """Copy the database with SQLite's online backup API (consistent while the service writes)."""
    source_path = sqlite_path(database_url)
    if not source_path.is_file():
        raise BackupError("there is no database file at %(path)s", params={"path": source_path})
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    with _sqlite(source_path) as source, _sqlite(target) as copy:
        source.backup(copy)
    return {"dialect": "sqlite", **_sqlite_inventory(target)}


@contextmanager
def _sqlite(path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(path)
    try:
        yield connection
    finally:
        connection.close()


def _sqlite_inventory(path: Path) -> dict[str, Any]:
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return _inventory(connection)
    finally:
        engine.dispose()


# --- restoring ----------------------------------------------------------------------------------------------


def read_manifest(source: Path) -> dict[str, Any]:
    """Return a backup's manifest after checking its format, its file names and every file's SHA-256."""
    path = Path(source) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(
            "%(path)s is not a backup: it has no %(manifest)s", params={"path": source, "manifest": MANIFEST}
        ) from None
    except (ValueError, UnicodeDecodeError) as error:
        raise BackupError("%(path)s is not valid JSON: %(error)s", params={"path": path, "error": error}) from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("%(path)s is not an %(format)s manifest", params={"path": path, "format": FORMAT})
    database, files = manifest.get("database"), manifest.get("files")
    if not isinstance(database, dict) or not isinstance(files, dict) or database.get("file") not in files:
        raise BackupError("%(path)s does not name its database file", params={"path": path})
    if database.get("dialect") not in DATABASE_FILES or database["file"] != DATABASE_FILES[database["dialect"]]:
        raise BackupError("%(path)s names an unknown database kind", params={"path": path})
    for name, entry in files.items():
        if name != database["file"] and not KEY_FILE.match(name):
            raise BackupError(
                "%(path)s names a file a backup never holds: %(name)r", params={"path": path, "name": name}
            )
        file = Path(source) / name
        if not file.is_file():
            raise BackupError("the backup is incomplete: %(name)s is missing", params={"name": name})
        if sha256_file(file) != entry.get("sha256"):
            raise BackupError(
                "%(name)s does not match its SHA-256 in the manifest: the backup is damaged or was changed",
                params={"name": name},
            )
    return manifest


def restore_backup(
    source: Path, database_url: str, keys_dir: str | os.PathLike[str], passphrase: str | None
) -> Restored:
    """Restore a backup into an empty database and a key folder without key files; check what was restored."""
    manifest = read_manifest(Path(source))
    database = manifest["database"]
    dialect = dialect_of(database_url)
    if database["dialect"] != dialect:
        raise BackupError(
            "this backup holds a %(backup)s database; DATABASE_URL names a %(target)s one",
            params={"backup": database["dialect"], "target": dialect},
        )
    _check_revision(database_url, database["revision"])
    keys_dir = Path(keys_dir)
    key_files = [name for name in manifest["files"] if name != database["file"]]
    _refuse_existing_keys(keys_dir)
    if dialect == "postgresql":
        pg_restore = _check_postgresql_target(database_url, database)
    else:
        _check_sqlite_target(database_url)
    archive = Path(source) / database["file"]
    if dialect == "postgresql":
        uri, environment = postgresql_target(database_url)
        # One transaction: a failure leaves the target as empty as it was. Owner and grants are this
        # server's, not the backed-up one's.
        _run(
            [
                pg_restore,
                "--exit-on-error",
                "--single-transaction",
                "--no-owner",
                "--no-privileges",
                f"--dbname={uri}",
                str(archive),
            ],
            environment,
            "pg_restore",
        )
    else:
        _restore_sqlite(archive, sqlite_path(database_url))
    restored = _restore_key_files(Path(source), key_files, keys_dir)
    counts = _restored_inventory(database_url)
    if counts["rows"] != database["rows"] or counts["keys"] != database["keys"]:
        raise BackupError(
            "the restored database differs from the manifest (rows %(restored)s, expected %(expected)s)",
            params={"restored": counts["rows"], "expected": database["rows"]},
        )
    return Restored(manifest, restored, _key_warnings(keys_dir, passphrase, manifest))


def _check_revision(database_url: str, revisions: list[str]) -> None:
    script = ScriptDirectory.from_config(alembic_config(database_url))
    for revision in revisions:
        try:
            known = script.get_revision(revision)
        except CommandError:
            known = None
        if known is None:
            raise BackupError(
                "the backup's schema revision %(revision)s is unknown to this code: restore it with the version "
                "of the service that wrote it, or a newer one",
                params={"revision": revision},
            )


def _refuse_existing_keys(keys_dir: Path) -> None:
    if not keys_dir.is_dir():
        return
    store = FileKeyStore(keys_dir)
    existing = [store.path(key_id, purpose).name for purpose in PREFIXES for key_id in store.ids(purpose)]
    if existing:
        raise BackupError(
            "KEYS_DIR %(path)s already holds key files (%(files)s); restore into an empty key folder: "
            "a restore never replaces a key",
            params={"path": keys_dir, "files": ", ".join(existing)},
        )


def _check_postgresql_target(database_url: str, database: Mapping[str, Any]) -> str:
    pg_restore, tool_major = _tool("pg_restore")
    if tool_major < int(database["pg_dump_major"]):
        raise BackupError(
            "pg_restore %(tool)s cannot read an archive of pg_dump %(dump)s: install postgresql-client-%(dump)s",
            params={"tool": tool_major, "dump": database["pg_dump_major"]},
        )
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise BackupError(
            "the database DATABASE_URL names is not empty (%(count)s tables, e.g. %(table)s); restore into a new, "
            "empty database: a restore never overwrites one",
            params={"count": len(tables), "table": sorted(tables)[0]},
        )
    return pg_restore


def _check_sqlite_target(database_url: str) -> None:
    path = sqlite_path(database_url)
    if not path.exists() or path.stat().st_size == 0:
        return
    with _sqlite(path) as connection:
        tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    if tables:
        raise BackupError(
            "the database file %(path)s is not empty; restore into a new file: a restore never overwrites one",
            params={"path": path},
        )


def _restore_sqlite(archive: Path, target: Path) -> None:
    created = not target.exists()
    private_database_files(f"sqlite:///{target}")  # created 0600 before SQLite opens it
    try:
        with _sqlite(archive) as source, _sqlite(target) as copy:
            source.backup(copy)
    except BaseException:
        if created:
            target.unlink(missing_ok=True)
        raise


def _restore_key_files(source: Path, names: list[str], keys_dir: Path) -> list[str]:
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        for name in sorted(names):
            target = keys_dir / Path(name).name
            _copy_private(source / name, target)
            written.append(target)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return [path.name for path in written]


def _restored_inventory(database_url: str) -> dict[str, Any]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return _inventory(connection)
    finally:
        engine.dispose()


def _key_warnings(keys_dir: Path, passphrase: str | None, manifest: Mapping[str, Any]) -> list[str]:
    """Say which active keys this configuration cannot sign with (no file, or a passphrase that does not open it).

    Only active keys sign; retired and compromised ones may stay under an older passphrase.
    """
    store = FileKeyStore(keys_dir, passphrase)
    warnings = []
    for key in manifest["database"]["keys"]:
        if key["status"] != "active":
            continue
        if not store.has(key["id"], key["purpose"]):
            warnings.append(f"the active {key['purpose']} key {key['id']} has no private key file in the backup")
            continue
        try:
            store.load(key["id"], key["purpose"])
        except KeyStoreError as error:
            warnings.append(error.message)
    return warnings
