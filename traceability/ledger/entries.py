"""A ledger entry: one issued batch, as signed into its stamps, in one canonical byte encoding.

Pure: values in, bytes out and back. The encoding (version 1) is documented field by field in README.md
beside this module: big-endian fixed-width integers, then two UTF-8 strings each preceded by its length in
one byte. Every entry has exactly one encoding, and decoding refuses anything else (trailing bytes, unknown
versions, values out of range) with a reason.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from traceability.errors import ValidationError
from traceability.i18n import N_
from traceability.ledger.merkle import leaf_hash

ENTRY_VERSION = 1
MAX_SEQUENCE = 0xFFFFFF  # a stamp's sequence is a u24
MAX_STAMPS = MAX_SEQUENCE + 1  # so a batch holds at most 2**24 stamps, numbered 0..2**24-1
MAX_CODE_BYTES = 255  # a code's UTF-8 length fits its one-byte prefix
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The u64 field could hold more, but nothing after 9999-12-31T23:59:59.999Z is a datetime.
MAX_ISSUED_AT_MS = 253_402_300_799_999
_FIXED = 1 + 4 + 2 + 3 + 1 + 2 + 3 + 4 + 8  # version .. issued-at: 28 bytes before the two strings


class SignedFields(Protocol):
    """What a stamp signs about its batch: a stamp body (traceability.stamps.codec.StampBody) has these."""

    @property
    def batch_id(self) -> int: ...
    @property
    def key_id(self) -> int: ...
    @property
    def product_ref(self) -> int: ...
    @property
    def stars(self) -> int: ...
    @property
    def valid_until_month(self) -> int: ...
    @property
    def sequence(self) -> int: ...


class EntryRejected(ValidationError):
    """Bytes that are not exactly a well-formed ledger entry, or an entry that cannot be encoded."""

    code = "ledger_entry_invalid"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One issued batch: what every stamp of it carries, who made it, how many stamps, and when it was signed.

    `issued_at` is the signing time in UTC, in whole milliseconds (see `ledger_time`). The stamps of the batch
    are sequences first_sequence .. first_sequence + stamp_count - 1.
    """

    batch_id: int
    key_id: int
    product_ref: int
    stars: int
    valid_until_month: int  # months since 2000-01, as the stamp body encodes it
    first_sequence: int
    stamp_count: int
    issued_at: datetime
    product_code: str
    producer_code: str
    version: int = ENTRY_VERSION

    def __post_init__(self) -> None:
        _check_entry(self)

    @property
    def last_sequence(self) -> int:
        """Return the sequence of the batch's last stamp."""
        return self.first_sequence + self.stamp_count - 1

    def covers(self, sequence: int) -> bool:
        """Say whether a stamp with this sequence belongs to the batch."""
        return self.first_sequence <= sequence <= self.last_sequence

    def encode(self) -> bytes:
        """Return the canonical bytes of this entry."""
        return encode_entry(self)

    def leaf_hash(self) -> bytes:
        """Return the Merkle leaf hash of this entry: SHA-256(0x00 ‖ canonical bytes)."""
        return leaf_hash(encode_entry(self))

    def mismatches(self, body: SignedFields) -> tuple[str, ...]:
        """Return the names of the stamp's signed fields that disagree with this entry (empty if none)."""
        checks = (
            ("batch", body.batch_id == self.batch_id),
            ("key", body.key_id == self.key_id),
            ("product", body.product_ref == self.product_ref),
            ("stars", body.stars == self.stars),
            ("valid_until", body.valid_until_month == self.valid_until_month),
            ("sequence", self.covers(body.sequence)),
        )
        return tuple(name for name, agrees in checks if not agrees)

    def as_dict(self) -> dict[str, Any]:
        """Return the decoded fields for JSON (the time as RFC 3339 with milliseconds and Z)."""
        return {
            "version": self.version,
            "batch_id": self.batch_id,
            "key_id": self.key_id,
            "product_ref": self.product_ref,
            "product_code": self.product_code,
            "producer_code": self.producer_code,
            "stars": self.stars,
            "valid_until_month": self.valid_until_month,
            "first_sequence": self.first_sequence,
            "last_sequence": self.last_sequence,
            "stamp_count": self.stamp_count,
            "issued_at": self.issued_at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }


