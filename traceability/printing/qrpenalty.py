"""Mask penalty scores (ISO/IEC 18004:2015 7.8.3, rules N1–N4) for many candidate symbols at once.

Reading of the standard adopted here (the text is ambiguous in two places; see README.md in this package):
- The scored symbol is the complete one as printed: function patterns, the format information for the mask
  being tried, version information and the dark module (as ZXing, libqrencode and Nayuki's generator do;
  python-qrcode scores with the format and version areas left light).
- N3 counts each 1:1:3:1:1 core with four light modules before it and, separately, each with four light modules
  after it, inside the symbol only: the quiet zone is outside the symbol (6.3.8), so it is not counted as light.

Two implementations give the same numbers: one on rows packed into uint64 words (symbols up to 64 modules,
i.e. version 11, which covers every stamp), and one on boolean arrays for larger symbols.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

N1, N2, N3, N4 = 3, 3, 40, 10  # N1 is the score of a 5-run; each longer module adds 1
PACKED_MAX_SIZE = 64

Words = NDArray[Any]  # uint64 lines; numpy's stubs type shifts of uint64 by int as signed
Scores = NDArray[np.int64]


def pack_lines(modules: NDArray[np.bool_]) -> Words:
    """Pack the last axis (≤ 64 modules) into one uint64 per line, module j at bit j."""
    size = modules.shape[-1]
    if size > PACKED_MAX_SIZE:
        raise ValueError(f"cannot pack lines of {size} modules into 64-bit words")
    padded = np.zeros((*modules.shape[:-1], 64), dtype=bool)
    padded[..., :size] = modules
    packed = np.packbits(padded, axis=-1, bitorder="little")
    return packed.view("<u8").reshape(modules.shape[:-1]).astype(np.uint64, copy=False)


def _popcount(words: Words) -> Scores:
    """Return the set bits of each line summed over the last axis."""
    counts: Scores = np.bitwise_count(words).sum(axis=-1, dtype=np.int64)
    return counts


def _line_scores(x: Words, size: int) -> tuple[Scores, Scores, Words]:
    """Return N1 and N3 points over lines (last axis), plus the same-colour-neighbour words for N2."""
    valid = np.uint64((1 << size) - 1)
    same = ~(x ^ (x >> 1)) & np.uint64((1 << (size - 1)) - 1)  # bit j: module j equals module j+1
    # A run of L >= 5 has L - 4 five-module windows of one colour; N1 wants N1 + (L - 5) = windows + N1 - 1.
    five = same & (same >> 1) & (same >> 2) & (same >> 3)
    run_starts = five & ~(same << 1)
    n1 = _popcount(five) + (N1 - 1) * _popcount(run_starts)
    light = ~x & valid
    core = x & (light >> 1) & (x >> 2) & (x >> 3) & (x >> 4) & (light >> 5) & (x >> 6)
    light4 = light & (light >> 1) & (light >> 2) & (light >> 3)
    n3 = _popcount(core & (light4 >> 7)) + _popcount(core & (light4 << 4))
    return n1, n3 * N3, same


def penalties_packed(rows: Words, cols: Words, size: int) -> Scores:
    """Return the N1+N2+N3+N4 score of each symbol given its packed rows and columns (..., size)."""
    n1_rows, n3_rows, same = _line_scores(rows, size)
    n1_cols, n3_cols, _ = _line_scores(cols, size)
    vertical_same = ~(rows[..., :-1] ^ rows[..., 1:])
    blocks = same[..., :-1] & same[..., 1:] & vertical_same
    n2 = N2 * _popcount(blocks)
    return n1_rows + n1_cols + n2 + n3_rows + n3_cols + _balance(_popcount(rows), size)


def _balance(dark: Scores, size: int) -> Scores:
    """Return N4: 10 points per full 5 % the dark proportion departs from 50 %."""
    total = size * size
    return N4 * (10 * np.abs(2 * dark - total) // total)


def _bool_line_scores(a: NDArray[np.bool_]) -> tuple[Scores, Scores]:
    """Return N1 and N3 points over lines along the last axis of boolean symbols."""
    same = a[..., 1:] == a[..., :-1]
    five = same[..., :-3] & same[..., 1:-2] & same[..., 2:-1] & same[..., 3:]
    after_change = np.ones_like(five)
    after_change[..., 1:] = ~same[..., : five.shape[-1] - 1]
    starts = (five & after_change).sum(axis=(-2, -1), dtype=np.int64)
    n1 = five.sum(axis=(-2, -1), dtype=np.int64) + (N1 - 1) * starts
    s = a.shape[-1]
    core = a[..., : s - 6] & ~a[..., 1 : s - 5] & a[..., 2 : s - 4] & a[..., 3 : s - 3]
    core &= a[..., 4 : s - 2] & ~a[..., 5 : s - 1] & a[..., 6:]
    light4 = ~a[..., : s - 3] & ~a[..., 1 : s - 2] & ~a[..., 2 : s - 1] & ~a[..., 3:]
    before = core[..., 4:] & light4[..., : s - 10]  # light at i..i+3, core at i+4
    after = core[..., : s - 10] & light4[..., 7:]  # core at i, light at i+7..i+10
    n3 = before.sum(axis=(-2, -1), dtype=np.int64) + after.sum(axis=(-2, -1), dtype=np.int64)
    return n1, n3 * N3


def penalties_bool(symbols: NDArray[np.bool_]) -> Scores:
    """Return the N1+N2+N3+N4 score of each boolean symbol (..., size, size)."""
    size = symbols.shape[-1]
    n1_rows, n3_rows = _bool_line_scores(symbols)
    n1_cols, n3_cols = _bool_line_scores(np.swapaxes(symbols, -1, -2))
    top, bottom = symbols[..., :-1, :], symbols[..., 1:, :]
    blocks = (top[..., :-1] == top[..., 1:]) & (bottom[..., :-1] == bottom[..., 1:])
    blocks &= top[..., :-1] == bottom[..., :-1]
    n2: Scores = N2 * blocks.sum(axis=(-2, -1), dtype=np.int64)
    dark: Scores = symbols.sum(axis=(-2, -1), dtype=np.int64)
    return n1_rows + n1_cols + n2 + n3_rows + n3_cols + _balance(dark, size)
