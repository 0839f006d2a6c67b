"""Encode a whole batch of stamp QR codes at once with numpy.

Every stamp of a batch has the same structure (one byte-mode segment holding the URL prefix, then one
numeric-mode segment of a fixed number of digits), so the bit stream layout, the Reed–Solomon blocks, the
module placement and the eight candidate masks are the same for all of them: each step is one array
operation over the batch instead of a Python loop per symbol.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from traceability.printing import qrpenalty
from traceability.printing.qrspec import (
    MODE_BYTE,
    MODE_NUMERIC,
    PAD_BYTES,
    block_plan,
    char_count_bits,
    check_ecc,
    data_capacity_bits,
    format_bits,
    format_positions,
    numeric_bits,
    symbol_size,
    symbol_template,
)

CHUNK = 256  # symbols per array pass: measured fastest (the packed candidates then stay in L2 cache)


def _needed_bits(prefix_len: int, n_digits: int, version: int) -> int:
    """Return the bits of the two segments (headers included) at a version."""
    byte_segment = 4 + char_count_bits(MODE_BYTE, version) + 8 * prefix_len
    numeric_segment = 4 + char_count_bits(MODE_NUMERIC, version) + numeric_bits(n_digits)
    return byte_segment + numeric_segment


def min_version(prefix: bytes, n_digits: int, ecc: str = "M") -> int:
    """Return the smallest version holding the prefix and n digits at this level."""
    check_ecc(ecc)
    for version in range(1, 41):
        if _needed_bits(len(prefix), n_digits, version) <= data_capacity_bits(version, ecc):
            return version
    raise ValueError(
        f"a {len(prefix)}-byte prefix and {n_digits} digits need "
        f"{_needed_bits(len(prefix), n_digits, 40)} bits, more than the "
        f"{data_capacity_bits(40, ecc)} bits of version 40-{ecc}"
    )


def _bits(value: int, width: int) -> list[int]:
    """Return the `width` bits of value, most significant first."""
    return [value >> (width - 1 - i) & 1 for i in range(width)]


def _stream_template(prefix: bytes, n_digits: int, version: int, ecc: str) -> tuple[NDArray[np.uint8], int]:
    """Return the data bit stream with zeros where the digits go, and the offset of the digits."""
    capacity = data_capacity_bits(version, ecc)
    bits = _bits(MODE_BYTE, 4) + _bits(len(prefix), char_count_bits(MODE_BYTE, version))
    for byte in prefix:
        bits += _bits(byte, 8)
    bits += _bits(MODE_NUMERIC, 4) + _bits(n_digits, char_count_bits(MODE_NUMERIC, version))
    offset = len(bits)
    bits += [0] * numeric_bits(n_digits)
    bits += [0] * min(4, capacity - len(bits))  # terminator
    bits += [0] * (-len(bits) % 8)
    pad = 0
    while len(bits) < capacity:
        bits += _bits(PAD_BYTES[pad % 2], 8)
        pad += 1
    return np.asarray(bits, dtype=np.uint8), offset


def _numeric_payload(digits: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Return the numeric-mode bits of each row of decimal digits (n, n_digits)."""
    n, count = digits.shape
    full = count // 3 * 3
    d = digits.astype(np.uint16)
    groups = d[:, 0:full:3] * 100 + d[:, 1:full:3] * 10 + d[:, 2:full:3]
    parts = [((groups[:, :, None] >> np.arange(9, -1, -1, dtype=np.uint16)) & 1).reshape(n, -1)]
    rest = count - full
    if rest:
        tail = d[:, full] if rest == 1 else d[:, full] * 10 + d[:, full + 1]
        width = 4 if rest == 1 else 7
        parts.append((tail[:, None] >> np.arange(width - 1, -1, -1, dtype=np.uint16)) & 1)
    return np.concatenate(parts, axis=1).astype(np.uint8)


