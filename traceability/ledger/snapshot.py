"""The ledger as an offline verifier carries it: every entry and the signed checkpoint that covers them. Pure.

Document (JSON), written by `traceability ledger export` and carried inside the revocation bundle's payload
under "ledger":

    {"format": "ocop-ledger-export/v1",
     "origin": "<the log's origin line>",
     "checkpoint": "<the C2SP signed note, whole>",
     "entries": ["<base64 of entry 0's canonical bytes>", "... in leaf order, as many as the checkpoint's size"]}

`open_export` is the verifier's side: it trusts nothing in the document but what the pinned publication keys
signed (the checkpoint) and what hashes to that checkpoint's root (the entries).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from traceability.errors import ValidationError
from traceability.i18n import N_
from traceability.ledger.checkpoint import Checkpoint, NoteError, open_checkpoint, verifier
from traceability.ledger.entries import EntryRejected, LedgerEntry, decode_entry
from traceability.ledger.merkle import leaf_hash, root_hash

EXPORT_FORMAT = "ocop-ledger-export/v1"


def export_document(origin: str, checkpoint: str, entries: Sequence[bytes]) -> dict[str, Any]:
    """Return the export document for a checkpoint note and the canonical bytes of every entry it covers."""
    return {
        "format": EXPORT_FORMAT,
        "origin": origin,
        "checkpoint": checkpoint,
        "entries": [base64.b64encode(entry).decode("ascii") for entry in entries],
    }


class SnapshotRejected(ValidationError):
    """A ledger export that cannot be trusted as given: bad shape, bad checkpoint signature or a wrong root."""

    code = "ledger_snapshot_invalid"


@dataclass(frozen=True)
class LedgerSnapshot:
    """An opened, verified ledger export: its checkpoint and every entry, indexed by batch id."""

    origin: str
    checkpoint: Checkpoint
    entries: Mapping[int, LedgerEntry]
    leaf_hashes: Sequence[bytes] = ()

    @property
    def size(self) -> int:
        """Return the tree size the signed checkpoint covers."""
        return self.checkpoint.size

    def entry(self, batch_id: int) -> LedgerEntry | None:
        """Return the entry of a batch, or None if the ledger never recorded it."""
        return self.entries.get(batch_id)

    def root_at(self, size: int) -> bytes | None:
        """Return the root of the tree of this ledger's first `size` entries (None past its size): a verifier
        that remembers an older checkpoint's root checks that this ledger extends it, not a fork of it."""
        return root_hash(self.leaf_hashes[:size]) if 0 <= size <= len(self.leaf_hashes) else None


_FIELDS = {"format", "origin", "checkpoint", "entries"}


def open_export(document: Any, public_keys: Iterable[Ed25519PublicKey | bytes]) -> LedgerSnapshot:
    """Verify an export document against pinned publication keys and return the snapshot it holds.

    Strict: exactly the four members, the known format, a checkpoint for the document's origin that one of the
    keys (named by the origin, as C2SP signed notes name them) signed, canonical base64 entries that decode,
    as many as the checkpoint's size, one per batch, whose RFC 9162 root is the checkpoint's root.
    """
    if not isinstance(document, Mapping) or set(document) != _FIELDS:
        raise SnapshotRejected(N_("a ledger export is a JSON object with format, origin, checkpoint and entries"))
    if document["format"] != EXPORT_FORMAT:
        raise SnapshotRejected(
            N_("unknown ledger export format %(format)s"), params={"format": repr(document["format"])[:80]}
        )
    origin, note, texts = document["origin"], document["checkpoint"], document["entries"]
    if not isinstance(origin, str) or not isinstance(note, str) or not isinstance(texts, list):
        raise SnapshotRejected(N_("a ledger export's origin and checkpoint are text and its entries a list"))
    try:
        verifiers = [verifier(origin, key) for key in public_keys]
        checkpoint = open_checkpoint(note, verifiers, origin=origin)
    except NoteError as error:
        raise SnapshotRejected(
            N_("the ledger checkpoint cannot be trusted: %(error)s"), params={"error": error.message}
        ) from error
    if len(texts) != checkpoint.size:
        raise SnapshotRejected(
            N_("the ledger export has %(count)s entries but its checkpoint covers %(size)s"),
            params={"count": len(texts), "size": checkpoint.size},
        )
    raw = [_entry_bytes(text, index) for index, text in enumerate(texts)]
    leaves = [leaf_hash(data) for data in raw]
    if root_hash(leaves) != checkpoint.root_hash:
        raise SnapshotRejected(N_("the ledger entries do not hash to the checkpoint's root: the export was altered"))
    entries: dict[int, LedgerEntry] = {}
    for index, data in enumerate(raw):
        try:
            entry = decode_entry(data)
        except EntryRejected as error:
            raise SnapshotRejected(
                N_("ledger entry %(index)s is malformed: %(error)s"), params={"index": index, "error": error.message}
            ) from error
        if entry.batch_id in entries:
            raise SnapshotRejected(N_("batch %(batch)s has two ledger entries"), params={"batch": entry.batch_id})
        entries[entry.batch_id] = entry
    return LedgerSnapshot(origin=origin, checkpoint=checkpoint, entries=entries, leaf_hashes=tuple(leaves))


def _entry_bytes(text: Any, index: int) -> bytes:
    """Return the bytes of one entry's base64 (standard alphabet, padded, canonical) or refuse it."""
    try:
        if not isinstance(text, str) or not text.isascii():
            raise ValueError(text)
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if not data or base64.b64encode(data).decode("ascii") != text:
        raise SnapshotRejected(N_("ledger entry %(index)s is not canonical base64"), params={"index": index})
    return data
