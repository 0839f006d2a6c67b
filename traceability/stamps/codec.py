"""The stamp token: a 16-byte body and its Ed25519 signature, written as 193 decimal digits.

Pure: no Flask, no database. See ../shared/stamp-format.md for the design and its measured sizes.

    body (16 bytes, signed):
      byte 0      version (3 bits) | stars (3 bits) | flags (2 bits, must be 0)
      bytes 1-2   key id (u16, 1..65535)
      bytes 3-6   batch id (u32, >= 1)
      bytes 7-9   sequence in batch (u24)
      byte 10     random byte derived from the batch secret
      bytes 11-13 product reference (u24, >= 1)
      bytes 14-15 certificate valid-until, months since 2000-01 (u16)
    token = decimal(body + signature), zero-padded to 193 digits

Decimal digits ride QR numeric mode (3.33 bits a character), which keeps the whole URL at QR version 6,
level M, behind a prefix of up to 24 characters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from traceability.errors import DomainError
from traceability.i18n import N_

CONTEXT = b"OCOP-STAMP-v1"  # domain separation: a signature over anything else never verifies here
FORMAT_VERSION = 1
BODY_BYTES = 16
SIGNATURE_BYTES = 64
TOKEN_BYTES = BODY_BYTES + SIGNATURE_BYTES
TOKEN_DIGITS = len(str(256**TOKEN_BYTES - 1))  # 193
URL_PATH = "/v/"
# Longest "https://host/v/" that keeps the whole URL at version 6-M (864 data bits: 12 + 8 bits a
# prefix byte, 14 + 644 for the 193 digits). tests/stamps/test_qr_size.py measures it with a real encoder.
MAX_PREFIX_FOR_VERSION_6 = 24
MAX_INPUT_CHARS = 2048  # anything longer is not a stamp; refuse before doing work on it

_DIGITS = re.compile(r"[0-9]+")
_URL = re.compile(r"(?P<prefix>https?://[a-z0-9.\-]+(?::[0-9]{1,5})?(?:/[a-z0-9._~\-]+)*)/v/(?P<token>[^/?#]*)")


class TokenRejected(DomainError):
    """Input that is not exactly a well-formed stamp code; `reason` says why in plain words."""

    status = 400
    code = "malformed"

    def __init__(self, reason: str, *, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(reason, params=params)
        self.reason = self.message


@dataclass(frozen=True, slots=True)
class StampBody:
    key_id: int
    batch_id: int
    sequence: int
    nonce: int
    product_ref: int
    stars: int
    valid_until_month: int  # months since 2000-01: 0 is January 2000
    version: int = FORMAT_VERSION
    flags: int = 0

    @property
    def stamp_id(self) -> tuple[int, int]:
        """Return (batch id, sequence): unique forever."""
        return (self.batch_id, self.sequence)

    @property
    def valid_until(self) -> date:
        """Return the last day of the month the certificate is valid until."""
        return last_day_of_month(self.valid_until_month)


@dataclass(frozen=True, slots=True)
class ParsedToken:
    body: StampBody
    body_bytes: bytes
    signature: bytes
    digits: str
    url_prefix: str | None  # the scheme and host the code was scanned with, if it was a URL

    def signed_message(self) -> bytes:
        """Return the exact bytes the signature must cover."""
        return CONTEXT + self.body_bytes


def month_index(day: date) -> int:
    """Return months since 2000-01 for the month containing day."""
    return (day.year - 2000) * 12 + (day.month - 1)


def last_day_of_month(index: int) -> date:
    """Return the last day of the month `index` months after 2000-01."""
    year, month = divmod(index, 12)
    next_first = date(2000 + year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    return date.fromordinal(next_first.toordinal() - 1)


def pack_body(body: StampBody) -> bytes:
    """Serialise a body; raise ValueError for a field out of its range (a programming error)."""
    _check_range("version", body.version, 1, 7)
    _check_range("stars", body.stars, 3, 5)
    _check_range("flags", body.flags, 0, 0)
    _check_range("key id", body.key_id, 1, 0xFFFF)
    _check_range("batch id", body.batch_id, 1, 0xFFFFFFFF)
    _check_range("sequence", body.sequence, 0, 0xFFFFFF)
    _check_range("nonce", body.nonce, 0, 0xFF)
    _check_range("product reference", body.product_ref, 1, 0xFFFFFF)
    _check_range("valid-until month", body.valid_until_month, 0, 0xFFFF)
    return (
        bytes([(body.version << 5) | (body.stars << 2) | body.flags])
        + body.key_id.to_bytes(2, "big")
        + body.batch_id.to_bytes(4, "big")
        + body.sequence.to_bytes(3, "big")
        + bytes([body.nonce])
        + body.product_ref.to_bytes(3, "big")
        + body.valid_until_month.to_bytes(2, "big")
    )


def unpack_body(raw: bytes) -> StampBody:
    """Parse a body strictly; raise TokenRejected for anything this version never writes."""
    if len(raw) != BODY_BYTES:
        raise TokenRejected(N_("the stamp body must be %(bytes)s bytes"), params={"bytes": BODY_BYTES})
    version, stars, flags = raw[0] >> 5, (raw[0] >> 2) & 0b111, raw[0] & 0b11
    if version != FORMAT_VERSION:
        raise TokenRejected(N_("unknown stamp format version %(version)s"), params={"version": version})
    if flags != 0:
        raise TokenRejected(N_("reserved flag bits are set"))
    if stars not in (3, 4, 5):
        raise TokenRejected(N_("a stamp carries 3, 4 or 5 stars, not %(stars)s"), params={"stars": stars})
    body = StampBody(
        version=version,
        stars=stars,
        flags=flags,
        key_id=int.from_bytes(raw[1:3], "big"),
        batch_id=int.from_bytes(raw[3:7], "big"),
        sequence=int.from_bytes(raw[7:10], "big"),
        nonce=raw[10],
        product_ref=int.from_bytes(raw[11:14], "big"),
        valid_until_month=int.from_bytes(raw[14:16], "big"),
    )
    if body.key_id == 0:
        raise TokenRejected(N_("key id 0 is never used"))
    if body.batch_id == 0:
        raise TokenRejected(N_("batch id 0 is never used"))
    if body.product_ref == 0:
        raise TokenRejected(N_("product reference 0 is never used"))
    return body


def token_digits(body_bytes: bytes, signature: bytes) -> str:
    """Write body and signature as the fixed-width decimal token."""
    if len(body_bytes) != BODY_BYTES or len(signature) != SIGNATURE_BYTES:
        raise ValueError("wrong body or signature length")
    return str(int.from_bytes(body_bytes + signature, "big")).zfill(TOKEN_DIGITS)


def stamp_url(prefix: str, digits: str) -> str:
    """Return the URL printed in the QR: base URL (lowercase scheme and host) + /v/ + token."""
    return f"{prefix.rstrip('/')}{URL_PATH}{digits}"


def parse(text: str) -> ParsedToken:
    """Parse a stamp URL or bare token; raise TokenRejected with a reason for anything else."""
    if not isinstance(text, str):
        raise TokenRejected(N_("a stamp code is text"))
    if len(text) > MAX_INPUT_CHARS:
        raise TokenRejected(N_("the input is far longer than any stamp code"))
    if not text.strip():
        raise TokenRejected(N_("the input is empty"))
    if text != text.strip():
        # Strict: exactly one spelling of each stamp is valid. Callers that take typed or pasted input
        # (CLI arguments, forms, the API's ?code=) trim it first.
        raise TokenRejected(N_("the code has spaces or line breaks around it"))
    prefix: str | None = None
    if "/" in text or ":" in text:
        match = _URL.fullmatch(text)
        if match is None:
            raise TokenRejected(N_("this is not a stamp URL (expected https://<host>/v/<193 digits>)"))
        prefix, text = match.group("prefix"), match.group("token")
    if not _DIGITS.fullmatch(text) or not text.isascii():
        raise TokenRejected(N_("a stamp token contains only the digits 0-9"))
    if len(text) != TOKEN_DIGITS:
        raise TokenRejected(
            N_("a stamp token has exactly %(digits)s digits, this one has %(length)s"),
            params={"digits": TOKEN_DIGITS, "length": len(text)},
        )
    value = int(text)
    if value >= 256**TOKEN_BYTES:
        raise TokenRejected(N_("the token's number is larger than any stamp"))
    raw = value.to_bytes(TOKEN_BYTES, "big")
    body_bytes, signature = raw[:BODY_BYTES], raw[BODY_BYTES:]
    return ParsedToken(
        body=unpack_body(body_bytes),
        body_bytes=body_bytes,
        signature=signature,
        digits=text,
        url_prefix=prefix,
    )


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name} {value} is outside {low}..{high}")