@lru_cache(maxsize=64)
def _gf_tables() -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """Return exp and log tables of GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1."""
    exp = np.zeros(512, dtype=np.int32)
    log = np.zeros(256, dtype=np.int32)
    value = 1
    for i in range(255):
        exp[i] = value
        log[value] = i
        value <<= 1
        if value & 0x100:
            value ^= 0x11D
    exp[255:510] = exp[:255]
    return exp, log


@lru_cache(maxsize=64)
def _rs_feedback(degree: int) -> NDArray[np.uint8]:
    """Return table[f] = generator coefficients (leading 1 dropped) times f, for every byte f."""
    exp, log = _gf_tables()
    gen = [1]  # highest power first; product of (x - a^i), i < degree
    for i in range(degree):
        nxt = [0] * (len(gen) + 1)
        for j, coef in enumerate(gen):
            nxt[j] ^= coef
            if coef:
                nxt[j + 1] ^= int(exp[log[coef] + i])
        gen = nxt
    table = np.zeros((256, degree), dtype=np.uint8)
    coefs = np.asarray(gen[1:], dtype=np.int32)
    for f in range(1, 256):
        table[f] = np.where(coefs == 0, 0, exp[(log[coefs] + log[f]) % 255])
    return table


def _rs_remainders(blocks: NDArray[np.uint8], degree: int) -> NDArray[np.uint8]:
    """Return the Reed–Solomon check bytes of each row (one LFSR step per data byte, vectorised over rows)."""
    feedback = _rs_feedback(degree)
    rem = np.zeros((blocks.shape[0], degree), dtype=np.uint8)
    for i in range(blocks.shape[1]):
        factor = blocks[:, i] ^ rem[:, 0]
        rem = np.concatenate((rem[:, 1:], np.zeros((rem.shape[0], 1), np.uint8)), axis=1)
        rem ^= feedback[factor]
    return rem


