"""A product as its producer sees it: the certificate that counts, how long it has left, whether it may be stamped.

Functions take the session first and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from traceability.registry.models import Certification, Producer, Product
from traceability.registry.services import current_certification, latest_certification, list_products


@dataclass(frozen=True)
class ProductStanding:
    """A product as its producer sees it: the certificate that counts and how long it has left."""

    product: Product
    certification: Certification | None
    certified: bool
    days_left: int | None
    # "valid", "expiring" (inside the re-evaluation window), "expired" (or otherwise not valid), "none"
    state: str


def standing(product: Product, today: date, warning_days: int) -> ProductStanding:
    """Return the product's certification standing on today."""
    valid = current_certification(product, today)
    shown = valid or latest_certification(product)
    if shown is None:
        return ProductStanding(product, None, False, None, "none")
    days_left = (shown.valid_until - today).days
    if valid is None:
        state = "expired"
    elif days_left <= warning_days:
        state = "expiring"
    else:
        state = "valid"
    return ProductStanding(product, shown, valid is not None, days_left, state)


def products_of(session: Session, producer: Producer, today: date, warning_days: int) -> list[ProductStanding]:
    """Return the producer's products with their standing."""
    return [standing(p, today, warning_days) for p in list_products(session, producer)]


def stampable_products(session: Session, producer: Producer, today: date) -> list[Product]:
    """Return the producer's products that may carry stamps today (valid certification of 3 stars or more)."""
    return [p for p in list_products(session, producer) if current_certification(p, today) is not None]
