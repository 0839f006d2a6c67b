"""The office pages on a 360 px phone: wide tables scroll inside their own box, the page never sideways.

An administrator with some of everything (a request waiting, an issued batch with scans, clone flags, a
report and a print job) reads the pages in Vietnamese, the longer of the two languages.
"""

from __future__ import annotations

import io
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.conftest import BASE_URL
from tests.live import log_in
from traceability.printing import jobs
from traceability.stamps import batches
from traceability.stamps.batches import BatchOptions
from traceability.stamps.models import RangeState

PHONE_WIDTH = 360


def scan(app: Any, path: str, device: int) -> None:
    """Open a stamp's page as one phone (its own address and user agent)."""
    response = app.test_client().get(
        path, environ_base={"REMOTE_ADDR": f"198.51.{device}.7"}, headers={"User-Agent": f"Phone model {device}"}
    )
    assert response.status_code == 200


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def world(app: Any, auth: Any, session: Any, store: Any, signing_key: Any, factory: Any) -> dict[str, Any]:
    """Make an issued batch scanned from 12 phones (clone flags), a request waiting and a print job queued."""
    producer = factory.producer("NT-P01", name="Hợp tác xã Nho Phước Thuận", short_name="HTX Nho Phước Thuận")
    product = factory.product("NT-SP01", producer=producer, name="Rượu vang nho Ninh Thuận thượng hạng")
    options = BatchOptions(lot="LO-2025-THANG-11-A", layout="a4-30mm")
    issued = batches.issue_direct(session, store, product, 30, options, actor="test", maximum=1000, today=date.today())
    batches.change_range(session, issued, 0, 20, RangeState.ACTIVATED, actor="test", reason="dán lên hộp quà Tết")
    batches.new_request(session, product, 5000, options, actor="user:p@x.vn", maximum=100_000, today=date.today())
    jobs.request_print(session, issued, "a4-30mm", "test", print_dir=app.config["PRINT_DIR"])  # queued: listed
    session.commit()
    stamps = list(batches.stamps(issued, store.load(signing_key.id), BASE_URL, 0, 2))
    for device in range(12):
        scan(app, stamps[0].url.removeprefix(BASE_URL), device)
    scan(app, stamps[1].url.removeprefix(BASE_URL), 99)
    users = {
        role: auth.user(role, producer=producer if role == "producer" else None)
        for role in ("administrator", "producer")
    }
    return {"batch": issued, "product": product, "users": users}


@pytest.mark.browser
def test_office_pages_never_scroll_sideways_on_a_phone(live_server: Any, phone: Any, world: dict[str, Any]) -> None:
    """OCOP_SCREENSHOTS=DIR keeps a full-page screenshot of each page."""
    issued = world["batch"]
    log_in(phone, live_server.url, world["users"]["administrator"].email)
    folder = os.environ.get("OCOP_SCREENSHOTS")
    widths = {}
    for name, path in [
        ("queue", "/office/"),
        ("batches", "/office/batches"),
        ("batch", f"/office/batches/{issued.id}"),
        ("analytics", "/office/analytics"),
        ("analytics-batch", f"/office/analytics/batches/{issued.id}"),
        ("audit", "/office/audit"),
    ]:
        response = phone.goto(live_server.url + path)
        assert response is not None and response.status == 200, path
        if folder:
            phone.screenshot(path=str(Path(folder) / f"phone-office-{name}.png"), full_page=True)
        widths[name] = phone.evaluate("document.documentElement.scrollWidth")
    assert "NT-SP01" in phone.content()
    assert all(width <= PHONE_WIDTH for width in widths.values()), widths


# Cells past the right edge, and codes broken over two lines. A visually hidden thead (table.cards on a phone)
# is clipped away, so its cells do not count.
CLIPPED = """(width) => {
    const hidden = (cell) => {
        const head = cell.closest("thead");
        return head !== null && getComputedStyle(head).clipPath !== "none";
    };
    const name = (el) => {
        const table = el.closest("table");
        const where = table ?? el;
        return where.tagName.toLowerCase() + (where.id ? "#" + where.id : "." + where.className.split(" ").join("."));
    };
    const cells = [...document.querySelectorAll("td, th")]
        .filter((cell) => !hidden(cell) && cell.getBoundingClientRect().right > width + 1)
        .map((cell) => `${name(cell)}: ${cell.textContent.trim().slice(0, 40)}`);
    const codes = [...document.querySelectorAll(".code")]
        .filter((code) => getComputedStyle(code).display === "inline" && code.getClientRects().length > 1)
        .map((code) => `${name(code)}: code ${code.textContent.trim()} broken over lines`);
    return cells.concat(codes);
}"""


@pytest.mark.browser
def test_staff_tables_show_every_column_on_a_phone(live_server: Any, browser: Any, world: dict[str, Any]) -> None:
    """At 360 px every table cell is inside the screen: wide tables read as cards, not as a sideways scroll."""
    issued, product = world["batch"], world["product"]
    pages = {
        "administrator": [
            "/office/users",
            "/office/batches",
            f"/office/batches/{issued.id}",
            "/office/registry/",
            f"/office/registry/products/{product.code}",
            "/office/analytics",
            f"/office/analytics/batches/{issued.id}",
        ],
        "producer": ["/portal/", f"/portal/batches/{issued.id}", f"/portal/batches/{issued.id}/download"],
    }
    problems: list[str] = []
    tables = 0
    for role, paths in pages.items():
        context = browser.new_context(viewport={"width": PHONE_WIDTH, "height": 740}, locale="vi-VN")
        try:
            page = context.new_page()
            log_in(page, live_server.url, world["users"][role].email)
            for path in paths:
                response = page.goto(live_server.url + path)
                assert response is not None and response.status == 200, path
                tables += page.locator("table").count()
                problems += [f"{path} {line}" for line in page.evaluate(CLIPPED, PHONE_WIDTH)]
        finally:
            context.close()
    assert tables >= 20  # users, batches, ranges, registry, certifications, flags, top stamps, dashboard...
    assert not problems, "\n".join(problems)
