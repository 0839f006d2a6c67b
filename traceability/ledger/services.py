"""The stored ledger: append an entry and sign the new tree head, read entries, checkpoints and proofs.

Services take the session first and never commit. Appends happen inside the transaction that issues a batch,
under a lock that serialises them, so leaf indexes are dense and every committed tree size has its checkpoint.
Generic: the caller (stamps/ledger_entries.py) builds the entry from a batch and hands over the signing key.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from traceability.errors import Conflict, NotFound, ValidationError
from traceability.i18n import N_
from traceability.ledger import snapshot
from traceability.ledger.checkpoint import sign_checkpoint, verifier_key
from traceability.ledger.entries import LedgerEntry, decode_entry
from traceability.ledger.merkle import MerkleTree, leaf_hash
from traceability.ledger.models import LedgerCheckpoint, LedgerRecord

MAX_SPAN = 1000  # entries one request may read
MAX_BATCH_ID = 2**31 - 1  # batches.id is a 32-bit signed INTEGER on PostgreSQL; a larger id names no batch
ORIGIN_SUFFIX = "/ocop-ledger"
FALLBACK_ORIGIN = "ocop-ledger"  # only for a log started by a caller that named no origin (tests, scripts)
# pg_advisory_xact_lock key for appends: "OCOPLDGR" read as a big-endian signed 64-bit integer.
_APPEND_LOCK = int.from_bytes(b"OCOPLDGR", "big", signed=True)


class LedgerEmpty(NotFound):
    """Nothing has been appended yet, so there is no checkpoint to show."""

    code = "ledger_empty"


class LedgerEntryNotFound(NotFound):
    """No ledger entry for that batch."""

    code = "ledger_entry_not_found"


class LedgerRangeNotFound(NotFound):
    """Entries, a tree size or a pair of sizes the ledger does not hold (yet)."""

    code = "ledger_range_not_found"


class LedgerParameterInvalid(ValidationError):
    """A number in a ledger request that is not a whole number a database can hold."""

    code = "ledger_parameter_invalid"


class LedgerAlreadyHasBatch(Conflict):
    """The batch is in the ledger already: a batch is issued, and recorded, once."""

    code = "ledger_batch_recorded"


@dataclass(frozen=True, slots=True)
class CheckpointSigner:
    """The key that signs checkpoints: its id in signing_keys and its private half."""

    key_id: int
    private_key: Ed25519PrivateKey


@dataclass(frozen=True, slots=True)
class InclusionProof:
    leaf_index: int
    tree_size: int
    path: list[bytes]


def default_origin(public_base_url: str) -> str:
    """Return the origin a log gets when LEDGER_ORIGIN is unset: `<host of PUBLIC_BASE_URL>/ocop-ledger`."""
    host = urlsplit(public_base_url).netloc or FALLBACK_ORIGIN
    return host + ORIGIN_SUFFIX


def configured_origin(config: Mapping[str, Any]) -> str:
    """Return the origin configured for a new log: LEDGER_ORIGIN, else the default from PUBLIC_BASE_URL."""
    return str(config.get("LEDGER_ORIGIN") or default_origin(str(config["PUBLIC_BASE_URL"])))


def latest_checkpoint(session: Session) -> LedgerCheckpoint | None:
    """Return the newest signed checkpoint, or None for an empty ledger."""
    return session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.tree_size.desc()).limit(1)).first()


def latest_checkpoint_or_404(session: Session) -> LedgerCheckpoint:
    """Return the newest signed checkpoint; raise LedgerEmpty when nothing was appended yet."""
    found = latest_checkpoint(session)
    if found is None:
        raise LedgerEmpty(N_("the ledger has no entries yet"))
    return found


def log_origin(session: Session, configured: str | None) -> str:
    """Return the log's origin: the one its checkpoints carry, else the configured one for a new log.

    A log keeps the origin of its first checkpoint: verifiers pin it, so changing it later would break them.
    """
    found = latest_checkpoint(session)
    if found is not None:
        return note_origin(found.note)
    return configured or FALLBACK_ORIGIN


def note_origin(note: str) -> str:
    """Return the origin line of a stored checkpoint note (its first line)."""
    return note.split("\n", 1)[0]


def tree_size(session: Session) -> int:
    """Return the number of entries."""
    return int(session.scalar(select(func.count()).select_from(LedgerRecord)) or 0)


def merkle_tree(session: Session) -> MerkleTree:
    """Return the tree of every stored entry, built from the leaf hashes in index order."""
    return MerkleTree(list(session.scalars(select(LedgerRecord.leaf_hash).order_by(LedgerRecord.leaf_index))))


def entry_for_batch(session: Session, batch_id: int) -> LedgerRecord | None:
    """Return the ledger entry of a batch, or None if it has none."""
    if not 0 < batch_id <= MAX_BATCH_ID:
        return None
    return session.scalars(select(LedgerRecord).where(LedgerRecord.batch_id == batch_id)).first()


def append(
    session: Session, entry: LedgerEntry, signer: CheckpointSigner, origin: str | None, *, now: datetime
) -> LedgerRecord:
    """Append an entry at the next leaf index and sign the checkpoint of the new size; return the stored row."""
    _lock_appends(session)
    if entry_for_batch(session, entry.batch_id) is not None:
        raise LedgerAlreadyHasBatch(N_("batch %(batch)s is in the ledger already"), params={"batch": entry.batch_id})
    name = log_origin(session, origin)
    tree = merkle_tree(session)
    data = entry.encode()
    leaf = leaf_hash(data)
    index = tree.append(leaf)
    root = tree.root()
    note = sign_checkpoint(signer.private_key, name, tree.size, root)
    record = LedgerRecord(leaf_index=index, batch_id=entry.batch_id, entry=data, leaf_hash=leaf, created_at=now)
    session.add(record)
    session.add(LedgerCheckpoint(tree_size=tree.size, root_hash=root, note=note, key_id=signer.key_id, created_at=now))
    session.flush()
    return record


def _lock_appends(session: Session) -> None:
    # SQLite already runs every transaction BEGIN IMMEDIATE (traceability/db.py): one writer at a time.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK})


@dataclass(frozen=True, slots=True)
class EntriesPage:
    """Entries [start, end) of a ledger of tree_size entries."""

    start: int
    end: int
    tree_size: int
    records: list[LedgerRecord]


def entries(session: Session, start: int, end: int | None = None) -> EntriesPage:
    """Return entries from start, up to end, the ledger's end or MAX_SPAN of them, whichever comes first.

    As RFC 6962's get-entries, a page may hold fewer entries than asked: its `end` says where to go on.
    """
    size = tree_size(session)
    stop = min(size, start + MAX_SPAN, size if end is None else end)
    if start >= stop:
        raise LedgerRangeNotFound(
            N_("no ledger entries from %(start)s to %(end)s: the ledger has %(size)s"),
            params={"start": start, "end": size if end is None else end, "size": size},
        )
    query = select(LedgerRecord).where(LedgerRecord.leaf_index >= start, LedgerRecord.leaf_index < stop)
    return EntriesPage(start, stop, size, list(session.scalars(query.order_by(LedgerRecord.leaf_index))))


def entry_json(record: LedgerRecord) -> dict[str, Any]:
    """Return one entry for the API: its index, canonical bytes in base64 and decoded fields."""
    return {
        "index": record.leaf_index,
        "entry": base64.b64encode(record.entry).decode("ascii"),
        "fields": decode_entry(record.entry).as_dict(),
    }


def inclusion_proof(session: Session, batch_id: int, size: int | None) -> InclusionProof:
    """Return the audit path of a batch's entry in the tree of `size` entries (the whole ledger by default)."""
    record = entry_for_batch(session, batch_id)
    if record is None:
        raise LedgerEntryNotFound(N_("batch %(batch)s has no ledger entry"), params={"batch": batch_id})
    tree = merkle_tree(session)
    size = tree.size if size is None else size
    if not record.leaf_index < size <= tree.size:
        raise LedgerRangeNotFound(
            N_("entry %(index)s is not in a tree of %(size)s entries (the ledger has %(total)s)"),
            params={"index": record.leaf_index, "size": size, "total": tree.size},
        )
    return InclusionProof(record.leaf_index, size, tree.inclusion_proof(record.leaf_index, size))


def consistency_proof(session: Session, first: int, second: int) -> list[bytes]:
    """Return the path that shows the tree of `second` entries extends the tree of `first` entries."""
    tree = merkle_tree(session)
    if not 0 <= first <= second <= tree.size:
        raise LedgerRangeNotFound(
            N_("sizes %(first)s and %(second)s are not 0 <= first <= second <= %(size)s"),
            params={"first": first, "second": second, "size": tree.size},
        )
    return tree.consistency_proof(first, second)


def export(session: Session) -> dict[str, Any]:
    """Return the export document: the latest checkpoint and every entry it covers, in leaf order."""
    checkpoint = latest_checkpoint_or_404(session)
    rows = session.scalars(
        select(LedgerRecord.entry)
        .where(LedgerRecord.leaf_index < checkpoint.tree_size)
        .order_by(LedgerRecord.leaf_index)
    )
    return snapshot.export_document(note_origin(checkpoint.note), checkpoint.note, list(rows))


def verifier_keys(origin: str, public_keys: Sequence[bytes]) -> list[str]:
    """Return the verifier key lines of the log for these Ed25519 public keys, in the order given."""
    return [verifier_key(origin, key) for key in public_keys]
