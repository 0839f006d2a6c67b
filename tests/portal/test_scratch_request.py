"""A producer asks for a batch "with scratch-off codes" on the request form."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from traceability.stamps.models import Batch


@pytest.mark.parametrize(("ticked", "expected"), [({"scratch_off": "y"}, True), ({}, False)])
def test_the_request_form_asks_for_scratch_off_codes(
    auth: Any, client: Any, session: Any, producer_user: Any, ticked: dict[str, str], expected: bool
) -> None:
    page = client.get("/portal/batches/new", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'name="scratch_off" type="checkbox"' in page and "With scratch-off codes" in page
    product = producer_user.producer.products[0]
    form = {"product": product.id, "quantity": 50, "layout": "a4-30mm", **ticked}
    assert auth.post("/portal/batches/new", form).status_code == 302
    batch = session.scalar(select(Batch))
    assert batch is not None and batch.scratch_off is expected
