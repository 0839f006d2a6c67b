"""Scratch-off codes: derived from the batch secret, apart from the nonce and check code, hard to guess."""

from __future__ import annotations

import pytest

from traceability.stamps import scratch, serials

SECRET = bytes(range(32))


def test_a_code_is_ten_crockford_characters_and_reproducible() -> None:
    code = scratch.scratch_code(SECRET, 7)
    assert len(code) == scratch.CODE_CHARS == 10 and set(code) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    assert scratch.scratch_code(SECRET, 7) == code  # a reprint prints the same code
    assert scratch.printed(code) == f"{code[:5]}-{code[5:]}"


def test_codes_differ_by_stamp_and_by_batch_secret() -> None:
    codes = {scratch.scratch_code(SECRET, n) for n in range(2000)}
    assert len(codes) == 2000
    assert scratch.scratch_code(bytes(32), 7) != scratch.scratch_code(SECRET, 7)


def test_a_code_is_domain_separated_from_the_check_code() -> None:
    # The printed serial's check code must reveal nothing of the hidden code: different HMAC messages.
    for sequence in range(200):
        assert not scratch.scratch_code(SECRET, sequence).startswith(serials.check_code(SECRET, sequence))


@pytest.mark.parametrize("typed", ["{code}", "{lower}", " {a} - {b} ", "{a}.{b}", "{typo}"])
def test_typed_codes_are_cleaned(typed: str) -> None:
    code = "7KQ2X0M41P"
    variants = {"code": code, "lower": code.lower(), "a": code[:5], "b": code[5:], "typo": "7KQ2XOM4IP"}
    cleaned = scratch.parse_code(typed.format(**variants))
    assert cleaned == code and scratch.matches(b"x" * 32, 0, cleaned) is (scratch.scratch_code(b"x" * 32, 0) == code)


@pytest.mark.parametrize("typed", ["", "7KQ2X", "7KQ2X0M41PZ", "7KQ2X0M41U", "７KQ2X0M41P", "x" * 200])
def test_what_cannot_be_a_code_is_refused(typed: str) -> None:
    with pytest.raises(ValueError, match="10 letters and digits"):
        scratch.parse_code(typed)
