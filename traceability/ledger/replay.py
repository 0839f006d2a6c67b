"""Replay a ledger export as an outside verifier would, and check an older checkpoint against it. Pure.

The export itself is checked by snapshot.open_export (signature by a pinned key, every entry, the root); this
module adds what the command-line verifier needs besides: the leaf hashes, and whether an older checkpoint is a
prefix of the newer tree. Each disagreement is one English line for the operator's terminal.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from traceability.errors import DomainError
from traceability.ledger.checkpoint import Checkpoint, VerifierKey, open_checkpoint
from traceability.ledger.entries import LedgerEntry
from traceability.ledger.merkle import leaf_hash, root_hash, verify_consistency
from traceability.ledger.snapshot import open_export


@dataclass
class Replay:
    """What a replay found: the verified checkpoint (None if the export failed), its entries in leaf order, and
    the problems."""

    checkpoint: Checkpoint | None = None
    entries: list[LedgerEntry] = field(default_factory=list)
    leaf_hashes: list[bytes] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def replay(document: Any, keys: Iterable[VerifierKey]) -> Replay:
    """Check an export document against pinned verifier keys (those named by its origin)."""
    origin = document.get("origin") if isinstance(document, Mapping) else None
    try:
        snapshot = open_export(document, [key.public_bytes for key in keys if key.name == origin])
    except DomainError as error:
        return Replay(problems=[error.message])
    return Replay(
        checkpoint=snapshot.checkpoint,
        entries=list(snapshot.entries.values()),  # in leaf order: the snapshot keeps the export's order
        leaf_hashes=[leaf_hash(base64.b64decode(text)) for text in document["entries"]],
    )


def check_previous(
    current: Replay, previous_note: str, keys: Iterable[VerifierKey], proof: Sequence[bytes] | None = None
) -> list[str]:
    """Return the problems with an older checkpoint: unsigned, another log, larger, or not a prefix of this one.

    With the entries at hand the older root is recomputed; given `proof` (a consistency path) it is checked too.
    """
    if current.checkpoint is None:
        return []
    newer = current.checkpoint
    try:
        older = open_checkpoint(previous_note, list(keys), origin=newer.origin)
    except DomainError as error:
        return [f"previous checkpoint: {error.message}"]
    if older.size > newer.size:
        return [f"the previous checkpoint ({older.size} entries) is larger than the current one ({newer.size})"]
    if root_hash(current.leaf_hashes[: older.size]) != older.root_hash:
        return [f"the log was rewritten: its first {older.size} entries no longer give the previous root"]
    if proof is not None:
        try:
            verify_consistency(older.size, newer.size, older.root_hash, newer.root_hash, proof)
        except DomainError as error:
            return [f"the log was rewritten: {error.message}"]
    return []
