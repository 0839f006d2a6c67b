"""An issued batch as a ledger entry, appended in the transaction that issues it and signed by the publication key.

The glue between stamps and the generic ledger: the ledger imports no other domain, so what needs a Batch or the
key store lives here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from traceability.ledger import services as ledger
from traceability.ledger.entries import EntryRejected, LedgerEntry, decode_entry, ledger_time
from traceability.ledger.models import LedgerRecord
from traceability.stamps.keys import active_publication_key
from traceability.stamps.keystore import KeyStore
from traceability.stamps.models import Batch, KeyPurpose, KeyStatus, SigningKey


def entry_for(batch: Batch) -> LedgerEntry:
    """Return the ledger entry of an issued batch: what its stamps carry, who made it, how many, and when."""
    assert batch.key_id is not None and batch.stars is not None and batch.valid_until_month is not None
    assert batch.issued_at is not None
    return LedgerEntry(
        batch_id=batch.id,
        key_id=batch.key_id,
        product_ref=batch.product_id,  # what stamps.batches.stamp_body signs as the product reference
        stars=batch.stars,
        valid_until_month=batch.valid_until_month,
        first_sequence=0,
        stamp_count=batch.quantity,
        issued_at=ledger_time(batch.issued_at),
        product_code=batch.product.code,
        producer_code=batch.product.producer.code,
    )


def checkpoint_signer(session: Session, store: KeyStore) -> ledger.CheckpointSigner:
    """Return the active publication key as the checkpoint signer; raise NoPublicationKey if there is none."""
    key = active_publication_key(session)
    return ledger.CheckpointSigner(key.id, store.load(key.id, key.purpose.value))


def append_batch(
    session: Session, signer: ledger.CheckpointSigner, batch: Batch, *, now: datetime, origin: str | None = None
) -> LedgerRecord:
    """Append a just-issued batch to the ledger and sign the new checkpoint, in the caller's transaction."""
    session.flush()  # the batch needs its id before its entry can name it
    return ledger.append(session, entry_for(batch), signer, origin, now=now)


def record_issue(
    session: Session, store: KeyStore, batch: Batch, *, now: datetime, origin: str | None = None
) -> LedgerRecord:
    """Append an issued batch, signing the checkpoint with the active publication key from the store."""
    return append_batch(session, checkpoint_signer(session, store), batch, now=now, origin=origin)


def verifier_keys(session: Session, origin: str) -> list[str]:
    """Return the log's verifier key lines: the active publication key first, then retired ones (never compromised).

    Retired publication keys stay listed because the older checkpoints they signed stay valid.
    """
    keys = session.scalars(
        select(SigningKey)
        .where(SigningKey.purpose == KeyPurpose.PUBLICATION, SigningKey.status != KeyStatus.COMPROMISED)
        .order_by((SigningKey.status == KeyStatus.ACTIVE).desc(), SigningKey.id.desc())
    )
    return ledger.verifier_keys(origin, [key.public_key for key in keys])


def mismatches(batch: Batch | None, record: LedgerRecord) -> list[str]:
    """Return the fields in which a stored entry disagrees with its batch as the database holds it."""
    if batch is None or None in (batch.key_id, batch.stars, batch.valid_until_month, batch.issued_at):
        return ["batch"]
    stored = decode_entry(record.entry).as_dict()
    try:
        expected = entry_for(batch).as_dict()
    except EntryRejected:
        return ["batch"]
    return [name for name, value in stored.items() if expected[name] != value]
