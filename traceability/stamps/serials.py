"""Per-stamp secrets derived from the batch secret: the random byte and the printed check code."""

from __future__ import annotations

import hashlib
import hmac
import re

from traceability.i18n import N_

# Crockford base32: no I, L, O or U, so a serial read aloud or typed from a label survives.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TYPO = str.maketrans({"O": "0", "I": "1", "L": "1"})
CHECK_CHARS = 5  # 25 bits: guessing one stamp's serial takes ~16 million tries against a rate limit
_SERIAL = re.compile(rf"([0-9]{{1,10}})-([0-9]{{1,8}})-([0-9A-Z]{{{CHECK_CHARS}}})")
# What a typed serial that cannot be read is told: the ValueError of parse_serial, and a catalog msgid.
SERIAL_FORMAT = N_("a serial looks like 1042-00045-7KQ2X: batch, stamp number and a 5-character check")


def _mac(secret: bytes, label: bytes, sequence: int) -> bytes:
    return hmac.new(secret, label + sequence.to_bytes(3, "big"), hashlib.sha256).digest()


def nonce(secret: bytes, sequence: int) -> int:
    """Return the stamp's random byte, derived so that a reprint reproduces it."""
    return _mac(secret, b"nonce", sequence)[0]


def check_code(secret: bytes, sequence: int) -> str:
    """Return the printed check code of a stamp."""
    value = int.from_bytes(_mac(secret, b"serial", sequence)[:4], "big") >> (32 - 5 * CHECK_CHARS)
    return "".join(_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(CHECK_CHARS)))


def serial(batch_id: int, sequence: int, secret: bytes) -> str:
    """Return the short serial printed under a QR, e.g. 1042-00045-7KQ2X."""
    return f"{batch_id}-{sequence:05d}-{check_code(secret, sequence)}"


def parse_serial(text: str) -> tuple[int, int, str]:
    """Parse a typed serial into (batch id, sequence, check code); raise ValueError with a reason."""
    cleaned = re.sub(r"[\s.]+", "", text.upper()).replace("_", "-").translate(_TYPO)
    match = _SERIAL.fullmatch(cleaned)
    if match is None:
        raise ValueError(SERIAL_FORMAT)
    return int(match.group(1)), int(match.group(2)), match.group(3)
