"""What `traceability verify --offline` loads before it checks a code: keys, the trust list, the revocation
bundle, the ledger, and the state of the newest documents seen. Refuses anything it cannot trust, as a CLI
message (never a traceback)."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from traceability.console import fail
from traceability.db import utcnow
from traceability.ledger.snapshot import LedgerSnapshot, SnapshotRejected, open_export
from traceability.stamps.signing import JWKSError, KeyRing, keyring_from_jwks, raw_public_bytes
from traceability.verification.trustlist import (
    REVOCATIONS_CONTEXT,
    REVOCATIONS_TYPE,
    TRUST_LIST_CONTEXT,
    TRUST_LIST_TYPE,
    Revocations,
    SignedDocumentError,
    issued_at_of,
    open_document,
    read_revocations,
    read_trust_list,
)


def load_json(path: str, what: str) -> Any:
    """Return a JSON file's value, or fail naming the file."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        fail(f"{path} is not a usable {what}: {error}")


@dataclass
class Material:
    """What an offline check holds: stamp keys, the publication keys that vouch for documents, and what was
    given of the revocation bundle and the ledger."""

    stamp_keys: KeyRing
    publication_keys: KeyRing
    bundle: Revocations | None = None
    ledger: LedgerSnapshot | None = None
    seen: dict[str, Any] = field(default_factory=dict)  # the newest documents seen, as --state remembers them

    @property
    def not_checked(self) -> list[str]:
        """Return what this check could not look at, in plain words."""
        missing = [] if self.bundle is not None else ["revocation status (no --revocations)"]
        return missing + ([] if self.ledger is not None else ["the batch ledger (no --ledger, none in the bundle)"])


def _usable(ring: KeyRing) -> KeyRing:
    """Return the keys of a ring that may still vouch for a document (a compromised publication key may not)."""
    return {kid: key for kid, key in ring.items() if not key.compromised}


def _load_trust(trust_file: str, pin_file: str | None) -> tuple[Material, datetime | None]:
    """Read --trust: a JWK Set (pinned as given), or a signed trust list opened with the --pin keys."""
    document = load_json(trust_file, "JWK Set or trust list")
    pinned: KeyRing = {}
    if pin_file is not None:
        try:
            pinned = keyring_from_jwks(load_json(pin_file, "JWK Set"), purpose="publication")
        except JWKSError as error:
            fail(f"{pin_file} is not a usable JWK Set: {error}")
        if not pinned:
            fail(f"{pin_file} has no publication key to pin")
    if isinstance(document, dict) and "payload" in document:
        if not pinned:
            fail(f"{trust_file} is a signed trust list: give --pin JWKS_FILE with the publication key to check it")
        try:
            payload = open_document(document, _usable(pinned), TRUST_LIST_CONTEXT, TRUST_LIST_TYPE)
            listed = read_trust_list(payload)
            issued_at = issued_at_of(payload)
        except SignedDocumentError as error:
            fail(f"{trust_file} cannot be trusted: {error}")
        stamp = {kid: key for kid, key in listed.items() if key.purpose == "stamp"}
        publication = {kid: key for kid, key in listed.items() if key.purpose == "publication"}
        return Material(stamp, _usable({**publication, **pinned})), issued_at
    try:
        stamp, publication = keyring_from_jwks(document), keyring_from_jwks(document, purpose="publication")
    except JWKSError as error:
        fail(f"{trust_file} is not a usable JWK Set: {error}")
    return Material(stamp, _usable(pinned or publication)), None


def _load_revocations(path: str, ring: KeyRing) -> Revocations:
    try:
        bundle = read_revocations(
            open_document(load_json(path, "revocation bundle"), ring, REVOCATIONS_CONTEXT, REVOCATIONS_TYPE)
        )
    except SignedDocumentError as error:
        fail(f"{path} cannot be trusted: {error}")
    if bundle.is_stale(utcnow()):
        fail(
            f"{path} is stale (issued {bundle.issued_at.isoformat()}, good until {bundle.stale_after.isoformat()}): "
            "fetch a fresh one from /api/v1/revocations"
        )
    return bundle