@lru_cache(maxsize=16)
def _block_layout(version: int, ecc: str) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Return gather indices: data codewords → padded blocks, and padded blocks → interleaved codewords."""
    plan = block_plan(version, ecc)
    width = plan.short_data + 1  # short blocks get a leading zero, which leaves their remainder unchanged
    sentinel = plan.data_codewords  # index of an extra zero column
    split = np.full((plan.n_blocks, width), sentinel, dtype=np.intp)
    position = 0
    for b in range(plan.n_blocks):
        length = plan.short_data + (b >= plan.short_blocks)
        split[b, width - length :] = np.arange(position, position + length)
        position += length
    row = width + plan.ec_per_block
    order = []
    for i in range(plan.short_data + 1):
        for b in range(plan.n_blocks):
            if i < plan.short_data or b >= plan.short_blocks:
                order.append(b * row + (i + 1 if b < plan.short_blocks else i))
    for i in range(plan.ec_per_block):
        order.extend(b * row + width + i for b in range(plan.n_blocks))
    return split, np.asarray(order, dtype=np.intp)


@lru_cache(maxsize=16)
def _packed_masks(version: int, ecc: str) -> tuple[qrpenalty.Words, qrpenalty.Words]:
    """Return the eight mask-and-format XOR patterns packed by rows and by columns."""
    xor = symbol_template(version, ecc).mask_xor
    return qrpenalty.pack_lines(xor), qrpenalty.pack_lines(np.swapaxes(xor, 1, 2))


def _codewords(data: NDArray[np.uint8], version: int, ecc: str) -> NDArray[np.uint8]:
    """Return the interleaved data and check codewords for data codewords (n, data_codewords)."""
    plan = block_plan(version, ecc)
    split, order = _block_layout(version, ecc)
    n = data.shape[0]
    with_zero = np.concatenate((data, np.zeros((n, 1), np.uint8)), axis=1)
    blocks = with_zero[:, split]  # (n, n_blocks, short_data + 1)
    checks = _rs_remainders(blocks.reshape(-1, split.shape[1]), plan.ec_per_block)
    full = np.concatenate((blocks, checks.reshape(n, plan.n_blocks, -1)), axis=2)
    return full.reshape(n, -1)[:, order]


def _choose_masks(unmasked: NDArray[np.bool_], version: int, ecc: str) -> NDArray[np.intp]:
    """Return the mask with the lowest penalty for each symbol (the lowest number on ties)."""
    size = unmasked.shape[-1]
    if size <= qrpenalty.PACKED_MAX_SIZE:
        mask_rows, mask_cols = _packed_masks(version, ecc)
        rows = qrpenalty.pack_lines(unmasked)[:, None, :] ^ mask_rows[None]
        cols = qrpenalty.pack_lines(np.swapaxes(unmasked, 1, 2))[:, None, :] ^ mask_cols[None]
        scores = qrpenalty.penalties_packed(rows, cols, size)
    else:
        xor = symbol_template(version, ecc).mask_xor
        scores = np.stack([qrpenalty.penalties_bool(unmasked ^ xor[m]) for m in range(8)], axis=1)
    best: NDArray[np.intp] = np.argmin(scores, axis=1)
    return best


def _digit_array(digit_strings: Sequence[str], n_digits: int) -> NDArray[np.uint8]:
    """Return the digits as an (n, n_digits) array, or raise ValueError if any string is not n decimal digits."""
    if any(len(s) != n_digits for s in digit_strings):
        raise ValueError(f"every digit string must have exactly {n_digits} digits")
    raw = np.frombuffer("".join(digit_strings).encode("ascii"), dtype=np.uint8) - np.uint8(48)
    if raw.size and int(raw.max()) > 9:
        raise ValueError("digit strings may contain only the digits 0-9")
    return raw.reshape(len(digit_strings), n_digits)


def encode_batch(
    prefix: bytes, digit_strings: Sequence[str], *, ecc: str = "M", version: int | None = None
) -> NDArray[np.bool_]:
    """Encode prefix + digits for each string as QR symbols (n, size, size), True = dark, no quiet zone."""
    check_ecc(ecc)
    n_digits = len(digit_strings[0]) if len(digit_strings) else 0
    fitting = min_version(prefix, n_digits, ecc)
    if version is None:
        version = fitting
    elif not fitting <= version <= 40:
        raise ValueError(f"the data needs version {fitting}-{ecc} or larger, not {version}")
    digits = _digit_array(digit_strings, n_digits)
    template, offset = _stream_template(prefix, n_digits, version, ecc)
    symbol = symbol_template(version, ecc)
    size = symbol_size(version)
    out = np.empty((len(digit_strings), size, size), dtype=bool)
    for start in range(0, len(digit_strings), CHUNK):
        chunk = digits[start : start + CHUNK]
        n = chunk.shape[0]
        stream = np.tile(template, (n, 1))
        stream[:, offset : offset + numeric_bits(n_digits)] = _numeric_payload(chunk)
        codewords = _codewords(np.packbits(stream, axis=1), version, ecc)
        bits = np.unpackbits(codewords, axis=1).view(bool)
        flat = np.tile(symbol.base.reshape(-1), (n, 1))
        flat[:, symbol.data_index[: bits.shape[1]]] = bits
        unmasked = flat.reshape(n, size, size)
        masks = _choose_masks(unmasked, version, ecc)
        out[start : start + n] = unmasked ^ symbol.mask_xor[masks]
    return out


def chosen_masks(symbols: NDArray[np.bool_], ecc: str = "M") -> NDArray[np.intp]:
    """Return the mask number each encoded symbol carries in its format information."""
    size = symbols.shape[-1]
    first, _ = format_positions(size)
    read = np.zeros(symbols.shape[0], dtype=np.int64)
    for i, (r, c) in enumerate(first):
        read |= symbols[:, r, c].astype(np.int64) << i
    lookup = {format_bits(ecc, m): m for m in range(8)}
    return np.asarray([lookup[int(v)] for v in read], dtype=np.intp)
