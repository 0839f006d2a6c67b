"""QR Code symbol geometry and tables from ISO/IEC 18004, shared by the batch encoder.

Everything here depends only on (version, error-correction level) and is cached, so a batch pays for it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray

ECC_LEVELS = ("L", "M", "Q", "H")
# Format-information bits for each level (Table 12): not in L, M, Q, H order.
_ECC_FORMAT_BITS = {"L": 0b01, "M": 0b00, "Q": 0b11, "H": 0b10}

# Error-correction codewords per block and number of blocks, indexed [level][version] (Table 9).
_EC_PER_BLOCK = {
    "L": (0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28,
          28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30),
    "M": (0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
          26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28),
    "Q": (0, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30,
          28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30),
    "H": (0, 17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28,
          30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30),
}  # fmt: skip
_NUM_BLOCKS = {
    "L": (0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
          8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25),
    "M": (0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
          17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49),
    "Q": (0, 1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20,
          23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68),
    "H": (0, 1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25,
          25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81),
}  # fmt: skip

MODE_NUMERIC = 0b0001
MODE_BYTE = 0b0100
PAD_BYTES = (0xEC, 0x11)


def check_ecc(ecc: str) -> str:
    """Return the error-correction level, or raise ValueError for an unknown one."""
    if ecc not in _ECC_FORMAT_BITS:
        raise ValueError(f"unknown error-correction level {ecc!r}; expected one of {ECC_LEVELS}")
    return ecc


def symbol_size(version: int) -> int:
    """Return the side of a symbol in modules, without the quiet zone."""
    return 17 + 4 * version


def char_count_bits(mode: int, version: int) -> int:
    """Return the width of the character-count indicator for a mode (Table 3)."""
    tier = 0 if version < 10 else 1 if version < 27 else 2
    return {MODE_NUMERIC: (10, 12, 14), MODE_BYTE: (8, 16, 16)}[mode][tier]


def numeric_bits(n_digits: int) -> int:
    """Return the payload bits of n digits in numeric mode (10 bits per 3 digits)."""
    return 10 * (n_digits // 3) + (0, 4, 7)[n_digits % 3]


def raw_data_modules(version: int) -> int:
    """Return the number of modules available for codewords and remainder bits."""
    result = (16 * version + 128) * version + 64
    if version >= 2:
        n_align = version // 7 + 2
        result -= (25 * n_align - 10) * n_align - 55
    if version >= 7:
        result -= 36
    return result


@dataclass(frozen=True)
class BlockPlan:
    """Reed–Solomon block structure of one (version, level)."""

    ec_per_block: int
    short_blocks: int
    long_blocks: int
    short_data: int  # data codewords in a short block; long blocks carry one more

    @property
    def n_blocks(self) -> int:
        """Return the total number of blocks."""
        return self.short_blocks + self.long_blocks

    @property
    def data_codewords(self) -> int:
        """Return the number of data codewords in the symbol."""
        return self.n_blocks * self.short_data + self.long_blocks

    @property
    def total_codewords(self) -> int:
        """Return the number of codewords in the symbol."""
        return self.data_codewords + self.n_blocks * self.ec_per_block


@cache
def block_plan(version: int, ecc: str) -> BlockPlan:
    """Return the Reed–Solomon block structure for a version and level."""
    check_ecc(ecc)
    if not 1 <= version <= 40:
        raise ValueError(f"QR version must be 1..40, got {version}")
    total = raw_data_modules(version) // 8
    n_blocks = _NUM_BLOCKS[ecc][version]
    ec = _EC_PER_BLOCK[ecc][version]
    long_blocks = total % n_blocks
    short_total = total // n_blocks
    return BlockPlan(ec, n_blocks - long_blocks, long_blocks, short_total - ec)


def data_capacity_bits(version: int, ecc: str) -> int:
    """Return how many data bits a symbol of this version and level holds."""
    return 8 * block_plan(version, ecc).data_codewords


def alignment_positions(version: int) -> list[int]:
    """Return the row/column centres of the alignment patterns (Annex E)."""
    if version == 1:
        return []
    n_align = version // 7 + 2
    size = symbol_size(version)
    step = 26 if version == 32 else (version * 4 + n_align * 2 + 1) // (n_align * 2 - 2) * 2
    return [6] + [size - 7 - i * step for i in reversed(range(n_align - 1))]


def _bch(value: int, poly: int, poly_degree: int) -> int:
    """Return value with its BCH remainder appended (value << degree | remainder)."""
    rem = value << poly_degree
    for bit in reversed(range(poly_degree, rem.bit_length())):
        if rem >> bit & 1:
            rem ^= poly << (bit - poly_degree)
    return value << poly_degree | rem


def format_bits(ecc: str, mask: int) -> int:
    """Return the 15 masked format-information bits for a level and mask (7.9.1)."""
    return _bch(_ECC_FORMAT_BITS[check_ecc(ecc)] << 3 | mask, 0b10100110111, 10) ^ 0b101010000010010


def version_bits(version: int) -> int:
    """Return the 18 version-information bits (7.10), used from version 7 on."""
    return _bch(version, 0b1111100100101, 12)


def format_positions(size: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Return the (row, col) of format bits 0..14 in the first and in the second copy."""
    first = [(i, 8) for i in range(6)] + [(7, 8), (8, 8), (8, 7)]
    first += [(8, 14 - i) for i in range(9, 15)]
    second = [(8, size - 1 - i) for i in range(8)] + [(size - 15 + i, 8) for i in range(8, 15)]
    return first, second


