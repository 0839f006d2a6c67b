"""The batch request form takes label stock three ways: a standard layout, a gLabels product found by a
server-side search, or typed dimensions; stock that cannot hold the code (or a scratch-off box) is refused."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from traceability.stamps.models import Batch

pytestmark = pytest.mark.usefixtures("english")  # these tests read the English msgids

TEMPLATES = Path(__file__).resolve().parent.parent / "printing" / "data" / "glabels"


@pytest.fixture(autouse=True)
def label_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fall back on the copied templates where Debian's glabels-data is not installed."""
    from traceability.printing import stock

    monkeypatch.setattr(stock, "TEMPLATE_DIRS", (*stock.TEMPLATE_DIRS, str(TEMPLATES)))


def request_form(product_id: int, **stock: str) -> dict[str, Any]:
    return {"product": product_id, "quantity": 40, "layout": "a4-30mm", **stock}


@pytest.mark.parametrize(
    ("stock", "stored"),
    [
        ({}, "a4-30mm"),
        ({"stock": "named", "layout": "roll-30mm", "dpi": "300"}, "roll-30mm@300"),
        ({"stock": "template", "template": "avery-l7160"}, "avery-l7160"),
        ({"stock": "custom", "page": "roll", "label_width": "40", "label_height": "30"}, "custom-40x30-roll"),
        (
            {"stock": "custom", "page": "a4", "label_width": "35", "label_height": "35", "columns": "5", "rows": "7",
             "gap_x": "3", "margin_left": "12", "margin_top": "20"},
            "custom-35x35-5x7-g3-a4-m12x20",
        ),
    ],
)  # fmt: skip
def test_the_request_stores_the_stock_chosen(
    auth: Any, session: Any, producer_user: Any, stock: dict[str, str], stored: str
) -> None:
    product = producer_user.producer.products[0]
    response = auth.post("/portal/batches/new", request_form(product.id, **stock))
    assert response.status_code == 302, response.get_data(as_text=True)
    batch = session.scalar(select(Batch))
    assert batch is not None and batch.layout == stored


def test_the_form_finds_label_products_without_javascript(auth: Any, client: Any, producer_user: Any) -> None:
    product = producer_user.producer.products[0]
    page = client.get("/portal/batches/new").get_data(as_text=True)
    assert 'name="stock" type="radio" value="template"' in page and 'name="find"' in page
    found = auth.post("/portal/batches/new", {**request_form(product.id), "template_search": "L7160", "find": "1"})
    html = found.get_data(as_text=True)
    assert found.status_code == 200 and "1 of 1 products" in html and 'class="error"' not in html
    select_html = html.split('id="template"', 1)[1].split("</select>", 1)[0]
    assert re.findall(r'value="([^"]+)"', select_html) == ["avery-l7160"]


@pytest.mark.parametrize(
    ("stock", "message"),
    [
        (
            {"stock": "custom", "page": "roll", "label_width": "20", "label_height": "20"},
            "labels of 20 × 20 mm are too small for this batch&#39;s QR code",
        ),
        ({"stock": "custom", "page": "a4", "label_width": "30", "label_height": "30", "columns": "7", "rows": "8"},
         "7 × 8 labels of 30 × 30 mm"),
        ({"stock": "custom", "page": "roll", "label_width": "forty", "label_height": "30"},
         "write a length in millimetres from 5 to 500"),
        ({"stock": "template", "template": ""}, "choose a label product from the list"),
        ({"stock": "named", "layout": "a4-20mm"}, "labels of 20 × 20 mm are too small"),
    ],
)  # fmt: skip
def test_stock_that_cannot_hold_the_code_is_refused_clearly(
    auth: Any, session: Any, producer_user: Any, stock: dict[str, str], message: str
) -> None:
    product = producer_user.producer.products[0]
    response = auth.post("/portal/batches/new", request_form(product.id, **stock))
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert session.scalar(select(func.count(Batch.id))) == 0


def test_a_too_small_label_is_refused_in_vietnamese_too(
    auth: Any, client: Any, session: Any, producer_user: Any
) -> None:
    client.set_cookie("lang", "vi")
    product = producer_user.producer.products[0]
    stock = {"stock": "custom", "page": "roll", "label_width": "20", "label_height": "20"}
    response = auth.post("/portal/batches/new", request_form(product.id, **stock))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "nhãn 20 × 20 mm quá nhỏ cho mã QR của lô này" in html
    assert session.scalar(select(func.count(Batch.id))) == 0


def test_a_scratch_off_request_needs_room_for_the_box(auth: Any, session: Any, producer_user: Any) -> None:
    product = producer_user.producer.products[0]
    refused = auth.post("/portal/batches/new", request_form(product.id, scratch_off="y"))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "scratch-off box" in html and "40.9 × 24.9 mm" in html
    assert session.scalar(select(func.count(Batch.id))) == 0
    boxed = {"scratch_off": "y", "stock": "template", "template": "avery-l7160"}
    assert auth.post("/portal/batches/new", request_form(product.id, **boxed)).status_code == 302
    batch = session.scalar(select(Batch))
    assert batch is not None and batch.scratch_off and batch.layout == "avery-l7160"
