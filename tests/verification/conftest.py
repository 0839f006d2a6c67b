"""Fixtures for the verification tests: an issued batch and its signed stamps, for any base URL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from traceability.registry.services import AreaData, save_area
from traceability.stamps import batches
from traceability.stamps.batches import BatchOptions, IssuedStamp
from traceability.stamps.models import Batch, RangeState

BASE = "https://ocop.example.vn"
ACTIVATED = 10  # stamps 0..9 are applied to goods; 10..19 are printed but never applied


@dataclass
class Issued:
    batch: Batch
    private_key: Any

    def stamps(self, base_url: str = BASE) -> list[IssuedStamp]:
        return list(batches.stamps(self.batch, self.private_key, base_url))

    def url(self, sequence: int, base_url: str = BASE) -> str:
        return next(batches.stamps(self.batch, self.private_key, base_url, sequence, sequence + 1)).url


@pytest.fixture
def issued(session: Session, store: Any, signing_key: Any, factory: Any) -> Issued:
    """Return a batch of 20 stamps of a 4-star product with a raw-material area; 0..9 activated."""
    producer = factory.producer("NT-P01", name="Hợp tác xã Nho Táo Phước Thuận")
    area = save_area(
        session,
        AreaData(
            code="NT-A01",
            name="Vùng nho Phước Thuận",
            material="Nho NH01-48",
            growing_area_code="VN-58-587-23011-001-22",
            commune="xã Phước Thuận",
            district="huyện Ninh Phước",
            province="Ninh Thuận",
            province_code="58",
            address_scheme="pre2025",
            latitude=11.5262,
            longitude=108.9481,
            size_ha=12.5,
            certifications=["VietGAP"],
            producers=["NT-P01"],
        ),
    )
    product = factory.product("NT-SP01", producer=producer, stars=4, name="Nho xanh Ninh Thuận", areas=[area.code])
    batch = batches.issue_direct(
        session,
        store,
        product,
        20,
        BatchOptions(lot="L2026-07", production_date=date(2026, 1, 5), expiry_date=date(2026, 12, 31)),
        actor="test",
        maximum=1000,
        today=date.today(),
    )
    batches.change_range(session, batch, 0, ACTIVATED, RangeState.ACTIVATED, actor="test")
    session.commit()
    return Issued(batch, store.load(signing_key.id))
