"""The batch QR encoder against python-qrcode, a literal reading of the penalty rules, and a real decoder."""

from __future__ import annotations

import random

import numpy as np
import pytest
import qrcode
import qrcode.util
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from qrcode import base as qrcode_base

from traceability.printing import qrpenalty, qrspec
from traceability.printing.qrbatch import chosen_masks, encode_batch, min_version

PREFIX = b"https://ocop.gov.vn/v/"
QRCODE_LEVELS = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}


def digit_strings(count: int, n_digits: int = 193, seed: int = 7) -> list[str]:
    """Return reproducible random digit strings."""
    rng = random.Random(seed)
    return ["".join(rng.choice("0123456789") for _ in range(n_digits)) for _ in range(count)]


def reference_qr(prefix: bytes, digits: str, version: int, ecc: str, mask: int | None) -> qrcode.QRCode:
    """Return python-qrcode's symbol with the same two explicit segments."""
    qr = qrcode.QRCode(version=version, error_correction=QRCODE_LEVELS[ecc], mask_pattern=mask)
    qr.add_data(qrcode.util.QRData(prefix, mode=qrcode.util.MODE_8BIT_BYTE))
    qr.add_data(qrcode.util.QRData(digits.encode("ascii"), mode=qrcode.util.MODE_NUMBER))
    qr.make(fit=False)
    return qr


