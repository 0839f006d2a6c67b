"""The stored ledger: an entry and a checkpoint in the very transaction that issues a batch, and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from tests.conftest import retire_publication_key
from tests.ledger.conftest import ORIGIN
from traceability.ledger import services as ledger
from traceability.ledger.checkpoint import open_checkpoint, parse_verifier_key
from traceability.ledger.entries import decode_entry
from traceability.ledger.merkle import leaf_hash, root_hash
from traceability.ledger.models import LedgerCheckpoint, LedgerRecord
from traceability.stamps import batches, ledger_entries
from traceability.stamps.batches import BatchOptions
from traceability.stamps.keys import NoPublicationKey, active_publication_key
from traceability.stamps.models import Batch, BatchStatus


def _keys(session: Session) -> list[Any]:
    return [parse_verifier_key(line) for line in ledger_entries.verifier_keys(session, ORIGIN)]


def test_each_issue_appends_its_entry_and_a_checkpoint_the_publication_key_signed(
    session: Session, issue: Callable[..., Batch]
) -> None:
    issued = [issue(quantity) for quantity in (5, 7, 9)]
    rows = session.scalars(select(LedgerRecord).order_by(LedgerRecord.leaf_index)).all()
    assert [(row.leaf_index, row.batch_id) for row in rows] == [(i, batch.id) for i, batch in enumerate(issued)]
    for row, batch in zip(rows, issued, strict=True):
        entry = decode_entry(row.entry)
        body = batches.stamp_body(batch, 0)
        assert entry.mismatches(body) == () and entry.stamp_count == batch.quantity
        assert entry.issued_at == batch.issued_at  # stored as ledger_time(now): equal to the millisecond
        assert (entry.product_code, entry.producer_code) == (batch.product.code, batch.product.producer.code)
        assert row.leaf_hash == leaf_hash(row.entry)
    checkpoints = session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.tree_size)).all()
    assert [c.tree_size for c in checkpoints] == [1, 2, 3]
    publication = active_publication_key(session)
    for checkpoint in checkpoints:
        opened = open_checkpoint(checkpoint.note, _keys(session), origin=ORIGIN)
        assert opened.size == checkpoint.tree_size and checkpoint.key_id == publication.id
        assert opened.root_hash == root_hash([row.leaf_hash for row in rows[: opened.size]])


def test_without_a_publication_key_nothing_is_issued_or_appended(
    session: Session, store: Any, signing_key: Any, factory: Any
) -> None:
    product = factory.product()
    request = batches.new_request(session, product, 10, BatchOptions(), actor="t", maximum=100, today=date.today())
    session.commit()
    retire_publication_key(session)
    with pytest.raises(NoPublicationKey):
        batches.issue(session, store, request, actor="t", today=date.today())
    session.rollback()
    assert session.get(Batch, request.id).status is BatchStatus.REQUESTED
    assert session.scalar(select(func.count()).select_from(LedgerRecord)) == 0
    assert ledger.latest_checkpoint(session) is None


def test_a_failing_issue_leaves_no_entry(session: Session, store: Any, signing_key: Any, factory: Any) -> None:
    product = factory.product()
    request = batches.new_request(session, product, 10, BatchOptions(), actor="t", maximum=100, today=date.today())
    session.commit()
    batches.issue(session, store, request, actor="t", today=date.today())
    session.flush()
    assert session.scalar(select(func.count()).select_from(LedgerRecord)) == 1  # written inside the transaction
    session.rollback()  # anything after the append failing rolls the whole issue back
    assert session.scalar(select(func.count()).select_from(LedgerRecord)) == 0
    assert ledger.latest_checkpoint(session) is None


def test_a_batch_is_recorded_once(session: Session, store: Any, issue: Callable[..., Batch]) -> None:
    batch = issue()
    signer = ledger_entries.checkpoint_signer(session, store)
    with pytest.raises(ledger.LedgerAlreadyHasBatch):
        ledger.append(session, ledger_entries.entry_for(batch), signer, ORIGIN, now=batch.issued_at)


@pytest.mark.parametrize("table", ["ledger_entries", "ledger_checkpoints"])
def test_the_database_refuses_to_change_or_delete_ledger_rows(
    app: Any, session: Session, issue: Callable[..., Batch], table: str
) -> None:
    issue()
    column = "created_at"
    for statement in (f"UPDATE {table} SET {column} = {column}", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    model = LedgerRecord if table == "ledger_entries" else LedgerCheckpoint
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(update(model).values(created_at=model.created_at))
    session.rollback()
    assert session.scalar(select(func.count()).select_from(model)) == 1


def test_the_log_keeps_the_origin_of_its_first_checkpoint(session: Session, issue: Callable[..., Batch]) -> None:
    issue()
    assert ledger.log_origin(session, "elsewhere.example/log") == ORIGIN
    assert ledger.default_origin("https://tem.ocop.vn") == "tem.ocop.vn/ocop-ledger"
    assert ledger.configured_origin({"PUBLIC_BASE_URL": "https://tem.ocop.vn", "LEDGER_ORIGIN": None}) == (
        "tem.ocop.vn/ocop-ledger"
    )
