"""`traceability ledger export|verify`, and the two real issuing paths (office approval, CLI) appending entries."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.ledger.conftest import ORIGIN
from traceability.ledger.checkpoint import sign_checkpoint, verifier_key
from traceability.ledger.models import LedgerCheckpoint, LedgerRecord
from traceability.stamps import batches, ledger_entries
from traceability.stamps.batches import BatchOptions
from traceability.stamps.keys import active_publication_key
from traceability.stamps.models import Batch


@pytest.fixture
def exported(runner: Any, session: Session, issue: Callable[..., Batch], tmp_path: Path) -> dict[str, Any]:
    """Issue three batches, export the ledger, and return paths and the verifier key."""
    for quantity in (3, 4, 5):
        issue(quantity)
    key = ledger_entries.verifier_keys(session, ORIGIN)[0]
    session.commit()
    path = tmp_path / "ledger.json"
    result = runner.invoke(args=["ledger", "export", str(path)])
    assert result.exit_code == 0, result.output
    return {"path": path, "key": key, "document": json.loads(path.read_text(encoding="utf-8"))}


def verify(runner: Any, *args: str) -> Any:
    return runner.invoke(args=["ledger", "verify", *args])


def test_a_good_export_verifies(runner: Any, exported: dict[str, Any], tmp_path: Path) -> None:
    document = exported["document"]
    assert document["format"] == "ocop-ledger-export/v1" and len(document["entries"]) == 3
    result = verify(runner, "--export", str(exported["path"]), "--key", exported["key"], "--database")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"OK: {ORIGIN}, 3 entries")
    key_file = tmp_path / "ledger.key"
    key_file.write_text(exported["key"] + "\n")
    assert verify(runner, "--export", str(exported["path"]), "--key", str(key_file)).exit_code == 0


def test_a_tampered_entry_fails(runner: Any, exported: dict[str, Any], tmp_path: Path) -> None:
    document = exported["document"]
    raw = bytearray(base64.b64decode(document["entries"][1]))
    raw[19] += 1  # one more stamp in batch 2 than was issued
    document["entries"][1] = base64.b64encode(bytes(raw)).decode("ascii")
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(document))
    result = verify(runner, "--export", str(path), "--key", exported["key"])
    assert result.exit_code == 1
    assert "do not hash to the checkpoint's root" in result.output


def test_a_wrong_key_fails(runner: Any, exported: dict[str, Any]) -> None:
    stranger = verifier_key(ORIGIN, Ed25519PrivateKey.generate().public_key())
    result = verify(runner, "--export", str(exported["path"]), "--key", stranger)
    assert result.exit_code == 1 and "checkpoint cannot be trusted" in result.output
    assert verify(runner, "--export", str(exported["path"])).exit_code != 0  # no key, no URL: nothing to trust


def test_an_older_checkpoint_must_be_a_prefix(
    runner: Any, session: Session, store: Any, exported: dict[str, Any], tmp_path: Path
) -> None:
    older = session.get(LedgerCheckpoint, 2)
    assert older is not None
    good = tmp_path / "older.txt"
    good.write_text(older.note, encoding="utf-8")
    args = ["--export", str(exported["path"]), "--key", exported["key"]]
    assert verify(runner, *args, "--previous", str(good)).exit_code == 0
    # The same key once signed a tree of 2 entries with another root: the log forked or was rewritten.
    publication = active_publication_key(session)
    forked = sign_checkpoint(store.load(publication.id, "publication"), ORIGIN, 2, bytes(32))
    bad = tmp_path / "forked.txt"
    bad.write_text(forked, encoding="utf-8")
    result = verify(runner, *args, "--previous", str(bad))
    assert result.exit_code == 1 and "the log was rewritten" in result.output


def test_verify_online_with_a_pinned_key(
    runner: Any, exported: dict[str, Any], session: Session, live_server: Any, tmp_path: Path
) -> None:
    older = session.get(LedgerCheckpoint, 1)
    assert older is not None
    previous = tmp_path / "older.txt"
    previous.write_text(older.note, encoding="utf-8")
    session.commit()
    result = verify(runner, "--url", live_server.url, "--key", exported["key"], "--previous", str(previous))
    assert result.exit_code == 0, result.output
    refused = verify(runner, "--url", live_server.url)  # trust on first use only over https
    assert refused.exit_code != 0 and "https" in refused.output


def test_office_approval_and_the_cli_both_append(
    auth: Any, client: Any, runner: Any, session: Session, signing_key: Any, factory: Any
) -> None:
    product = factory.product("NT-SP01", stars=4)
    requested = batches.new_request(session, product, 30, BatchOptions(), actor="p", maximum=1000, today=date.today())
    session.commit()
    auth.login(auth.user("administrator").email)
    page = f"/office/batches/{requested.id}"
    assert auth.post(f"{page}/approve", prefix="approve", form_page=page).status_code == 302
    result = runner.invoke(args=["batch", "issue", "--product", "NT-SP01", "--quantity", "12", "--json"])
    assert result.exit_code == 0, result.output
    cli_batch = json.loads(result.output)["batch"]
    rows = session.scalars(select(LedgerRecord).order_by(LedgerRecord.leaf_index)).all()
    assert [(row.leaf_index, row.batch_id) for row in rows] == [(0, requested.id), (1, cli_batch)]
    assert session.scalar(select(LedgerCheckpoint.note).where(LedgerCheckpoint.tree_size == 2)).startswith(ORIGIN)


def test_database_check_names_a_batch_changed_after_its_entry(
    runner: Any, session: Session, exported: dict[str, Any]
) -> None:
    first = session.scalars(select(Batch).order_by(Batch.id)).first()
    assert first is not None
    session.execute(text("UPDATE batches SET stars = 5 WHERE id = :id"), {"id": first.id})
    session.commit()
    result = verify(runner, "--export", str(exported["path"]), "--key", exported["key"], "--database")
    assert result.exit_code == 1 and f"entry 0: batch {first.id} differs in stars" in result.output


def test_pages_and_a_checkpoint_verify_and_garbage_fails_cleanly(
    runner: Any, client: Any, exported: dict[str, Any], tmp_path: Path
) -> None:
    checkpoint, page = tmp_path / "checkpoint.txt", tmp_path / "page.json"
    checkpoint.write_text(client.get("/api/v1/ledger/checkpoint").get_data(as_text=True), encoding="utf-8")
    page.write_text(client.get("/api/v1/ledger/entries?start=0").get_data(as_text=True), encoding="utf-8")
    args = ["--checkpoint", str(checkpoint), "--entries", str(page), "--key", exported["key"]]
    assert verify(runner, *args).exit_code == 0
    garbage = tmp_path / "garbage.json"
    garbage.write_text("not json")
    result = verify(runner, "--export", str(garbage), "--key", exported["key"])
    assert result.exit_code == 1 and "cannot read the ledger" in result.output
    assert verify(runner, "--export", str(exported["path"]), "--url", "https://x.example").exit_code != 0
