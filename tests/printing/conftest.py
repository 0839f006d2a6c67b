"""Fixtures for the printing tests: synthetic stamp batches with random 193-digit tokens, issued batches, a decoder."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

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


# Database-backed fixtures for the print service, the jobs and the command (tests/conftest.py has app,
# session, store, signing_key and factory).


def decode_pdf(pdf: bytes, pages: Iterable[int] | None = None) -> list[list[str]]:
    """Return, per page (only those numbered in pages, 0-based, if given), the QR texts zbar reads at 300 dpi."""
    import pypdfium2 as pdfium
    from pyzbar import pyzbar

    document = pdfium.PdfDocument(pdf)
    found = []
    try:
        for index in range(len(document)) if pages is None else pages:
            page = document[index]
            # Without anti-aliasing, as a printer rasterises: zbar's whole-page scan misses a few smoothed codes.
            image = page.render(scale=300 / 72, grayscale=True, no_smoothpath=True).to_pil()
            page.close()
            codes = pyzbar.decode(image, symbols=[pyzbar.ZBarSymbol.QRCODE])
            found.append([c.data.decode("ascii") for c in codes])
    finally:
        document.close()
    return found


@pytest.fixture
def issue_batch(session: Any, store: Any, signing_key: Any, factory: Any) -> Callable[..., Any]:
    """Return a function issuing and committing a batch of a new certified product."""
    from datetime import date

    from traceability.stamps import batches

    def issue(quantity: int, *, activate: bool = False, lot: str | None = "L-01", **producer: Any) -> Any:
        product = factory.product(producer=factory.producer(**producer) if producer else None)
        batch = batches.issue_direct(
            session,
            store,
            product,
            quantity,
            batches.BatchOptions(lot=lot),
            actor="test",
            maximum=100_000,
            today=date.today(),
            activate=activate,
        )
        session.commit()
        return batch

    return issue


# Production refuses a PUBLIC_BASE_URL longer than 24 characters with "/v/", so every real stamp is a version-6
# code; the suite's https://ocop.example.vn (26) would make version 7, too big for 30 mm labels at 0.5 mm modules.
PRINT_BASE_URL = "https://ocop.gov.vn"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Return the suite's configuration with a production-length base URL (version-6 codes, as printed)."""
    return {**app_config, "PUBLIC_BASE_URL": PRINT_BASE_URL}


TEMPLATES = Path(__file__).parent / "data" / "glabels"  # a few of Debian glabels-data's templates


@pytest.fixture(autouse=True)
def label_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fall back on the copied templates where Debian's glabels-data is not installed."""
    from traceability.printing import stock

    monkeypatch.setattr(stock, "TEMPLATE_DIRS", (*stock.TEMPLATE_DIRS, str(TEMPLATES)))