def decode(matrix: NDArray[np.bool_], scale: int = 4) -> str:
    """Return what zxing-cpp reads from a symbol drawn with a 4-module quiet zone."""
    image = np.pad(matrix, 4).repeat(scale, axis=0).repeat(scale, axis=1)
    pixels = np.where(image, 0, 255).astype(np.uint8)
    results = zxingcpp.read_barcodes(pixels, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(results) == 1
    return str(results[0].text)


def literal_penalty(m: list[list[bool]]) -> int:
    """Score a symbol with plain loops, read straight from ISO/IEC 18004:2015 Table 11."""
    n = len(m)
    lines = [list(row) for row in m] + [[m[r][c] for r in range(n)] for c in range(n)]
    score = 0
    for line in lines:
        run = 1
        for i in range(1, n + 1):
            if i < n and line[i] == line[i - 1]:
                run += 1
                continue
            if run >= 5:
                score += 3 + (run - 5)
            run = 1
        for i in range(n - 10):
            window = "".join("1" if v else "0" for v in line[i : i + 11])
            score += 40 * (window == "10111010000") + 40 * (window == "00001011101")
    for r in range(n - 1):
        for c in range(n - 1):
            if m[r][c] == m[r][c + 1] == m[r + 1][c] == m[r + 1][c + 1]:
                score += 3
    dark = sum(map(sum, m))
    score += 10 * int(abs(dark * 100 / (n * n) - 50) // 5)
    return score


@pytest.mark.parametrize("ecc", ["L", "M", "Q", "H"])
def test_block_tables_match_qrcode(ecc: str) -> None:
    for version in range(1, 41):
        blocks = qrcode_base.rs_blocks(version, QRCODE_LEVELS[ecc])
        plan = qrspec.block_plan(version, ecc)
        assert plan.n_blocks == len(blocks)
        assert plan.data_codewords == sum(b.data_count for b in blocks)
        assert plan.total_codewords == sum(b.total_count for b in blocks)
        assert {b.total_count - b.data_count for b in blocks} == {plan.ec_per_block}
        assert qrspec.alignment_positions(version) == qrcode.util.pattern_position(version)


def test_min_version_of_a_production_stamp() -> None:
    assert min_version(PREFIX, 193, "M") == 6
    assert min_version(PREFIX, 193, "Q") == 8
    assert min_version(b"", 0, "L") == 1


def test_min_version_rejects_what_no_version_holds() -> None:
    with pytest.raises(ValueError, match=r"more than the .* bits of version 40-H"):
        min_version(PREFIX, 4000, "H")


@pytest.mark.parametrize(("ecc", "count"), [("M", 300), ("Q", 60), ("L", 20), ("H", 20)])
def test_symbols_equal_qrcode_with_our_mask_and_our_mask_is_the_standard_choice(ecc: str, count: int) -> None:
    digits = digit_strings(count, seed=count)
    symbols = encode_batch(PREFIX, digits, ecc=ecc)
    version = min_version(PREFIX, 193, ecc)
    masks = chosen_masks(symbols, ecc)
    for symbol, text, mask in zip(symbols, digits, masks, strict=True):
        qr = reference_qr(PREFIX, text, version, ecc, int(mask))
        assert np.array_equal(np.array(qr.modules, dtype=bool), symbol)
        # Score every mask on the complete symbol (format and version information drawn), with
        # qrcode's own N1-N4 code: our choice is the minimum, lowest mask number on ties.
        scores = []
        for candidate in range(8):
            qr.makeImpl(False, candidate)
            scores.append(qrcode.util.lost_point(qr.modules))
        assert int(mask) == int(np.argmin(scores))


def test_mask_choice_differs_from_qrcode_only_by_its_blank_format_area() -> None:
    """qrcode scores each mask with the format and version modules left light (makeImpl(test=True)).

    Fed those same blank symbols, our penalty function picks qrcode's mask every time: the scoring rules agree
    and the only difference is what is scored.
    """
    digits = digit_strings(200, seed=3)
    ours = chosen_masks(encode_batch(PREFIX, digits))
    differing = 0
    for text, mask in zip(digits, ours, strict=True):
        qr = reference_qr(PREFIX, text, 6, "M", None)
        theirs = int(chosen_masks(np.array([qr.modules], dtype=bool))[0])
        blank = []
        for candidate in range(8):
            qr.makeImpl(True, candidate)
            blank.append(np.array(qr.modules, dtype=bool))
        assert theirs == int(np.argmin(qrpenalty.penalties_bool(np.stack(blank))))
        differing += theirs != int(mask)
    # About half of version-6 stamps get another mask than qrcode's; every one of them decodes (see below).
    assert 40 < differing < 160


def test_every_symbol_decodes_back_exactly() -> None:
    digits = digit_strings(200, seed=11)
    for symbol, text in zip(encode_batch(PREFIX, digits), digits, strict=True):
        assert decode(symbol) == PREFIX.decode() + text


def test_packed_and_boolean_penalties_agree() -> None:
    template = qrspec.symbol_template(6, "M")
    unmasked = encode_batch(PREFIX, digit_strings(64, seed=5))
    unmasked ^= template.mask_xor[chosen_masks(unmasked)]
    candidates = unmasked[:, None] ^ template.mask_xor[None]
    rows = qrpenalty.pack_lines(candidates)
    cols = qrpenalty.pack_lines(np.swapaxes(candidates, -1, -2))
    assert np.array_equal(qrpenalty.penalties_packed(rows, cols, 41), qrpenalty.penalties_bool(candidates))


@settings(max_examples=60, deadline=None)
@given(
    version=st.integers(min_value=1, max_value=11),
    dark=st.floats(min_value=0.05, max_value=0.95),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_penalties_match_a_literal_reading_of_the_rules(version: int, dark: float, seed: int) -> None:
    size = qrspec.symbol_size(version)
    grid = np.random.default_rng(seed).random((size, size)) < dark
    expected = literal_penalty(grid.tolist())
    assert int(qrpenalty.penalties_bool(grid[None])[0]) == expected
    packed = qrpenalty.penalties_packed(qrpenalty.pack_lines(grid[None]), qrpenalty.pack_lines(grid.T[None]), size)
    assert int(packed[0]) == expected


@settings(max_examples=40, deadline=None)
@given(
    host=st.from_regex(r"[a-z0-9]{1,20}\.vn", fullmatch=True),
    n_digits=st.integers(min_value=1, max_value=400),
    ecc=st.sampled_from(["L", "M", "Q", "H"]),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_any_prefix_and_length_round_trips(host: str, n_digits: int, ecc: str, seed: int) -> None:
    prefix = f"https://{host}/v/".encode()
    digits = digit_strings(3, n_digits, seed)
    symbols = encode_batch(prefix, digits, ecc=ecc)
    version = min_version(prefix, n_digits, ecc)
    assert symbols.shape == (3, qrspec.symbol_size(version), qrspec.symbol_size(version))
    masks = chosen_masks(symbols, ecc)
    for symbol, text, mask in zip(symbols, digits, masks, strict=True):
        assert decode(symbol, scale=3) == prefix.decode() + text
        qr = reference_qr(prefix, text, version, ecc, int(mask))
        assert np.array_equal(np.array(qr.modules, dtype=bool), symbol)


def test_large_versions_use_the_boolean_penalty_path() -> None:
    digits = digit_strings(2, 3000, seed=2)
    symbols = encode_batch(PREFIX, digits, ecc="L")
    version = min_version(PREFIX, 3000, "L")
    assert qrspec.symbol_size(version) > qrpenalty.PACKED_MAX_SIZE
    template = qrspec.symbol_template(version, "L")
    for symbol, text, mask in zip(symbols, digits, chosen_masks(symbols, "L"), strict=True):
        assert decode(symbol, scale=2) == PREFIX.decode() + text
        qr = reference_qr(PREFIX, text, version, "L", int(mask))
        assert np.array_equal(np.array(qr.modules, dtype=bool), symbol)
        candidates = (symbol ^ template.mask_xor[mask])[None] ^ template.mask_xor
        assert int(mask) == int(np.argmin(qrpenalty.penalties_bool(candidates)))


def test_a_pinned_larger_version_is_honoured() -> None:
    symbols = encode_batch(PREFIX, digit_strings(2), version=9)
    assert symbols.shape == (2, 53, 53)
    with pytest.raises(ValueError, match="needs version 6-M or larger"):
        encode_batch(PREFIX, digit_strings(2), version=5)


@pytest.mark.parametrize(
    ("digits", "message"),
    [
        (["12a"], "only the digits"),
        (["123", "12"], "exactly 3 digits"),
        (["١٢٣"], "ascii"),
    ],
)
def test_bad_digit_strings_are_rejected(digits: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_batch(PREFIX, digits)


def test_unknown_level_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown error-correction level"):
        encode_batch(PREFIX, ["1"], ecc="X")
