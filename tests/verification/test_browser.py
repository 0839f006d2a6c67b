"""The public page in a real headless Chromium at phone width, opened from a URL decoded off a QR image.

Each visit blocks and records any request to a host other than the live server, and adds up what was
transferred (headers and bodies) to hold the page to its 30 KB budget. Set OCOP_SCREENSHOTS=DIR to keep
full-page screenshots of every visit.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import qrcode
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from qrcode.util import MODE_8BIT_BYTE, MODE_NUMBER, QRData
from sqlalchemy import select

from traceability.db import utcnow
from traceability.stamps import codec
from traceability.stamps.signing import sign_body
from traceability.verification.claims import ScratchClaim
from traceability.verification.models import Channel, Report, Scan
from traceability.verification.scans import Device, record_scan
from traceability.verification.verdicts import Verdict

pytestmark = pytest.mark.browser

PAGE_BUDGET = 30 * 1024


def qr_decoded_url(url: str) -> str:
    """Render the stamp URL as its QR (byte-mode prefix, numeric-mode digits) and read it back with zxing-cpp."""
    prefix, digits = url.split(codec.URL_PATH, 1)
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=4)
    code.add_data(QRData((prefix + codec.URL_PATH).encode(), mode=MODE_8BIT_BYTE))
    code.add_data(QRData(digits, mode=MODE_NUMBER))
    code.make(fit=True)
    image = code.make_image().get_image().convert("L")
    decoded = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(decoded) == 1
    return decoded[0].text


@dataclass
class Visit:
    page: Any
    status: int
    name: str | None = None
    transferred: int = 0
    foreign: list[str] = field(default_factory=list)


class Phone:
    """Opens pages in fresh 360 px contexts of one shared Chromium, in a language, with or without JS."""

    def __init__(self, browser: Any, server: str) -> None:
        self.browser, self.server = browser, urlsplit(server).netloc
        self.contexts: list[Any] = []

    def open(self, url: str, *, locale: str = "vi-VN", javascript: bool = True, name: str | None = None) -> Visit:
        context = self.browser.new_context(
            viewport={"width": 360, "height": 740},
            device_scale_factor=2,
            locale=locale,
            is_mobile=True,
            has_touch=True,
            java_script_enabled=javascript,
        )
        self.contexts.append(context)
        visit = Visit(page=context.new_page(), status=0, name=name)

        def guard(route: Any) -> None:
            if urlsplit(route.request.url).netloc == self.server:
                route.continue_()
            else:
                visit.foreign.append(route.request.url)
                route.abort()

        context.route("**/*", guard)

        def count(request: Any) -> None:
            sizes = request.sizes()
            visit.transferred += sizes["responseBodySize"] + sizes["responseHeadersSize"]

        visit.page.on("requestfinished", count)
        response = visit.page.goto(url)
        visit.page.wait_for_load_state("load")
        visit.status = response.status
        self.shoot(visit, name)
        return visit

    def shoot(self, visit: Visit, name: str | None) -> None:
        folder = os.environ.get("OCOP_SCREENSHOTS")
        if folder and name:
            Path(folder).mkdir(parents=True, exist_ok=True)
            visit.page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def phones(browser: Any, live_server: Any) -> Iterator[Phone]:
    phone = Phone(browser, live_server.url)
    yield phone
    phone.close()


def verdict_of(visit: Visit) -> tuple[str, str]:
    section = visit.page.locator("section.verdict")
    return section.get_attribute("class").split()[-1], visit.page.locator("h1").inner_text()


def check_weight_and_hosts(visit: Visit) -> None:
    visit.page.wait_for_load_state("networkidle")  # every request finished and counted
    assert visit.foreign == []
    assert 0 < visit.transferred <= PAGE_BUDGET, visit.transferred
    folder = os.environ.get("OCOP_SCREENSHOTS")
    if folder and visit.name:
        with open(Path(folder) / "weights.txt", "a", encoding="utf-8") as log:
            log.write(f"{visit.name} {visit.transferred}\n")


def test_genuine_stamp_from_a_decoded_qr_in_vietnamese_and_english(
    phones: Phone, live_server: Any, issued: Any
) -> None:
    url = qr_decoded_url(issued.url(0, live_server.url))
    assert url == issued.url(0, live_server.url) and url.startswith(live_server.url + "/v/")

    vi = phones.open(url, locale="vi-VN", name="genuine-vi")
    assert vi.status == 200
    assert verdict_of(vi) == ("v-genuine", "Tem OCOP thật")
    assert vi.page.locator("html").get_attribute("lang") == "vi"
    assert vi.page.get_by_role("img", name="4 trên 5 sao").first.is_visible()
    text = vi.page.locator("main").inner_text()
    for expected in (
        "Nho xanh Ninh Thuận",
        "Hợp tác xã Nho Táo Phước Thuận",
        "Khánh Hòa",
        "VN-58-587-23011-001-22",
        "Vùng nho Phước Thuận",
        "UBND tỉnh Ninh Thuận",
        "L2026-07",
        "Đã quét 1 lần.",
    ):
        assert expected in text
    assert vi.page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling
    check_weight_and_hosts(vi)

    en = phones.open(url, locale="en-GB", name="genuine-en")
    assert verdict_of(en) == ("v-genuine", "Genuine OCOP stamp")
    assert "Scanned 2 times." in en.page.locator("main").inner_text()
    check_weight_and_hosts(en)

    # The visible switch changes the language without JavaScript, and sticks.
    en.page.get_by_role("link", name="Tiếng Việt").click()
    assert en.page.locator("h1").inner_text() == "Tem OCOP thật"


def forged_url(issued: Any, base: str) -> str:
    body = codec.parse(issued.url(0)).body
    return codec.stamp_url(base, sign_body(Ed25519PrivateKey.generate(), body))


def test_each_verdict_reads_plainly_on_a_phone(phones: Phone, live_server: Any, issued: Any, session: Any) -> None:
    base = live_server.url
    forged = phones.open(qr_decoded_url(forged_url(issued, base)), name="forged-vi")
    assert verdict_of(forged) == ("v-forged", "Tem giả")
    assert forged.page.locator("article.product").count() == 0  # no registry data for a forged code
    assert forged.page.get_by_role("button", name="Gửi báo cáo").is_visible()
    check_weight_and_hosts(forged)
    forged_en = phones.open(forged_url(issued, base), locale="en-US", name="forged-en")
    assert verdict_of(forged_en) == ("v-forged", "Fake stamp")

    inactive = phones.open(qr_decoded_url(issued.url(15, base)), name="not-activated-vi")
    assert verdict_of(inactive) == ("v-not_activated", "Tem chưa được kích hoạt")
    assert "Nho xanh Ninh Thuận" in inactive.page.locator("article.product").inner_text()
    check_weight_and_hosts(inactive)
    phones.open(issued.url(15, base), locale="en-US", name="not-activated-en")

    malformed = phones.open(base + "/v/12345", locale="en-US")
    assert verdict_of(malformed) == ("v-malformed", "Not a valid OCOP stamp code")

    # Ten networks this week: evidence for inspectors, never a public accusation (issue 9 §3).
    now = utcnow()
    for n in range(10):
        record_scan(
            session,
            channel=Channel.PAGE,
            flags=[Verdict.GENUINE],
            device=Device(f"{n:032x}", "7d1", network=f"{n:032x}"),
            at=now - timedelta(hours=n),
            text=issued.url(1),
            stamp=(issued.batch.id, 1),
        )
    session.commit()
    scanned = phones.open(issued.url(1, base), name="many-networks-vi")
    assert verdict_of(scanned) == ("v-genuine", "Tem OCOP thật")
    # A scratch-off code claimed from two networks is strong evidence: the copy is exposed, calmly.
    issued.batch.scratch_off = True
    for n in range(2):
        session.add(
            ScratchClaim(
                batch_id=issued.batch.id, sequence=1, claimed_at=now, salt_period="7d1", network_hash=f"{n:032x}"
            )
        )
    session.commit()
    suspicious = phones.open(issued.url(1, base), name="suspicious-vi")
    assert verdict_of(suspicious) == ("v-suspicious", "Có thể là bản sao của tem thật")
    check_weight_and_hosts(suspicious)
    phones.open(issued.url(1, base), locale="en-US", name="suspicious-en")


def test_report_and_province_forms_work_without_javascript(
    phones: Phone, live_server: Any, issued: Any, session: Any
) -> None:
    genuine_url = issued.url(2, live_server.url)
    forged = phones.open(forged_url(issued, live_server.url), javascript=False)
    page = forged.page
    page.get_by_label("Cửa hàng hoặc người bán").fill("Tạp hóa Minh Anh")
    page.get_by_label("Địa điểm (đường, chợ, thị trấn)").fill("Chợ Phan Rang")
    page.locator("#report-province").select_option("56")
    page.get_by_role("button", name="Gửi báo cáo").click()
    assert page.locator("h1").inner_text() == "Cảm ơn bạn: báo cáo đã được tiếp nhận"
    report = session.scalars(select(Report)).one()
    assert (report.shop_name, report.province_code, report.verdict) == ("Tạp hóa Minh Anh", "56", Verdict.FORGED)
    session.commit()  # SQLite: end the read so the server may write the next scan

    genuine = phones.open(genuine_url, locale="en-US", javascript=False)
    genuine.page.locator("#province").select_option("79")
    genuine.page.get_by_role("button", name="Tell us").click()
    assert "your province was recorded" in genuine.page.locator("#scans").inner_text()
    assert "Scanned 1 time." in genuine.page.locator("#scans").inner_text()  # back from the form: no new scan
    session.expire_all()
    scan = session.scalars(select(Scan).where(Scan.sequence == 2)).one()
    assert scan.province_code == "79"


def test_typed_serial_says_it_proves_nothing(phones: Phone, live_server: Any, issued: Any) -> None:
    home = phones.open(live_server.url + "/", locale="en-US", name="home-en")
    check_weight_and_hosts(home)
    serial = issued.stamps()[12].serial
    home.page.get_by_role("textbox", name="Serial").fill(serial.lower().replace("-", " - "))
    home.page.get_by_role("button", name="Check serial").click()
    assert home.page.locator("h1").inner_text() == "Stamp not activated"
    assert "cannot prove that the label in your hand is genuine" in home.page.locator(".caution").inner_text()
    phones.shoot(home, "serial-en")
