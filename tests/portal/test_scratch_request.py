"""A producer asks for a batch "with scratch-off codes" on the request form, on labels with room for the box."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from traceability.stamps.models import Batch

TEMPLATES = Path(__file__).resolve().parent.parent / "printing" / "data" / "glabels"


@pytest.fixture(autouse=True)
def label_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fall back on the copied templates where Debian's glabels-data is not installed."""
    from traceability.printing import stock

    monkeypatch.setattr(stock, "TEMPLATE_DIRS", (*stock.TEMPLATE_DIRS, str(TEMPLATES)))


@pytest.mark.parametrize(("ticked", "expected"), [({"scratch_off": "y"}, True), ({}, False)])
def test_the_request_form_asks_for_scratch_off_codes(
    auth: Any, client: Any, session: Any, producer_user: Any, ticked: dict[str, str], expected: bool
) -> None:
    page = client.get("/portal/batches/new", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'name="scratch_off" type="checkbox"' in page and "With scratch-off codes" in page
    product = producer_user.producer.products[0]
    # 30 mm labels have no room for the scratch-off box beside the code: a product's labels of 64 × 38 mm have.
    form = {"product": product.id, "quantity": 50, "stock": "template", "template": "avery-l7160", **ticked}
    assert auth.post("/portal/batches/new", form).status_code == 302
    batch = session.scalar(select(Batch))
    assert batch is not None and batch.scratch_off is expected
