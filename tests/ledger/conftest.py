"""Fixtures for the stored ledger: batches issued through the real issuing service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from traceability.stamps import batches
from traceability.stamps.batches import BatchOptions
from traceability.stamps.models import Batch

ORIGIN = "ocop.example.vn/ocop-ledger"  # the default for the tests' PUBLIC_BASE_URL


@pytest.fixture
def issue(session: Session, store: Any, signing_key: Any, factory: Any) -> Callable[..., Batch]:
    """Return a function that issues and commits a batch of a fresh certified product."""

    def issue_one(quantity: int = 10) -> Batch:
        product = factory.product()
        batch = batches.issue_direct(
            session,
            store,
            product,
            quantity,
            BatchOptions(),
            actor="test",
            maximum=1000,
            today=date.today(),
            ledger_origin=ORIGIN,
        )
        session.commit()
        return batch

    return issue_one
