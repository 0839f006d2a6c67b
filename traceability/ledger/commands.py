"""`traceability ledger export|verify`: write the ledger for offline verifiers, and check a ledger as an outsider."""

from __future__ import annotations

import base64
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from traceability.console import fail
from traceability.db import get_session
from traceability.errors import DomainError
from traceability.ledger import services
from traceability.ledger.checkpoint import VerifierKey, parse_verifier_key
from traceability.ledger.models import LedgerRecord
from traceability.ledger.replay import Replay, check_previous, replay
from traceability.ledger.snapshot import EXPORT_FORMAT
from traceability.stamps import ledger_entries
from traceability.stamps.models import Batch

FETCH_TIMEOUT = 30  # seconds per request to the service


@click.group("ledger")
def ledger_group() -> None:
    """The public batch ledger: export it, or verify a copy of it."""


@ledger_group.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, allow_dash=True))
@with_appcontext
def export_command(path: str) -> None:
    """Write the latest checkpoint and every entry it covers as JSON (the document offline verifiers carry)."""
    try:
        document = services.export(get_session())
    except DomainError as error:
        fail(error)
    text = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    if path == "-":
        click.echo(text, nl=False)
    else:
        Path(path).write_text(text, encoding="utf-8")
        click.echo(f"Wrote {len(document['entries'])} entries and the checkpoint to {path}.")


@ledger_group.command("verify")
@click.option("--url", "base_url", help="Fetch the ledger from this service (its PUBLIC_BASE_URL).")
@click.option("--export", "export_path", type=click.Path(exists=True, dir_okay=False), help="An export file.")
@click.option("--checkpoint", "checkpoint_path", type=click.Path(exists=True, dir_okay=False), help="A checkpoint.")
@click.option(
    "--entries",
    "entries_paths",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Pages of /api/v1/ledger/entries, in order (with --checkpoint).",
)
@click.option("--key", "key_args", multiple=True, help="Verifier key text, or a file of them one per line.")
@click.option("--previous", type=click.Path(exists=True, dir_okay=False), help="An older checkpoint to check against.")
@click.option("--database", is_flag=True, help="Also check every entry against its batch in this database.")
@with_appcontext
def verify_command(
    base_url: str | None,
    export_path: str | None,
    checkpoint_path: str | None,
    entries_paths: tuple[str, ...],
    key_args: tuple[str, ...],
    previous: str | None,
    database: bool,
) -> None:
    """Check a ledger: its checkpoint's signature, every entry, the root, and consistency with --previous.

    Without --key the verifier key is fetched from the service over https: trust on first use, weaker than a
    key pinned from the signed trust list or another channel. Exits 0 only when everything agrees.
    """
    sources = sum(bool(x) for x in (base_url, export_path, checkpoint_path))
    if sources != 1 or bool(checkpoint_path) != bool(entries_paths):
        fail("give one of --url, --export, or --checkpoint with --entries")
    try:
        keys = _keys(key_args, base_url)
        document = (
            _fetch_document(base_url) if base_url else _read_document(export_path, checkpoint_path, entries_paths)
        )
        found = replay(document, keys)
        problems = list(found.problems)
        if previous and found.checkpoint is not None:
            problems += _previous_problems(base_url, found, Path(previous).read_text(encoding="utf-8"), keys)
    except (OSError, ValueError, KeyError, TypeError, DomainError) as error:
        # A service that is down or answers garbage, or an unreadable file: one line, exit 1.
        fail(error if isinstance(error, DomainError) else f"cannot read the ledger: {error}")
    if database:
        problems += _against_database(found)
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        sys.exit(1)
    assert found.checkpoint is not None
    click.echo(
        f"OK: {found.checkpoint.origin}, {found.checkpoint.size} entries, root "
        f"{base64.b64encode(found.checkpoint.root_hash).decode('ascii')}"
    )


def _keys(args: tuple[str, ...], base_url: str | None) -> list[VerifierKey]:
    lines: list[str] = []
    for arg in args:
        path = Path(arg)
        lines += path.read_text(encoding="utf-8").split() if "+" not in arg and path.is_file() else [arg]
    if not lines:
        if not base_url:
            raise ValueError("give the verifier key with --key (from the signed trust list or /api/v1/ledger/key)")
        if urlsplit(base_url).scheme != "https":
            raise ValueError("fetching the verifier key needs https; over http pin it with --key")
        click.echo("warning: verifier key fetched from the service itself (trust on first use); pin it with --key")
        lines = _get(base_url, "/api/v1/ledger/key").decode("utf-8").split()
    return [parse_verifier_key(line) for line in lines]


def _get(base_url: str, path: str, query: dict[str, int] | None = None) -> bytes:
    url = base_url.rstrip("/") + path + (f"?{urlencode(query)}" if query else "")
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError("--url must be an http(s) URL")
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:  # noqa: S310 (scheme checked above)
        return bytes(response.read())


def _fetch_document(base_url: str) -> dict[str, Any]:
    """Fetch the checkpoint, then every entry it covers, page by page, into an export document."""
    note = _get(base_url, "/api/v1/ledger/checkpoint").decode("utf-8")
    size = int(note.split("\n")[1]) if note.count("\n") > 2 and note.split("\n")[1].isdigit() else 0
    entries: list[str] = []
    while len(entries) < size:
        end = min(size, len(entries) + services.MAX_SPAN)
        page = json.loads(_get(base_url, "/api/v1/ledger/entries", {"start": len(entries), "end": end}))
        entries += [item["entry"] for item in page["entries"]]
        if not page["entries"]:
            break
    return {"format": EXPORT_FORMAT, "origin": note.split("\n", 1)[0], "checkpoint": note, "entries": entries}


def _read_document(export_path: str | None, checkpoint_path: str | None, pages: tuple[str, ...]) -> Any:
    if export_path:
        return json.loads(Path(export_path).read_text(encoding="utf-8"))
    assert checkpoint_path is not None
    note = Path(checkpoint_path).read_text(encoding="utf-8")
    entries = [
        item["entry"] for page in pages for item in json.loads(Path(page).read_text(encoding="utf-8"))["entries"]
    ]
    return {"format": EXPORT_FORMAT, "origin": note.split("\n", 1)[0], "checkpoint": note, "entries": entries}


def _previous_problems(base_url: str | None, found: Replay, older: str, keys: list[VerifierKey]) -> list[str]:
    """Check an older checkpoint against the entries, and online also against the service's consistency proof."""
    problems = check_previous(found, older, keys)
    if problems or not base_url:
        return problems
    assert found.checkpoint is not None
    query = {"first": int(older.split("\n")[1]), "second": found.checkpoint.size}
    proof = json.loads(_get(base_url, "/api/v1/ledger/proof/consistency", query))["consistency_path"]
    return check_previous(found, older, keys, [base64.b64decode(node, validate=True) for node in proof])


def _against_database(found: Replay) -> list[str]:
    """Return the entries that disagree with the batches and stored entries of this service's database."""
    session = get_session()
    problems = []
    stored = {row.leaf_index: row for row in session.scalars(select(LedgerRecord))}
    for index, entry in enumerate(found.entries):
        row = stored.get(index)
        if row is None or row.entry != entry.encode():
            problems.append(f"entry {index}: not the entry this database holds at that index")
            continue
        wrong = ledger_entries.mismatches(session.get(Batch, entry.batch_id), row)
        if wrong:
            problems.append(f"entry {index}: batch {entry.batch_id} differs in {', '.join(wrong)}")
    return problems