@dataclass(frozen=True)
class SymbolTemplate:
    """Everything about a (version, level) symbol that does not depend on the data."""

    version: int
    size: int
    base: NDArray[np.bool_]  # (size, size) function patterns, version info, dark module
    data_index: NDArray[np.intp]  # flat module index for each bit in placement order
    mask_xor: NDArray[np.bool_]  # (8, size, size): data mask on the encoding region + format bits


def _mask_condition(mask: int, r: NDArray[np.int_], c: NDArray[np.int_]) -> NDArray[np.bool_]:
    """Return where mask pattern `mask` inverts modules (Table 10, i = row, j = column)."""
    conditions = (
        (r + c) % 2 == 0,
        r % 2 == 0,
        c % 3 == 0,
        (r + c) % 3 == 0,
        (r // 2 + c // 3) % 2 == 0,
        (r * c) % 2 + (r * c) % 3 == 0,
        ((r * c) % 2 + (r * c) % 3) % 2 == 0,
        ((r + c) % 2 + (r * c) % 3) % 2 == 0,
    )
    return np.asarray(conditions[mask])


@dataclass(frozen=True)
class _Modules:
    """Function modules being placed: their colour, and which modules they take from the data."""

    dark: NDArray[np.bool_]
    reserved: NDArray[np.bool_]

    def put(self, r: int, c: int, value: bool) -> None:
        """Set a function module."""
        self.dark[r, c] = value
        self.reserved[r, c] = True


def _finders_and_timing(modules: _Modules, size: int) -> None:
    """Place the three finder patterns with their separators, and the two timing patterns."""
    for r0, c0 in ((0, 0), (0, size - 7), (size - 7, 0)):
        for dr in range(-1, 8):
            for dc in range(-1, 8):
                r, c = r0 + dr, c0 + dc
                if 0 <= r < size and 0 <= c < size:
                    ring = max(abs(dr - 3), abs(dc - 3))
                    modules.put(r, c, ring != 2 and ring != 4)
    for i in range(8, size - 8):
        modules.put(6, i, i % 2 == 0)
        modules.put(i, 6, i % 2 == 0)


def _alignment_patterns(modules: _Modules, version: int) -> None:
    """Place the alignment patterns, except where the finder patterns are."""
    centres = alignment_positions(version)
    last = len(centres) - 1
    for ai, ar in enumerate(centres):
        for aj, ac in enumerate(centres):
            if (ai, aj) in ((0, 0), (0, last), (last, 0)):
                continue  # those corners hold finder patterns
            for dr in range(-2, 3):
                for dc in range(-2, 3):
                    modules.put(ar + dr, ac + dc, max(abs(dr), abs(dc)) != 1)


def _function_modules(version: int, size: int) -> _Modules:
    """Return every module that is not data: patterns, format area (light), dark module, version information."""
    modules = _Modules(np.zeros((size, size), dtype=bool), np.zeros((size, size), dtype=bool))
    _finders_and_timing(modules, size)
    _alignment_patterns(modules, version)
    first, second = format_positions(size)
    for r, c in first + second:
        modules.put(r, c, False)  # per-mask bits go into mask_xor
    modules.put(size - 8, 8, True)  # the always-dark module
    if version >= 7:
        bits = version_bits(version)
        for i in range(18):
            a, b = size - 11 + i % 3, i // 3
            modules.put(b, a, bool(bits >> i & 1))
            modules.put(a, b, bool(bits >> i & 1))
    return modules


def _placement_order(reserved: NDArray[np.bool_]) -> NDArray[np.intp]:
    """Return the flat index of each data module in placement order: two-column strips, right to left (7.7.3)."""
    size = reserved.shape[0]
    order: list[int] = []
    upward = True
    col = size - 1
    while col > 0:
        if col == 6:
            col -= 1  # the vertical timing pattern is skipped as a whole column
        rows = range(size - 1, -1, -1) if upward else range(size)
        for r in rows:
            for c in (col, col - 1):
                if not reserved[r, c]:
                    order.append(r * size + c)
        upward = not upward
        col -= 2
    return np.asarray(order, dtype=np.intp)


def _mask_patterns(reserved: NDArray[np.bool_], ecc: str) -> NDArray[np.bool_]:
    """Return, for each of the eight masks, what it flips: the data modules it inverts and its format bits."""
    size = reserved.shape[0]
    first, second = format_positions(size)
    rr, cc = np.indices((size, size))
    mask_xor = np.zeros((8, size, size), dtype=bool)
    for m in range(8):
        mask_xor[m] = _mask_condition(m, rr, cc) & ~reserved
        bits = format_bits(ecc, m)
        for i, ((r1, c1), (r2, c2)) in enumerate(zip(first, second, strict=True)):
            mask_xor[m, r1, c1] = mask_xor[m, r2, c2] = bool(bits >> i & 1)
    return mask_xor


@cache
def symbol_template(version: int, ecc: str) -> SymbolTemplate:
    """Build (once per process) the fixed parts of a symbol of this version and level."""
    check_ecc(ecc)
    size = symbol_size(version)
    modules = _function_modules(version, size)
    data_index = _placement_order(modules.reserved)
    assert len(data_index) == raw_data_modules(version)
    mask_xor = _mask_patterns(modules.reserved, ecc)
    for array in (modules.dark, data_index, mask_xor):
        array.setflags(write=False)
    return SymbolTemplate(version, size, modules.dark, data_index, mask_xor)
