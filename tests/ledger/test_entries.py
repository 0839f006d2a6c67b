"""Ledger entries: one canonical encoding, strict decoding with reasons, and agreement with stamp bodies."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traceability.ledger.entries import (
    ENTRY_VERSION,
    EntryRejected,
    LedgerEntry,
    decode_entry,
    encode_entry,
    ledger_time,
)
from traceability.stamps.codec import StampBody

ENTRY = LedgerEntry(
    batch_id=0x01020304,
    key_id=0x0506,
    product_ref=0x070809,
    stars=4,
    valid_until_month=0x0B0C,
    first_sequence=0,
    stamp_count=30_000,
    issued_at=datetime(2025, 3, 14, 1, 59, 26, 535_000, tzinfo=UTC),
    product_code="SP-0001",
    producer_code="HTX-CB-01",
)
# Written out by hand from the table in traceability/ledger/README.md.
ENTRY_BYTES = bytes.fromhex(
    "01"  # version
    "01020304"  # batch id
    "0506"  # key id
    "070809"  # product reference
    "04"  # stars
    "0b0c"  # valid-until month
    "000000"  # first sequence
    "00007530"  # stamp count 30000
    + (1741917566535).to_bytes(8, "big").hex()  # 2025-03-14T01:59:26.535Z in ms
    + "07"
    + b"SP-0001".hex()
    + "09"
    + b"HTX-CB-01".hex()
)


codes = st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "S")), min_size=1, max_size=40).filter(
    lambda s: s == s.strip()
)
entries = st.builds(
    LedgerEntry,
    batch_id=st.integers(1, 2**32 - 1),
    key_id=st.integers(1, 0xFFFF),
    product_ref=st.integers(1, 0xFFFFFF),
    stars=st.integers(3, 5),
    valid_until_month=st.integers(0, 0xFFFF),
    first_sequence=st.just(0),
    stamp_count=st.integers(1, 2**24),
    issued_at=st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 31)).map(ledger_time),
    product_code=codes.map(lambda s: unicodedata.normalize("NFC", s)),
    producer_code=st.from_regex(r"[A-Z0-9][A-Z0-9\-]{1,39}", fullmatch=True),
)


def test_the_encoding_is_the_documented_table() -> None:
    assert encode_entry(ENTRY) == ENTRY.encode() == ENTRY_BYTES
    assert len(ENTRY_BYTES) == 30 + 7 + 9
    assert decode_entry(ENTRY_BYTES) == ENTRY
    assert ENTRY.leaf_hash() == hashlib.sha256(b"\x00" + ENTRY_BYTES).digest()


@given(entries)
def test_decode_inverts_encode(entry: LedgerEntry) -> None:
    data = encode_entry(entry)
    assert data[0] == ENTRY_VERSION
    assert decode_entry(data) == entry
    assert encode_entry(decode_entry(data)) == data


@given(entries, st.data())
def test_a_changed_byte_is_refused_or_is_another_entry_with_exactly_those_bytes(
    entry: LedgerEntry, data: st.DataObject
) -> None:
    raw = bytearray(encode_entry(entry))
    where = data.draw(st.integers(0, len(raw) - 1))
    raw[where] ^= data.draw(st.integers(1, 255))
    try:
        other = decode_entry(bytes(raw))
    except EntryRejected:
        return
    assert other != entry and encode_entry(other) == bytes(raw)


def test_the_issue_time_is_utc_in_whole_milliseconds() -> None:
    moment = datetime(2025, 3, 14, 8, 59, 26, 535_999, tzinfo=timezone(timedelta(hours=7)))
    assert ledger_time(moment) == datetime(2025, 3, 14, 1, 59, 26, 535_000, tzinfo=UTC)
    assert ledger_time(moment).tzinfo is UTC
    assert ledger_time(datetime(2025, 3, 14, 1, 59, 26, 535_999)) == ledger_time(moment)  # naive is UTC
    decoded = decode_entry(ENTRY_BYTES)
    assert decoded.issued_at.tzinfo is UTC
    assert ENTRY.as_dict()["issued_at"] == "2025-03-14T01:59:26.535Z"
    local = replace(ENTRY, issued_at=ENTRY.issued_at.astimezone(timezone(timedelta(hours=7))))
    assert encode_entry(local) == ENTRY_BYTES


def cut(data: bytes) -> bytes:
    return data[:-1]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "the ledger entry is empty"),
        (b"\x02" + ENTRY_BYTES[1:], "unknown ledger entry version 2"),
        (b"\x00" + ENTRY_BYTES[1:], "unknown ledger entry version 0"),
        (ENTRY_BYTES + b"\x00", "the ledger entry has 1 bytes after its last field"),
        (ENTRY_BYTES[:27], "the ledger entry is cut short"),
        (cut(ENTRY_BYTES), "the ledger entry is cut short"),
        (ENTRY_BYTES[:29], "the ledger entry is cut short"),
        (ENTRY_BYTES[:36], "the ledger entry is cut short"),
        (ENTRY_BYTES[:1] + bytes(4) + ENTRY_BYTES[5:], "batch_id is 0, outside 1..4294967295"),
        (ENTRY_BYTES[:5] + bytes(2) + ENTRY_BYTES[7:], "key_id is 0"),
        (ENTRY_BYTES[:7] + bytes(3) + ENTRY_BYTES[10:], "product_ref is 0"),
        (ENTRY_BYTES[:10] + b"\x06" + ENTRY_BYTES[11:], "stars is 6, outside 3..5"),
        (ENTRY_BYTES[:16] + bytes(4) + ENTRY_BYTES[20:], "stamp_count is 0"),
        (ENTRY_BYTES[:16] + (2**24 + 1).to_bytes(4, "big") + ENTRY_BYTES[20:], "stamp_count is 16777217"),
        (ENTRY_BYTES[:13] + b"\x00\x00\x01" + (2**24).to_bytes(4, "big") + ENTRY_BYTES[20:], "run past sequence"),
        (ENTRY_BYTES[:20] + b"\x80" + bytes(7) + ENTRY_BYTES[28:], "issue time is out of range"),
        (ENTRY_BYTES[:20] + (253402300799999 + 1).to_bytes(8, "big") + ENTRY_BYTES[28:], "issue time is out of range"),
        (ENTRY_BYTES[:28] + b"\x00" + ENTRY_BYTES[36:], "product_code is empty"),
        (ENTRY_BYTES[:29] + b"\xff" + ENTRY_BYTES[30:], "not valid UTF-8"),
        (ENTRY_BYTES[:29] + b"SP-000\n" + ENTRY_BYTES[36:], "characters a code never has"),
        (ENTRY_BYTES[:29] + b" P-0001" + ENTRY_BYTES[36:], "characters a code never has"),
        (ENTRY_BYTES[:28] + b"\x03e\xcc\x81" + ENTRY_BYTES[36:], "characters a code never has"),  # not NFC
        (ENTRY_BYTES[:28] + b"\x04A\xe2\x80\x8b" + ENTRY_BYTES[36:], "characters a code never has"),  # U+200B
    ],
)
def test_decoding_refuses_anything_but_one_well_formed_entry(data: bytes, reason: str) -> None:
    with pytest.raises(EntryRejected, match=reason) as caught:
        decode_entry(data)
    assert caught.value.status == 422


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"batch_id": 2**32}, "batch_id"),
        ({"stars": 2}, "stars"),
        ({"stamp_count": 0}, "stamp_count"),
        ({"first_sequence": 2**24 - 1, "stamp_count": 2}, "stamp_count"),
        ({"issued_at": datetime(2025, 1, 1)}, "issued_at"),  # naive: which zone?
        ({"issued_at": datetime(2025, 1, 1, 0, 0, 0, 1, tzinfo=UTC)}, "issued_at"),
        ({"issued_at": datetime(1969, 12, 31, tzinfo=UTC)}, "issued_at"),
        ({"product_code": ""}, "product_code"),
        ({"producer_code": "x" * 256}, "producer_code"),
        ({"producer_code": "ồ" * 128}, "producer_code"),  # 256 bytes in UTF-8
        ({"producer_code": "A\u200bB"}, "producer_code"),
        ({"producer_code": "\ud800"}, "producer_code"),
        ({"version": 2}, None),
        ({"key_id": True}, "key_id"),
    ],
)
def test_entries_that_cannot_be_encoded_exactly_are_refused(change: dict[str, object], field: str | None) -> None:
    with pytest.raises(EntryRejected) as caught:
        replace(ENTRY, **change)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_the_last_millisecond_of_9999_fits() -> None:
    entry = replace(ENTRY, issued_at=datetime(9999, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC))
    assert encode_entry(entry)[20:28] == (253402300799999).to_bytes(8, "big")
    assert decode_entry(encode_entry(entry)) == entry


def test_a_code_of_255_bytes_fits() -> None:
    entry = replace(ENTRY, producer_code="Ồ" * 85)
    assert decode_entry(encode_entry(entry)) == entry


def stamp(**change: int) -> StampBody:
    fields = {
        "key_id": ENTRY.key_id,
        "batch_id": ENTRY.batch_id,
        "sequence": 29_999,
        "nonce": 7,
        "product_ref": ENTRY.product_ref,
        "stars": ENTRY.stars,
        "valid_until_month": ENTRY.valid_until_month,
    }
    return StampBody(**{**fields, **change})


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({}, ()),
        ({"sequence": 0}, ()),
        ({"sequence": 30_000}, ("sequence",)),
        ({"key_id": 9}, ("key",)),
        ({"product_ref": 9, "stars": 5}, ("product", "stars")),
        ({"valid_until_month": 1}, ("valid_until",)),
        ({"batch_id": 9}, ("batch",)),
    ],
)
def test_a_stamp_is_compared_field_by_field_with_its_entry(change: dict[str, int], names: tuple[str, ...]) -> None:
    assert ENTRY.mismatches(stamp(**change)) == names


def test_the_decoded_fields_for_the_api() -> None:
    assert ENTRY.as_dict() == {
        "version": 1,
        "batch_id": 0x01020304,
        "key_id": 0x0506,
        "product_ref": 0x070809,
        "product_code": "SP-0001",
        "producer_code": "HTX-CB-01",
        "stars": 4,
        "valid_until_month": 0x0B0C,
        "first_sequence": 0,
        "last_sequence": 29_999,
        "stamp_count": 30_000,
        "issued_at": "2025-03-14T01:59:26.535Z",
    }
