"""Sign stamp bodies and check signatures against a key ring. Pure: keys and bytes in, answers out."""

from __future__ import annotations

import base64
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
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
    KEY_COMPROMISED = "key_compromised"  # valid, but signed by a compromised key after its last trusted batch


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """A public key as a verifier knows it: id, key, status and the compromise boundary if any."""

    key_id: int
    public_key: Ed25519PublicKey
    status: str = "active"  # active, retired or compromised
    purpose: str = "stamp"  # stamp, or publication: signs the trust list and revocation bundle, never a stamp
    compromised_at: datetime | None = None
    last_trusted_batch_id: int | None = None

    def trusts_batch(self, batch_id: int) -> bool:
        """Say whether stamps of this batch are trusted under this key."""
        if self.status != "compromised":
            return True
        return self.last_trusted_batch_id is not None and batch_id <= self.last_trusted_batch_id


KeyRing = Mapping[int, TrustedKey]


def sign_body(private_key: Ed25519PrivateKey, body: StampBody) -> str:
    """Sign a body and return the decimal token (Ed25519 is deterministic: same body, same token)."""
    body_bytes = pack_body(body)
    return token_digits(body_bytes, private_key.sign(CONTEXT + body_bytes))


def check_signature(parsed: ParsedToken, keys: KeyRing) -> SignatureCheck:
    """Check a parsed token's signature against the key ring."""
    key = keys.get(parsed.body.key_id)
    if key is None or key.purpose != "stamp":  # a publication key never vouches for a stamp
        return SignatureCheck.UNKNOWN_KEY
    try:
        key.public_key.verify(parsed.signature, parsed.signed_message())
    except InvalidSignature:
        return SignatureCheck.FORGED
    if not key.trusts_batch(parsed.body.batch_id):
        return SignatureCheck.KEY_COMPROMISED
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
        entry["ocop_compromised_at"] = key.compromised_at.isoformat()
        entry["ocop_last_trusted_batch"] = key.last_trusted_batch_id
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
    if not kid.isdigit() or not 1 <= int(kid) <= 0xFFFF:
        raise JWKSError(
            N_("key %(number)s has kid %(kid)s; stamp key ids are numbers 1..65535"),
            params={**where, "kid": repr(kid)},
        )
    try:
        public_key = Ed25519PublicKey.from_public_bytes(b64url_decode(str(entry.get("x", ""))))
    except ValueError as error:
        raise JWKSError(N_("key %(number)s has no valid 32-byte 'x'"), params=where) from error
    last_trusted = entry.get("ocop_last_trusted_batch")
    if last_trusted is not None and (not isinstance(last_trusted, int) or isinstance(last_trusted, bool)):
        raise JWKSError(N_("key %(number)s has a non-numeric ocop_last_trusted_batch"), params=where)
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
        last_trusted_batch_id=last_trusted,
    )
