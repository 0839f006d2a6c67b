"""Scratch-off codes: a hidden per-stamp code derived from the batch secret, printed under a scratch-off layer.

Pure, like serials.py, and domain-separated from the nonce and the check code: the HMAC message starts with
its own label (of a length no other label has), so no derived value says anything about another. Nothing is
stored per stamp; a reprint reproduces every code.

Guessing: 10 characters of Crockford base32 are 50 bits. With at most SCRATCH_FAILURES_PER_DAY wrong codes
per stamp a day (10 by default), a guesser needs on average 2^49 / 10 days: about 1.5e11 years.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from traceability.i18n import N_

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32, as serials.py
_TYPO = str.maketrans({"O": "0", "I": "1", "L": "1"})
CODE_CHARS = 10  # 50 bits
_LABEL = b"ocop-scratch-off-v1|"
_CODE = re.compile(rf"[{_ALPHABET}]{{{CODE_CHARS}}}")
CODE_FORMAT = N_("a scratch-off code has 10 letters and digits, e.g. 7KQ2X-M4D9P")


def scratch_code(secret: bytes, sequence: int) -> str:
    """Return the hidden code of a stamp, without separators."""
    digest = hmac.new(secret, _LABEL + sequence.to_bytes(3, "big"), hashlib.sha256).digest()
    value = int.from_bytes(digest[:8], "big") >> (64 - 5 * CODE_CHARS)
    return "".join(_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(CODE_CHARS)))


def printed(code: str) -> str:
    """Return a code as printed under the scratch-off layer: two groups of five (7KQ2X-M4D9P)."""
    return f"{code[:5]}-{code[5:]}"


def parse_code(text: str) -> str:
    """Return a typed code cleaned (case, spaces, dashes, O/I/L typos); raise ValueError if it cannot be one."""
    cleaned = re.sub(r"[\s.\-_]+", "", text.upper()[:64]).translate(_TYPO)
    if not _CODE.fullmatch(cleaned):
        raise ValueError(CODE_FORMAT)
    return cleaned


def matches(secret: bytes, sequence: int, typed: str) -> bool:
    """Say whether a cleaned code is the stamp's, in constant time."""
    return hmac.compare_digest(scratch_code(secret, sequence), typed)
