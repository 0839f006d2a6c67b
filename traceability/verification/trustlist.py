"""Signed documents for offline verifiers: the trust list and the revocation bundle. Pure.

Both are `{"payload": {...}, "signature": {"kid", "alg", "sig"}}`: an Ed25519 signature by a publication key
(never a stamp key: a stolen stamp key must not be able to vouch for a bundle that hides its theft) over
a context string of their own plus the payload as canonical JSON (sorted keys, no spaces, UTF-8), so a
signature over one can never pass as the other, nor as a stamp.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from traceability.errors import DomainError, Term
from traceability.i18n import N_
from traceability.stamps.signing import KeyRing, b64url_decode, b64url_encode
from traceability.verification.verdicts import Outcome, Verdict

TRUST_LIST_CONTEXT = b"OCOP-TRUSTLIST-v1"
REVOCATIONS_CONTEXT = b"OCOP-REVOCATIONS-v1"
TRUST_LIST_TYPE = "ocop-trust-list"
REVOCATIONS_TYPE = "ocop-revocations"


class SignedDocumentError(DomainError):
    """A signed document that cannot be trusted: bad shape, bad signature, unknown key or stale."""

    code = "untrusted_document"


def canonical_json(value: Any) -> bytes:
    """Return the canonical bytes of a JSON value (what the signature covers)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def timestamp(at: datetime) -> str:
    """Return a UTC time as the documents write it (ISO 8601, seconds, 'Z')."""
    return at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _parse_time(text: Any, name: str) -> datetime:
    if not isinstance(text, str):
        raise SignedDocumentError(N_("'%(name)s' must be a time"), params={"name": name})
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise SignedDocumentError(
            N_("'%(name)s' is not an ISO 8601 time: %(text)s"), params={"name": name, "text": repr(text)}
        ) from error
    if value.tzinfo is None:
        raise SignedDocumentError(N_("'%(name)s' has no time zone"), params={"name": name})
    return value


def sign_document(
    private_key: Ed25519PrivateKey, key_id: int, context: bytes, payload: Mapping[str, Any]
) -> dict[str, Any]:
    """Wrap a payload with its signature."""
    signature = private_key.sign(context + canonical_json(payload))
    return {
        "payload": dict(payload),
        "signature": {"kid": str(key_id), "alg": "EdDSA", "sig": b64url_encode(signature)},
    }


def open_document(document: Any, ring: KeyRing, context: bytes, expected_type: str) -> dict[str, Any]:
    """Check a signed document against trusted publication keys and return its payload; raise
    SignedDocumentError (a document signed by a stamp key is refused)."""
    payload = document.get("payload") if isinstance(document, Mapping) else None
    signature = document.get("signature") if isinstance(document, Mapping) else None
    if not isinstance(payload, Mapping) or not isinstance(signature, Mapping):
        raise SignedDocumentError(N_("a signed document is a JSON object with 'payload' and 'signature'"))
    if payload.get("type") != expected_type:
        raise SignedDocumentError(
            N_("this is not an %(expected)s document (type %(found)s)"),
            params={"expected": expected_type, "found": repr(payload.get("type"))},
        )
    kid = str(signature.get("kid", ""))
    key = ring.get(int(kid)) if kid.isdigit() else None
    if key is None:
        raise SignedDocumentError(N_("signed by key %(kid)s, which is not a trusted key"), params={"kid": repr(kid)})
    if key.purpose != "publication":
        raise SignedDocumentError(
            N_("signed by key %(kid)s, which is a %(purpose)s key, not a publication key"),
            params={"kid": kid, "purpose": Term(key.purpose)},
        )
    if key.status == "compromised":
        raise SignedDocumentError(N_("signed by key %(kid)s, which is marked compromised"), params={"kid": kid})
    try:
        key.public_key.verify(b64url_decode(str(signature.get("sig", ""))), context + canonical_json(payload))
    except (InvalidSignature, ValueError) as error:
        raise SignedDocumentError(N_("the signature does not verify: the document was altered or forged")) from error
    return dict(payload)


# --- the trust list -------------------------------------------------------------------------------------


def trust_list_payload(keys: list[dict[str, Any]], issuer: str, issued_at: datetime) -> dict[str, Any]:
    """Return a trust list payload; each key has kid, x, status, valid_from, valid_to, compromised_at."""
    return {
        "type": TRUST_LIST_TYPE,
        "version": 1,
        "issuer": issuer,
        "issued_at": timestamp(issued_at),
        "keys": sorted(keys, key=lambda k: int(k["kid"])),
    }


