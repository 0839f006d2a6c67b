"""A producer cannot queue unbounded work: at most MAX_PENDING_REQUESTS requests wait for a decision."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from traceability.stamps import batches
from traceability.stamps.batches import BatchOptions
from traceability.stamps.models import Batch, BatchStatus

pytestmark = pytest.mark.usefixtures("english")


def form(product_id: int) -> dict[str, Any]:
    return {"product": product_id, "quantity": 100_000, "layout": "a4-30mm"}


def pending(session: Any) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count(Batch.id)).where(Batch.status == BatchStatus.REQUESTED)) or 0)


def test_requests_beyond_the_limit_are_refused_until_one_is_decided(
    app: Any, auth: Any, session: Any, factory: Any, producer_user: Any
) -> None:
    assert app.config["MAX_PENDING_REQUESTS"] == 5
    product = producer_user.producer.products[0]
    statuses = [auth.post("/portal/batches/new", form(product.id)).status_code for _ in range(5)]
    assert statuses == [302] * 5
    refused = auth.post("/portal/batches/new", form(product.id))
    assert refused.status_code == 422
    assert "you already have 5 requests waiting for a decision" in refused.get_data(as_text=True)
    assert pending(session) == 5

    first = session.scalars(select(Batch).order_by(Batch.id)).first()
    batches.reject(session, first, actor="user:admin", reason="too many")
    session.commit()
    assert auth.post("/portal/batches/new", form(product.id)).status_code == 302
    assert pending(session) == 5


def test_the_limit_counts_each_producer_apart(
    app: Any, auth: Any, client: Any, session: Any, factory: Any, producer_user: Any
) -> None:
    app.config["MAX_PENDING_REQUESTS"] = 1
    other = factory.product("OTHER-SP", producer=factory.producer("OTHER-P"))
    batches.new_request(session, other, 10, BatchOptions(), actor="o", maximum=100, today=date.today())
    session.commit()
    product = producer_user.producer.products[0]
    assert auth.post("/portal/batches/new", form(product.id)).status_code == 302
    assert auth.post("/portal/batches/new", form(product.id)).status_code == 422
