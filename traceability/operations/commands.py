"""`traceability backup DIR` and `traceability restore DIR`: bodies call the backup module and print."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from traceability.console import fail
from traceability.db import utcnow
from traceability.errors import DomainError
from traceability.operations import backup


@click.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(directory: Path) -> None:
    """Write the database, the key files and a manifest into DIRECTORY (new or empty; mode 0700)."""
    config = current_app.config
    try:
        manifest = backup.create_backup(config["DATABASE_URL"], config["KEYS_DIR"], directory, utcnow())
    except DomainError as error:
        fail(error)
    database = manifest["database"]
    click.echo(
        f"Backed up the {database['dialect']} database (schema {', '.join(database['revision'])}, "
        f"batches: {database['rows'].get('batches', 0)}, ledger entries: {database['rows'].get('ledger_entries', 0)}) "
        f"and {len(manifest['key_files'])} key files into {directory}."
    )
    click.echo("The key files stay encrypted with KEYS_PASSPHRASE: keep the passphrase apart from the backup.")
    for key_id in manifest["keys_without_private_file"]:
        click.echo(f"Warning: key {key_id} is registered but its private key file is not in KEYS_DIR.", err=True)


@click.command("restore")
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path))
@with_appcontext
def restore_command(directory: Path) -> None:
    """Restore a backup into the empty database DATABASE_URL names and a KEYS_DIR without key files."""
    config = current_app.config
    try:
        restored = backup.restore_backup(
            directory, config["DATABASE_URL"], config["KEYS_DIR"], config.get("KEYS_PASSPHRASE")
        )
    except DomainError as error:
        fail(error)
    database = restored.manifest["database"]
    rows = database["rows"]
    click.echo(
        f"Restored the backup of {restored.manifest['created_at']}: the {database['dialect']} database at schema "
        f"{', '.join(database['revision'])} ({sum(rows.values())} rows in {len(rows)} tables, counts checked; "
        f"batches: {rows.get('batches', 0)}, ledger entries: {rows.get('ledger_entries', 0)}) and "
        f"{len(restored.key_files)} key files into {config['KEYS_DIR']} ({', '.join(restored.key_files) or 'none'})."
    )
    for warning in restored.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo("Next: 'traceability init' (upgrades the schema if this code is newer), then start the service.")