# --- the revocation bundle ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Revocations:
    """What an offline verifier must know besides the keys, as of `issued_at`."""

    issued_at: datetime
    stale_after: datetime
    keys: dict[int, int | None]  # compromised key id -> last trusted batch (None: no batch is trusted)
    batches: frozenset[int]
    products: frozenset[int]  # product references whose OCOP certificate was revoked
    ranges: dict[int, list[tuple[int, int]]]  # batch -> revoked or voided [start, end) stamp ranges
    not_activated: dict[int, list[tuple[int, int]]]  # batch -> issued or printed, never applied to goods

    def is_stale(self, now: datetime) -> bool:
        """Say whether the bundle is too old to rely on."""
        return now > self.stale_after


def revocations_payload(
    *,
    issued_at: datetime,
    max_age: timedelta,
    keys: list[dict[str, Any]],
    batches: list[int],
    products: list[int],
    ranges: list[dict[str, int]],
    not_activated: list[dict[str, int]],
) -> dict[str, Any]:
    """Return a revocation bundle payload."""
    return {
        "type": REVOCATIONS_TYPE,
        "version": 1,
        "issued_at": timestamp(issued_at),
        "max_age_seconds": int(max_age.total_seconds()),
        "stale_after": timestamp(issued_at + max_age),
        "keys": sorted(keys, key=lambda k: int(k["kid"])),
        "batches": sorted(batches),
        "products": sorted(products),
        "stamp_ranges": sorted(ranges, key=lambda r: (r["batch"], r["start"])),
        "not_activated_ranges": sorted(not_activated, key=lambda r: (r["batch"], r["start"])),
    }


def _int(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SignedDocumentError(N_("%(what)s must be a non-negative integer"), params={"what": what})
    return value


def _ranges(entries: Any) -> dict[int, list[tuple[int, int]]]:
    ranges: dict[int, list[tuple[int, int]]] = {}
    for entry in entries:
        start, end = _int(entry["start"], "start"), _int(entry["end"], "end")
        ranges.setdefault(_int(entry["batch"], "batch"), []).append((start, end))
    return ranges


def read_revocations(payload: Mapping[str, Any]) -> Revocations:
    """Read an opened revocation payload into Revocations; raise SignedDocumentError if it is malformed."""
    try:
        keys = {
            _int(int(str(k["kid"])), "kid"): (
                None if k.get("last_trusted_batch") is None else _int(k["last_trusted_batch"], "last_trusted_batch")
            )
            for k in payload["keys"]
        }
        ranges, not_activated = _ranges(payload["stamp_ranges"]), _ranges(payload["not_activated_ranges"])
        return Revocations(
            issued_at=_parse_time(payload["issued_at"], "issued_at"),
            stale_after=_parse_time(payload["stale_after"], "stale_after"),
            keys=keys,
            batches=frozenset(_int(b, "batch") for b in payload["batches"]),
            products=frozenset(_int(p, "product") for p in payload["products"]),
            ranges=ranges,
            not_activated=not_activated,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise SignedDocumentError(
            N_("the revocation bundle is malformed: %(error)s"), params={"error": str(error)}
        ) from error


def apply_revocations(outcome: Outcome, revocations: Revocations) -> Outcome:
    """Add what the bundle knows to an offline outcome (codes that prove nothing are left alone)."""
    if not outcome.trusted or outcome.parsed is None:
        return outcome
    body = outcome.parsed.body
    if body.key_id in revocations.keys:
        last = revocations.keys[body.key_id]
        if last is None or body.batch_id > last:
            outcome.add(
                Verdict.REVOKED,
                f"key {body.key_id} was compromised and batch {body.batch_id} is after its last trusted batch",
            )
    if body.batch_id in revocations.batches:
        outcome.add(Verdict.REVOKED, f"batch {body.batch_id} was withdrawn")
    if any(start <= body.sequence < end for start, end in revocations.ranges.get(body.batch_id, ())):
        outcome.add(Verdict.REVOKED, "this stamp was revoked or voided")
    elif any(start <= body.sequence < end for start, end in revocations.not_activated.get(body.batch_id, ())):
        outcome.add(
            Verdict.NOT_ACTIVATED,
            "this stamp was never applied to goods by the producer: it may have been stolen from the print run",
        )
    if body.product_ref in revocations.products:
        outcome.add(Verdict.CERTIFICATE_EXPIRED, "the product's OCOP certificate was revoked")
    return outcome
