"""Sign stamp bodies and check signatures against a key ring. Pure: keys and bytes in, answers out."""

from __future__ import annotations

import base64
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from traceability.errors import DomainError
from traceability.i18n import N_
from traceability.stamps.codec import CONTEXT, ParsedToken, StampBody, pack_body, token_digits


class SignatureCheck(enum.Enum):
    VALID = "valid"
    FORGED = "forged"  # the signature does not verify under the key it names
    UNKNOWN_KEY = "unknown_key"  # no published key has that id


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """A public key as a verifier knows it: id, key, status and the compromise boundary if any."""

    key_id: int
    public_key: Ed25519PublicKey
    status: str = "active"  # active, retired or compromised
    purpose: str = "stamp"  # stamp, or publication: signs the trust list and revocation bundle, never a stamp
    compromised_at: datetime | None = None

    @property
    def compromised(self) -> bool:
        """Say whether the key is marked compromised."""
        return self.status == "compromised"

    def trusts_issue(self, issued_at: datetime | None) -> bool:
        """Say whether a batch signed at `issued_at` (as the ledger or the registry records it, never as the
        stamp says) is trusted under this key: always for a sound key, and for a compromised one only if it
        was issued strictly before the compromise. Naive times are read as UTC."""
        return trusted_issue(self.status, self.compromised_at, issued_at)


def trusted_issue(status: str, compromised_at: datetime | None, issued_at: datetime | None) -> bool:
    """Say whether a batch issued at `issued_at` under a key of this status and compromise time is trusted.

    The thief can sign any batch number, so a compromised key's trusted set is decided by the issue time an
    honest record holds; an unknown issue time or compromise time trusts nothing.
    """
    if status != "compromised":
        return True
    if issued_at is None or compromised_at is None:
        return False
    return _utc(issued_at) < _utc(compromised_at)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


KeyRing = Mapping[int, TrustedKey]


def sign_body(private_key: Ed25519PrivateKey, body: StampBody) -> str:
    """Sign a body and return the decimal token (Ed25519 is deterministic: same body, same token)."""
    body_bytes = pack_body(body)
    return token_digits(body_bytes, private_key.sign(CONTEXT + body_bytes))


def check_signature(parsed: ParsedToken, keys: KeyRing) -> SignatureCheck:
    """Check a parsed token's signature against the key ring (a compromised key's signature is valid here: what
    it still vouches for is decided from the batch's issue time, never from the stamp)."""
    key = keys.get(parsed.body.key_id)
    if key is None or key.purpose != "stamp":  # a publication key never vouches for a stamp
        return SignatureCheck.UNKNOWN_KEY
    try:
        key.public_key.verify(parsed.signature, parsed.signed_message())
    except InvalidSignature:
        return SignatureCheck.FORGED
    return SignatureCheck.VALID


def raw_public_bytes(public_key: Ed25519PublicKey) -> bytes:
    """Return the 32 raw bytes of a public key."""
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def b64url_encode(data: bytes) -> str:
    """Return bytes as unpadded base64url (RFC 7515 section 2), as JWKs and signed documents write them."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Return the bytes of unpadded base64url text; raise ValueError if it is not base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwk(key: TrustedKey) -> dict[str, Any]:
    """Return a key as a JWK (RFC 8037 OKP/Ed25519) with its purpose and status as extra members."""
    entry: dict[str, Any] = {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url_encode(raw_public_bytes(key.public_key)),
        "kid": str(key.key_id),
        "use": "sig",
        "alg": "EdDSA",
        "ocop_use": key.purpose,
        "ocop_status": key.status,
    }
    if key.compromised_at is not None:
        # No "ocop_last_trusted_batch" any more: a batch number is what the thief writes, so it must not
        # grant trust. A verifier that still reads it finds none and trusts nothing of this key (fail closed).
        entry["ocop_compromised_at"] = _utc(key.compromised_at).isoformat()
    return entry


def jwks(keys: Iterable[TrustedKey]) -> dict[str, Any]:
    """Return the JWK Set of the given keys, ordered by key id."""
    return {"keys": [jwk(k) for k in sorted(keys, key=lambda k: k.key_id)]}


class JWKSError(DomainError):
    """A JWK Set that cannot be trusted as given."""

    code = "bad_jwks"


KEY_PURPOSES = ("stamp", "publication")


def keyring_from_jwks(document: Mapping[str, Any], purpose: str = "stamp") -> dict[int, TrustedKey]:
    """Read the keys of one purpose from a JWK Set into a key ring, refusing anything that is not an Ed25519
    signing key; keys of the other purpose are left out. A key without `ocop_use` (a JWK Set exported before
    publication keys existed) is a stamp key."""
    keys = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(keys, list):
        raise JWKSError(N_("a JWK Set is a JSON object with a 'keys' list"))
    ring: dict[int, TrustedKey] = {}
    for number, entry in enumerate(keys, start=1):
        key = _read_jwk(entry, number)
        if key.purpose == purpose:
            ring[key.key_id] = key
    return ring


def _read_jwk(entry: Any, number: int) -> TrustedKey:
    """Read the JWK at position `number` (from 1) of a set; raise JWKSError naming that position."""
    where = {"number": number}
    if not isinstance(entry, Mapping):
        raise JWKSError(N_("key %(number)s is not a JSON object"), params=where)
    if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
        raise JWKSError(N_("key %(number)s is not an Ed25519 key (kty OKP, crv Ed25519)"), params=where)
    if "d" in entry:
        raise JWKSError(
            N_("key %(number)s contains a private key: refuse to use it, and replace that file"), params=where
        )
    use = entry.get("ocop_use", "stamp")
    if use not in KEY_PURPOSES:
        raise JWKSError(
            N_("key %(number)s has ocop_use %(use)s; it must be 'stamp' or 'publication'"),
            params={**where, "use": repr(use)},
        )
    kid = str(entry.get("kid", ""))
    if not is_key_id(kid):
        raise JWKSError(
            N_("key %(number)s has kid %(kid)s; stamp key ids are numbers 1..65535"),
            params={**where, "kid": repr(kid)},
        )
    try:
        public_key = Ed25519PublicKey.from_public_bytes(b64url_decode(str(entry.get("x", ""))))
    except ValueError as error:
        raise JWKSError(N_("key %(number)s has no valid 32-byte 'x'"), params=where) from error
    # "ocop_last_trusted_batch" (older exports) is ignored: trust is decided by issue time.
    compromised = entry.get("ocop_compromised_at")
    try:
        compromised_at = datetime.fromisoformat(compromised) if compromised else None
    except (TypeError, ValueError) as error:
        raise JWKSError(N_("key %(number)s has an unreadable ocop_compromised_at"), params=where) from error
    return TrustedKey(
        key_id=int(kid),
        public_key=public_key,
        status=str(entry.get("ocop_status", "active")),
        purpose=use,
        compromised_at=compromised_at,
    )


def is_key_id(text: str) -> bool:
    """Say whether text is a key id as documents write it: ASCII digits 0-9 naming 1..65535.

    str.isdigit() alone accepts '²' (int() then fails) and '٣' (int() reads 3): a key id has one spelling.
    """
    return text.isascii() and text.isdigit() and len(text) <= 5 and 1 <= int(text) <= 0xFFFF
