"""The whole workflow in headless Chromium without JavaScript: request → approve → download and activate → the
public page; then an inspector revokes some stamps after a review."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def desk(browser: Any) -> Iterator[Any]:
    """Return a factory of desktop pages, each in its own context (its own cookies)."""
    contexts = []

    def new_page() -> Any:
        # JavaScript off: every producer and office flow must work on plain HTML forms and links.
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="en-GB", accept_downloads=True, java_script_enabled=False
        )
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()


def verdict_on_page(phone: Any, base: str, url: str) -> str:
    """Open a stamp's public page on the live server and return the verdict named by the element's class."""
    token = url.rsplit("/v/", 1)[1]
    phone.goto(f"{base}/v/{token}")
    classes = (phone.locator(".verdict").first.get_attribute("class") or "").split()
    verdicts = [c.split("-", 1)[1] for c in classes if c.startswith(("verdict-", "v-"))]
    assert len(verdicts) == 1, classes
    return verdicts[0]


def test_request_approve_download_activate_verify(
    live_server: Any, desk: Any, phone: Any, auth: Any, factory: Any, signing_key: Any, app: Any
) -> None:
    producer = factory.producer("NT-HTX01", name="Hợp tác xã Nho Thái An")
    factory.product("NT-SP01", producer=producer, name="Rượu nho Thái An", stars=4)
    producer_user = auth.user("producer", producer=producer)
    admin = auth.user("administrator")
    base = live_server.url

    # The producer asks for 40 stamps.
    desk_producer = desk()
    log_in(desk_producer, base, producer_user.email, "?lang=en")
    assert desk_producer.url.endswith("/portal/")
    assert "★★★★" in desk_producer.inner_text("table.list")
    desk_producer.click("text=Request stamps >> nth=-1")
    desk_producer.select_option("select[name=product]", label="NT-SP01 — Rượu nho Thái An")
    desk_producer.fill("input[name=quantity]", "40")
    desk_producer.fill("input[name=lot]", "L-2026-07")
    desk_producer.fill("input[name=production_date]", "2026-07-01")
    desk_producer.fill("input[name=expiry_date]", "2028-07-01")
    desk_producer.select_option("select[name=layout]", "a4-30mm")
    desk_producer.click("form.stacked button[type=submit]")
    assert "waiting for approval" in desk_producer.inner_text("#batch-status")
    batch_url = desk_producer.url

    # The office approves it.
    desk_admin = desk()
    log_in(desk_admin, base, admin.email, "?lang=en")
    desk_admin.click("#queue a")
    desk_admin.click("#approve-form button")
    assert "issued" in desk_admin.inner_text("#batch-status")

    # The producer downloads the CSV and activates the first 20 stamps (1 to 20, as people count) onto bottles.
    desk_producer.goto(batch_url)
    desk_producer.click("text=Download print files")
    with desk_producer.expect_download() as download_info:
        desk_producer.click("ul.downloads a >> nth=0")
    rows = list(csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text(encoding="utf-8"))))
    assert len(rows) == 40 and rows[0]["sequence"] == "0"
    desk_producer.goto(batch_url)
    desk_producer.fill("input[name=activate-first]", rows[0]["serial"])
    desk_producer.fill("input[name=activate-last]", "20")
    desk_producer.click("#activate-form button")
    assert "activated" in desk_producer.inner_text("#ranges")
    assert desk_producer.inner_text("#ranges tbody tr:first-child").split("\t")[:2] == ["1", "20"]

    # A shopper's phone: genuine inside the activated range, not activated outside it.
    assert verdict_on_page(phone, base, rows[7]["url"]) == "genuine"
    assert verdict_on_page(phone, base, rows[30]["url"]) == "not_activated"
    api = app.test_client()
    assert api.get("/api/v1/verify", query_string={"code": rows[7]["url"]}).get_json()["verdict"] == "genuine"
    assert api.get("/api/v1/verify", query_string={"code": rows[30]["url"]}).get_json()["verdict"] == "not_activated"

    # An inspector revokes stamps 1 to 5 (labels stolen from a shop), reviewed first, without JavaScript.
    desk_inspector = desk()
    log_in(desk_inspector, base, auth.user("inspector").email, "?lang=en")
    batch_id = batch_url.rstrip("/").rsplit("/", 1)[1]
    desk_inspector.goto(f"{base}/office/analytics/batches/{batch_id}")
    desk_inspector.click(f"a[href$='/analytics/batches/{batch_id}/revoke-stamps']")
    desk_inspector.fill("input[name=range-first]", "1")
    desk_inspector.fill("input[name=range-last]", "5")
    desk_inspector.fill("textarea[name=range-reason]", "labels stolen from the shop")
    desk_inspector.click("#revoke-stamps-form button")
    assert "5" in desk_inspector.inner_text("#confirm-summary")
    assert verdict_on_page(phone, base, rows[2]["url"]) == "genuine"  # nothing changes before the confirmation
    desk_inspector.click("#confirm-form button.danger")
    assert verdict_on_page(phone, base, rows[2]["url"]) == "revoked"
    assert verdict_on_page(phone, base, rows[7]["url"]) == "genuine"
