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
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from traceability.errors import DomainError, Term
from traceability.i18n import N_
from traceability.ledger.snapshot import LedgerSnapshot
from traceability.stamps.signing import KeyRing, TrustedKey, b64url_decode, b64url_encode, is_key_id, trusted_issue
from traceability.verification.verdicts import NOT_ACTIVATED_REASON, Outcome, Verdict

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


def timestamp_ms(at: datetime) -> str:
    """Return a UTC time with milliseconds, as the ledger records issue times: a compromise time is compared
    with them, and truncating it only ever trusts less."""
    moment = at.astimezone(UTC)
    return (
        moment.replace(microsecond=moment.microsecond - moment.microsecond % 1000)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


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
    key = ring.get(int(kid)) if is_key_id(kid) else None
    if key is None:
        # ascii(): a key id in any other script is shown escaped, never read as a number.
        raise SignedDocumentError(N_("signed by key %(kid)s, which is not a trusted key"), params={"kid": ascii(kid)})
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
    keys: dict[int, datetime | None]  # compromised key id -> compromise time (None: nothing it signed is trusted)
    batches: frozenset[int]
    products: frozenset[int]  # product references whose OCOP certificate was revoked
    ranges: dict[int, list[tuple[int, int]]]  # batch -> revoked or voided [start, end) stamp ranges
    not_activated: dict[int, list[tuple[int, int]]]  # batch -> issued or printed, never applied to goods
    ledger: Any = None  # the ledger export document carried in the payload, still to be opened; None if absent

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


def _kid(value: Any) -> int:
    text = str(value)
    if not is_key_id(text):
        raise SignedDocumentError(N_("%(what)s must be a non-negative integer"), params={"what": "kid"})
    return int(text)


def _ranges(entries: Any) -> dict[int, list[tuple[int, int]]]:
    ranges: dict[int, list[tuple[int, int]]] = {}
    for entry in entries:
        start, end = _int(entry["start"], "start"), _int(entry["end"], "end")
        ranges.setdefault(_int(entry["batch"], "batch"), []).append((start, end))
    return ranges


def read_revocations(payload: Mapping[str, Any]) -> Revocations:
    """Read an opened revocation payload into Revocations; raise SignedDocumentError if it is malformed."""
    try:
        # A key listed without a compromise time trusts nothing ("last_trusted_batch" of older bundles is
        # ignored: a batch number never grants trust).
        keys = {
            _kid(k["kid"]): None
            if k.get("compromised_at") is None
            else _parse_time(k["compromised_at"], "compromised_at")
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
            ledger=payload.get("ledger"),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise SignedDocumentError(
            N_("the revocation bundle is malformed: %(error)s"), params={"error": str(error)}
        ) from error


def apply_revocations(outcome: Outcome, revocations: Revocations, ledger: LedgerSnapshot | None = None) -> Outcome:
    """Add what the bundle knows to an offline outcome (codes that prove nothing are left alone); a key the
    bundle lists as compromised is judged by the issue time of the batch's ledger entry."""
    if not outcome.trusted or outcome.parsed is None:
        return outcome
    body = outcome.parsed.body
    if body.key_id in revocations.keys:
        entry = ledger.entry(body.batch_id) if ledger is not None else None
        if not trusted_issue("compromised", revocations.keys[body.key_id], entry.issued_at if entry else None):
            outcome.add(
                Verdict.REVOKED,
                f"key {body.key_id} was compromised and batch {body.batch_id} is not in the ledger as issued before",
            )
    if body.batch_id in revocations.batches:
        outcome.add(Verdict.REVOKED, f"batch {body.batch_id} was withdrawn")
    if any(start <= body.sequence < end for start, end in revocations.ranges.get(body.batch_id, ())):
        outcome.add(Verdict.REVOKED, "this stamp was revoked or voided")
    elif any(start <= body.sequence < end for start, end in revocations.not_activated.get(body.batch_id, ())):
        outcome.add(
            Verdict.NOT_ACTIVATED,
            NOT_ACTIVATED_REASON,
        )
    if body.product_ref in revocations.products:
        outcome.add(Verdict.CERTIFICATE_EXPIRED, "the product's OCOP certificate was revoked")
    return outcome


# --- reading the trust list -----------------------------------------------------------------------------


def issued_at_of(payload: Mapping[str, Any]) -> datetime:
    """Return when a signed document's payload says it was issued."""
    return _parse_time(payload.get("issued_at"), "issued_at")


def read_trust_list(payload: Mapping[str, Any]) -> dict[int, TrustedKey]:
    """Read an opened trust list payload into a key ring of every key it lists (both purposes); raise
    SignedDocumentError if it is malformed."""
    ring: dict[int, TrustedKey] = {}
    try:
        for entry in payload["keys"]:
            kid = _kid(entry["kid"])
            purpose, status = entry["purpose"], entry["status"]
            if purpose not in ("stamp", "publication") or status not in ("active", "retired", "compromised"):
                raise ValueError(f"key {kid} has purpose {purpose!r} and status {status!r}")
            compromised = entry.get("compromised_at")
            ring[kid] = TrustedKey(
                key_id=kid,
                public_key=Ed25519PublicKey.from_public_bytes(b64url_decode(str(entry["x"]))),
                status=status,
                purpose=purpose,
                compromised_at=None if compromised is None else _parse_time(compromised, "compromised_at"),
            )
    except (KeyError, TypeError, ValueError) as error:
        raise SignedDocumentError(
            N_("the trust list is malformed: %(error)s"), params={"error": ascii(str(error))[1:-1][:200]}
        ) from error
    return ring
