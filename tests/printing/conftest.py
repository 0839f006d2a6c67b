"""Fixtures for the printing tests: synthetic stamp batches with random 193-digit tokens."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from traceability.printing.sheets import PrintableStamp

PREFIX = "https://ocop.gov.vn/v/"
LABELS = ("HTX Nho Thái An", "Cơ sở Mật ong Đắk Lắk", "Trà Shan tuyết Hà Giang", "Nước mắm Phú Quốc")
SERIAL_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"

MakeStamps = Callable[..., list[PrintableStamp]]


def random_digits(rng: random.Random, n: int = 193) -> str:
    """Return n random decimal digits (leading zeros included, as real tokens are zero-padded)."""
    return "".join(rng.choice("0123456789") for _ in range(n))


def synthetic_stamps(count: int, *, seed: int = 1, batch: int = 123, n_digits: int = 193) -> list[PrintableStamp]:
    """Return a reproducible synthetic batch."""
    rng = random.Random(seed)
    return [
        PrintableStamp(
            serial=f"{batch:07d}-{i:06d}-{''.join(rng.choice(SERIAL_ALPHABET) for _ in range(5))}",
            url_prefix=PREFIX,
            digits=random_digits(rng, n_digits),
            stars=3 + i % 3,
            label=LABELS[i % len(LABELS)],
        )
        for i in range(count)
    ]


@pytest.fixture(scope="session")
def make_stamps() -> MakeStamps:
    """Return the factory of synthetic batches."""
    return synthetic_stamps