def _load_ledger(document: Any, where: str, ring: KeyRing) -> LedgerSnapshot:
    try:
        return open_export(document, [raw_public_bytes(key.public_key) for key in ring.values()])
    except SnapshotRejected as error:
        fail(f"{where} cannot be trusted: {error}")


def _read_state(path: str | None) -> dict[str, Any]:
    if path is None or not os.path.exists(path):
        return {}
    state = load_json(path, "state file")
    if not isinstance(state, dict):
        fail(f"{path} is not a state file written by 'verify --state'")
    return state


def _not_older(what: str, found: datetime | int, seen: Any, source: str) -> None:
    """Refuse a document older than one already seen (a replayed bundle may hide a newer revocation)."""
    if seen is None:
        return
    try:
        older = found < datetime.fromisoformat(seen) if isinstance(found, datetime) else found < int(seen)
    except (TypeError, ValueError):
        fail(f"the state file's {what} is unreadable: delete the file only if you trust what you verify next")
    if older:
        fail(f"this {what} ({found}) is older than one already seen ({seen}, in {source}): fetch the current one")


def offline_material(
    trust_file: str,
    pin_file: str | None,
    revocations_file: str | None,
    ledger_file: str | None,
    state_file: str | None,
    not_before: datetime | None,
) -> Material:
    """Load and check everything an offline verification relies on, refusing anything older than seen."""
    material, trust_issued = _load_trust(trust_file, pin_file)
    state = _read_state(state_file)
    if trust_issued is not None:
        _not_older("trust list", trust_issued, state.get("trust_list_issued_at"), str(state_file))
        material.seen["trust_list_issued_at"] = trust_issued.isoformat()
    if (revocations_file or ledger_file) and not material.publication_keys:
        fail(
            f"{trust_file} has no publication key that is not compromised, so no revocation bundle or ledger can "
            "be checked: export a current JWK Set with 'traceability keys export --jwks FILE'"
        )
    if revocations_file:
        bundle = material.bundle = _load_revocations(revocations_file, material.publication_keys)
        _not_older("revocation bundle", bundle.issued_at, state.get("revocations_issued_at"), str(state_file))
        if not_before is not None and bundle.issued_at < not_before:
            fail(f"{revocations_file} was issued {bundle.issued_at.isoformat()}, before --not-before")
        material.seen["revocations_issued_at"] = bundle.issued_at.isoformat()
    if ledger_file:
        material.ledger = _load_ledger(load_json(ledger_file, "ledger export"), ledger_file, material.publication_keys)
    elif material.bundle is not None and material.bundle.ledger is not None:
        material.ledger = _load_ledger(
            material.bundle.ledger, f"the ledger in {revocations_file}", material.publication_keys
        )
    if material.ledger is not None:
        _not_older("ledger", material.ledger.size, state.get("ledger_size"), str(state_file))
        _extends(material.ledger, state, str(state_file))
        material.seen["ledger_size"] = material.ledger.size
        material.seen["ledger_root"] = base64.b64encode(material.ledger.checkpoint.root_hash).decode("ascii")
    if state_file is not None:
        _write_state(state_file, {**state, **material.seen})
    return material


def _extends(ledger: LedgerSnapshot, state: dict[str, Any], source: str) -> None:
    """Refuse a ledger that is not an extension of the one seen before (the operator showed two histories)."""
    size, root = state.get("ledger_size"), state.get("ledger_root")
    if not isinstance(size, int) or not isinstance(root, str):
        return
    found = ledger.root_at(size)
    if found is None or base64.b64encode(found).decode("ascii") != root:
        fail(
            f"this ledger's first {size} entries differ from the ledger seen before ({source}): the log was "
            "rewritten or forked; keep both files and report it"
        )


def _write_state(path: str, state: dict[str, Any]) -> None:
    """Write the state file whole or not at all."""
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=2)
    os.replace(temporary, path)
