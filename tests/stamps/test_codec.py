"""The token codec and signatures: round trips, strict parsing, and tamper rejection (hypothesis)."""

from __future__ import annotations

from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from traceability.stamps import codec
from traceability.stamps.signing import SignatureCheck, TrustedKey, check_signature, sign_body

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
RING = {7: TrustedKey(7, KEY.public_key())}
PREFIX = "https://ocop.gov.vn"

bodies = st.builds(
    codec.StampBody,
    key_id=st.just(7),
    batch_id=st.integers(1, 2**32 - 1),
    sequence=st.integers(0, 2**24 - 1),
    nonce=st.integers(0, 255),
    product_ref=st.integers(1, 2**24 - 1),
    stars=st.sampled_from([3, 4, 5]),
    valid_until_month=st.integers(0, 2**16 - 1),
)


def signed(body: codec.StampBody) -> str:
    return codec.stamp_url(PREFIX, sign_body(KEY, body))


def accepted(text: str) -> bool:
    """Say whether text parses and verifies as a stamp."""
    try:
        parsed = codec.parse(text)
    except codec.TokenRejected:
        return False
    return check_signature(parsed, RING) is SignatureCheck.VALID


@given(bodies)
def test_round_trip(body: codec.StampBody) -> None:
    url = signed(body)
    parsed = codec.parse(url)
    assert parsed.body == body
    assert parsed.url_prefix == PREFIX
    assert codec.parse(parsed.digits).body == body  # the bare token works too
    assert check_signature(parsed, RING) is SignatureCheck.VALID
    assert len(parsed.digits) == codec.TOKEN_DIGITS == 193


@given(bodies, st.data())
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_every_single_character_change_is_rejected(body: codec.StampBody, data: st.DataObject) -> None:
    url = signed(body)
    position = data.draw(st.integers(0, len(url) - 1))
    replacement = data.draw(st.characters(min_codepoint=32, max_codepoint=0x2FFF).filter(lambda c: c != url[position]))
    tampered = url[:position] + replacement + url[position + 1 :]
    if position < len(PREFIX):
        # The host is not signed (deployments move): a changed host either fails to parse or still
        # carries exactly the genuine token, and the online check shows which host was scanned.
        assert not accepted(tampered) or codec.parse(tampered).digits == codec.parse(url).digits
    else:
        assert not accepted(tampered)


@given(bodies, st.integers(1, 200))
def test_truncation_is_rejected(body: codec.StampBody, cut: int) -> None:
    url = signed(body)
    assert not accepted(url[: max(0, len(url) - cut)])


@given(bodies, st.text(min_size=1, max_size=20))
def test_extension_is_rejected(body: codec.StampBody, suffix: str) -> None:
    assert not accepted(signed(body) + suffix)


@given(bodies)
def test_other_key_is_forged_and_unknown_key_is_unknown(body: codec.StampBody) -> None:
    other = codec.parse(codec.stamp_url(PREFIX, sign_body(OTHER_KEY, body)))
    assert check_signature(other, RING) is SignatureCheck.FORGED
    stranger = codec.StampBody(**{**_fields(body), "key_id": 8})
    assert check_signature(codec.parse(sign_body(KEY, stranger)), RING) is SignatureCheck.UNKNOWN_KEY


def _fields(body: codec.StampBody) -> dict[str, int]:
    return {name: getattr(body, name) for name in codec.StampBody.__slots__}


def test_signature_covers_the_context_string() -> None:
    body = codec.StampBody(key_id=7, batch_id=1, sequence=0, nonce=1, product_ref=1, stars=4, valid_until_month=300)
    raw = codec.pack_body(body)
    without_context = codec.token_digits(raw, KEY.sign(raw))
    assert check_signature(codec.parse(without_context), RING) is SignatureCheck.FORGED


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 5000, "longer"),
        ("12345", "exactly 193 digits"),
        ("1" * 194, "exactly 193 digits"),
        ("9" * 193, "larger than any stamp"),
        ("١" * 193, "only the digits"),  # Arabic-Indic digits pass str.isdigit
        ("https://ocop.gov.vn/x/" + "1" * 193, "not a stamp URL"),
        ("HTTPS://OCOP.GOV.VN/v/" + "1" * 193, "not a stamp URL"),
        ("https://ocop.gov.vn/v/" + "1" * 193 + "?a=1", "not a stamp URL"),
        ("javascript:alert(1)", "not a stamp URL"),
        ("0" * 193, "version"),
    ],
)
def test_rejections_say_why(text: str, reason: str) -> None:
    with pytest.raises(codec.TokenRejected) as caught:
        codec.parse(text)
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [("flags", 1, "reserved flag"), ("stars", 2, "3, 4 or 5"), ("stars", 6, "3, 4 or 5")],
)
def test_bodies_this_version_never_writes_are_rejected(field: str, value: int, reason: str) -> None:
    raw = bytearray(codec.pack_body(codec.StampBody(7, 1, 0, 0, 1, 4, 300)))
    if field == "flags":
        raw[0] |= value
    else:
        raw[0] = (raw[0] & 0b11100011) | (value << 2)
    with pytest.raises(codec.TokenRejected, match=reason):
        codec.unpack_body(bytes(raw))


def test_valid_until_is_the_month_end() -> None:
    assert codec.last_day_of_month(codec.month_index(date(2027, 2, 14))) == date(2027, 2, 28)
    assert codec.last_day_of_month(codec.month_index(date(2028, 12, 1))) == date(2028, 12, 31)


@pytest.mark.parametrize("padding", [" ", "\r", "\n", "\t", "\u00a0"])
def test_surrounding_whitespace_is_rejected(padding: str) -> None:
    url = signed(codec.StampBody(7, 1, 0, 0, 1, 4, 300))
    for text in (padding + url, url + padding):
        with pytest.raises(codec.TokenRejected, match="spaces or line breaks"):
            codec.parse(text)