def ledger_time(moment: datetime) -> datetime:
    """Return a moment as the ledger records it: UTC, truncated to whole milliseconds (naive means UTC)."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.replace(microsecond=aware.microsecond - aware.microsecond % 1000)


def encode_entry(entry: LedgerEntry) -> bytes:
    """Return the canonical bytes of an entry (version 1 layout; see README.md)."""
    _check_entry(entry)
    product, producer = entry.product_code.encode("utf-8"), entry.producer_code.encode("utf-8")
    return b"".join(
        (
            entry.version.to_bytes(1, "big"),
            entry.batch_id.to_bytes(4, "big"),
            entry.key_id.to_bytes(2, "big"),
            entry.product_ref.to_bytes(3, "big"),
            entry.stars.to_bytes(1, "big"),
            entry.valid_until_month.to_bytes(2, "big"),
            entry.first_sequence.to_bytes(3, "big"),
            entry.stamp_count.to_bytes(4, "big"),
            _milliseconds(entry.issued_at).to_bytes(8, "big"),
            len(product).to_bytes(1, "big"),
            product,
            len(producer).to_bytes(1, "big"),
            producer,
        )
    )


def decode_entry(data: bytes) -> LedgerEntry:
    """Parse canonical entry bytes strictly; raise EntryRejected with the reason for anything else."""
    if not isinstance(data, bytes | bytearray):
        raise EntryRejected(N_("a ledger entry is bytes"))
    data = bytes(data)
    if not data:
        raise EntryRejected(N_("the ledger entry is empty"))
    if data[0] != ENTRY_VERSION:
        raise EntryRejected(N_("unknown ledger entry version %(version)s"), params={"version": data[0]})
    if len(data) < _FIXED + 2:
        raise EntryRejected(N_("the ledger entry is cut short"))
    fields = [
        int.from_bytes(data[start:end], "big")
        for start, end in ((1, 5), (5, 7), (7, 10), (10, 11), (11, 13), (13, 16), (16, 20), (20, 28))
    ]
    product, offset = _read_string(data, _FIXED)
    producer, offset = _read_string(data, offset)
    if offset != len(data):
        raise EntryRejected(
            N_("the ledger entry has %(count)s bytes after its last field"), params={"count": len(data) - offset}
        )
    batch_id, key_id, product_ref, stars, valid_until_month, first_sequence, stamp_count, millis = fields
    if millis > MAX_ISSUED_AT_MS:
        raise EntryRejected(N_("the ledger entry's issue time is out of range"))
    return LedgerEntry(
        batch_id=batch_id,
        key_id=key_id,
        product_ref=product_ref,
        stars=stars,
        valid_until_month=valid_until_month,
        first_sequence=first_sequence,
        stamp_count=stamp_count,
        issued_at=EPOCH + timedelta(milliseconds=millis),
        product_code=product,
        producer_code=producer,
    )


def _read_string(data: bytes, offset: int) -> tuple[str, int]:
    if offset >= len(data):
        raise EntryRejected(N_("the ledger entry is cut short"))
    length = data[offset]
    end = offset + 1 + length
    if end > len(data):
        raise EntryRejected(N_("the ledger entry is cut short"))
    try:
        return data[offset + 1 : end].decode("utf-8"), end
    except UnicodeDecodeError:
        raise EntryRejected(N_("a code in the ledger entry is not valid UTF-8")) from None


def _milliseconds(moment: datetime) -> int:
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _check_entry(entry: LedgerEntry) -> None:
    """Refuse an entry whose fields the version 1 encoding cannot hold exactly once."""
    if entry.version != ENTRY_VERSION:
        raise EntryRejected(N_("unknown ledger entry version %(version)s"), params={"version": entry.version})
    for name, value, low, high in (
        ("batch_id", entry.batch_id, 1, 0xFFFFFFFF),
        ("key_id", entry.key_id, 1, 0xFFFF),
        ("product_ref", entry.product_ref, 1, 0xFFFFFF),
        ("stars", entry.stars, 3, 5),
        ("valid_until_month", entry.valid_until_month, 0, 0xFFFF),
        ("first_sequence", entry.first_sequence, 0, MAX_SEQUENCE),
        ("stamp_count", entry.stamp_count, 1, MAX_STAMPS),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise EntryRejected(
                N_("the ledger entry's %(field)s is %(value)s, outside %(low)s..%(high)s"),
                field=name,
                params={"field": name, "value": value, "low": low, "high": high},
            )
    if entry.last_sequence > MAX_SEQUENCE:
        raise EntryRejected(
            N_("the batch's stamps would run past sequence %(max)s"), field="stamp_count", params={"max": MAX_SEQUENCE}
        )
    moment = entry.issued_at
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise EntryRejected(N_("the ledger entry's issue time must carry a time zone"), field="issued_at")
    if moment.microsecond % 1000 or not 0 <= _milliseconds(moment) <= MAX_ISSUED_AT_MS:
        raise EntryRejected(
            N_("the ledger entry's issue time must be in whole milliseconds between 1970 and 9999"), field="issued_at"
        )
    for name, code in (("product_code", entry.product_code), ("producer_code", entry.producer_code)):
        _check_code(name, code)


def _check_code(name: str, code: Any) -> None:
    if not isinstance(code, str) or not code:
        raise EntryRejected(N_("the ledger entry's %(field)s is empty"), field=name, params={"field": name})
    try:
        size = len(code.encode("utf-8"))
    except UnicodeEncodeError:
        raise EntryRejected(
            N_("the ledger entry's %(field)s is not valid UTF-8"), field=name, params={"field": name}
        ) from None
    if size > MAX_CODE_BYTES:
        raise EntryRejected(
            N_("the ledger entry's %(field)s is longer than %(max)s bytes"),
            field=name,
            params={"field": name, "max": MAX_CODE_BYTES},
        )
    # One spelling per code: no control or invisible format characters, no outer spaces, and Unicode NFC,
    # so two entries that read the same are the same bytes.
    if (
        code != code.strip()
        or any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for ch in code)
        or unicodedata.normalize("NFC", code) != code
    ):
        raise EntryRejected(
            N_("the ledger entry's %(field)s has characters a code never has"), field=name, params={"field": name}
        )
