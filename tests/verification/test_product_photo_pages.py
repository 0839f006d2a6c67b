"""The public pages and product photos (issue 11): the approved photo only, served safely, and honest wording."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import pytest
from PIL import Image
from sqlalchemy.orm import Session

from tests.registry.photo_support import camera_jpeg
from traceability.db import utcnow
from traceability.registry import photos
from traceability.registry.models import ProductPhoto
from traceability.stamps import batches, scratch
from traceability.stamps.batches import BatchOptions
from traceability.stamps.models import RangeState

BASE = "https://ocop.example.vn"
EN = {"Accept-Language": "en"}
HOME = {"REMOTE_ADDR": "203.0.113.5"}
ELSEWHERE = {"REMOTE_ADDR": "198.51.100.9"}
WITH_PHOTO = "Check that the product in your hand matches the photo, name, producer and stars below."
WITHOUT_PHOTO = "Check that the product in your hand matches the name, producer and stars below."


def path(url: str) -> str:
    return url.removeprefix(BASE)


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', html))


def add_photo(session: Session, product: Any, *, approve: bool = True, reject: bool = False) -> ProductPhoto:
    photo = photos.upload_photo(
        session, product, camera_jpeg((1600, 1200)), actor="user:p", at=utcnow(), max_bytes=10**7
    )
    if approve:
        photos.approve_photo(session, photo, actor="user:office", at=utcnow())
    if reject:
        photos.reject_photo(session, photo, "không đúng sản phẩm", actor="user:office", at=utcnow())
    session.commit()
    return photo


def shown_images(html: str) -> list[str]:
    return re.findall(r"<img [^>]*>", html.split('id="product-title"')[0])


def test_without_a_photo_the_page_compares_name_producer_and_stars(client: Any, issued: Any) -> None:
    html = client.get(path(issued.url(0)), headers=EN).get_data(as_text=True)
    assert WITHOUT_PHOTO in html and WITH_PHOTO not in html and "picture" not in html
    assert shown_images(html) == []
    vi = client.get(path(issued.url(0))).get_data(as_text=True)
    assert "có đúng tên, nhà sản xuất và số sao dưới đây" in vi and "hình ảnh" not in vi


def test_the_approved_photo_is_shown_and_served_without_metadata(client: Any, issued: Any, session: Session) -> None:
    photo = add_photo(session, issued.batch.product)
    html = client.get(path(issued.url(0)), headers=EN).get_data(as_text=True)
    assert WITH_PHOTO in html and WITHOUT_PHOTO not in html
    (tag,) = shown_images(html)
    assert f'src="/photos/{photo.digest}.webp"' in tag
    assert 'width="640"' in tag and 'height="480"' in tag and 'loading="lazy"' in tag
    assert 'alt="Photo of Nho xanh Ninh Thuận"' in tag

    served = client.get(f"/photos/{photo.digest}.webp")
    assert served.status_code == 200 and served.mimetype == "image/webp"
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(served.data)) as image:
        assert image.format == "WEBP" and image.size == (640, 480)
        assert dict(image.getexif()) == {} and "exif" not in image.info and "icc_profile" not in image.info
    assert b"PhoneCo" not in served.data and b"SN-123456789" not in served.data
    again = client.get(f"/photos/{photo.digest}.webp", headers={"If-None-Match": served.headers["ETag"]})
    assert again.status_code == 304
    thumbnail = client.get(f"/photos/thumbnails/{photo.digest}.webp")
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/webp"

    typed = client.get("/serial", query_string={"s": issued.stamps()[0].serial}, headers=EN).get_data(as_text=True)
    assert WITH_PHOTO in typed and f"/photos/{photo.digest}.webp" in typed


@pytest.mark.parametrize("decision", ["pending", "rejected"])
def test_a_photo_not_approved_is_neither_shown_nor_served(
    client: Any, issued: Any, session: Session, decision: str
) -> None:
    photo = add_photo(session, issued.batch.product, approve=False, reject=decision == "rejected")
    html = client.get(path(issued.url(0)), headers=EN).get_data(as_text=True)
    assert shown_images(html) == [] and WITHOUT_PHOTO in html
    assert client.get(f"/photos/{photo.digest}.webp").status_code == 404
    assert client.get(f"/photos/thumbnails/{photo.digest}.webp").status_code == 404


def test_a_withdrawn_photo_leaves_the_page(client: Any, issued: Any, session: Session) -> None:
    photo = add_photo(session, issued.batch.product)
    photos.reject_photo(session, photo, "bao bì đã đổi", actor="user:office", at=utcnow())
    session.commit()
    html = client.get(path(issued.url(0)), headers=EN).get_data(as_text=True)
    assert shown_images(html) == [] and client.get(f"/photos/{photo.digest}.webp").status_code == 404


def test_not_activated_gives_the_likely_cause_first_and_what_to_do(client: Any, issued: Any) -> None:
    html = client.get(path(issued.url(15)), headers=EN).get_data(as_text=True)
    assert "Stamp not activated" in html
    assert "Most often the producer has simply not activated it yet" in html
    assert "less often, the stamp was taken from the print run before use" in html
    assert "check again in a day or two" in html and "report it with the form below" in html
    assert "stolen" not in html
    vi = client.get(path(issued.url(15))).get_data(as_text=True)
    assert "nhà sản xuất chưa kích hoạt tem" in vi and "đánh cắp" not in vi


def test_the_thank_you_page_is_not_a_genuine_verdict(client: Any, issued: Any, session: Session) -> None:
    page = client.get(path(issued.url(15)), headers=EN).get_data(as_text=True)
    fields = hidden_fields(page.split('id="report"')[1])
    response = client.post(
        "/report", data={**fields, "shop_name": "Tạp hóa Minh Anh", "place": "Chợ Phan Rang"}, headers=EN
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 201 and "Thank you: your report was received" in html
    assert "v-genuine" not in html and "✓" not in html and 'class="verdict' not in html
    assert "says nothing about the product" in html


@pytest.fixture
def scratched(session: Session, store: Any, signing_key: Any, factory: Any) -> Any:
    """Return a scratch-off batch of 5 stamps, all activated."""
    product = factory.product("NT-SP07", producer=factory.producer("NT-P07"), stars=4)
    batch = batches.issue_direct(
        session, store, product, 5, BatchOptions(scratch_off=True), actor="test", maximum=100, today=date.today()
    )
    batches.change_range(session, batch, 0, 5, RangeState.ACTIVATED, actor="test")
    session.commit()
    return batch, store.load(signing_key.id)


def test_the_suspicious_page_says_where_and_when_the_stamp_was_first_scanned(client: Any, scratched: Any) -> None:
    batch, key = scratched
    stamp_path = path(next(batches.stamps(batch, key, BASE, 0, 1)).url)
    assert batch.secret is not None
    code = scratch.printed(scratch.scratch_code(batch.secret, 0))
    # The buyer scans, tells their province, and claims the code; a copy is scanned and claimed elsewhere.
    first = client.get(stamp_path, environ_base=HOME, headers=EN).get_data(as_text=True)
    place = hidden_fields(first.split('action="/place"')[1].split("</form>")[0])
    assert client.post("/place", data={**place, "province": "01"}, environ_base=HOME).status_code == 302
    for env, province in ((HOME, "01"), (ELSEWHERE, "79")):
        page = client.get(stamp_path, environ_base=env, headers=EN).get_data(as_text=True)
        claim = hidden_fields(page.split('id="claim"')[1])
        client.post("/claim", data={**claim, "scratch_code": code, "province": province}, environ_base=env)
    html = client.get(stamp_path, environ_base=ELSEWHERE, headers=EN).get_data(as_text=True)
    assert '<section class="verdict v-suspicious"' in html
    assert re.search(r"First scanned at \d\d:\d\d \d\d/\d\d/\d{4} in Hà Nội\.", html), html.split('id="scans"')[1][:600]
    assert "where and when it was first scanned" not in html  # no promise the page does not keep


@pytest.mark.browser
def test_the_genuine_page_shows_the_photo_on_a_phone_without_sideways_scrolling(
    phone: Any, live_server: Any, issued: Any, session: Session
) -> None:
    photo = add_photo(session, issued.batch.product)
    session.rollback()  # end the test's read transaction: the server's requests write scans
    phone.goto(live_server.url + path(issued.url(0)))
    image = phone.locator(f'img[src="/photos/{photo.digest}.webp"]')
    image.scroll_into_view_if_needed()
    phone.wait_for_function("document.querySelector('article.product img').complete")
    assert image.evaluate("img => img.naturalWidth") == 640
    box = image.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert (
        "Hãy kiểm tra sản phẩm trên tay bạn có đúng ảnh, tên, nhà sản xuất và số sao dưới đây."
        in phone.locator("main").inner_text()
    )


def test_the_api_gives_the_approved_photo_for_apps_to_show(client: Any, issued: Any, session: Session) -> None:
    def photo_url(sequence: int) -> Any:
        body = client.get("/api/v1/verify", query_string={"code": issued.url(sequence)}).get_json()
        return body["product"]["photo_url"]

    assert photo_url(0) is None
    pending = add_photo(session, issued.batch.product, approve=False)
    assert photo_url(1) is None  # waiting for the office: never shown
    photos.approve_photo(session, pending, actor="user:office", at=utcnow())
    session.commit()
    url = photo_url(2)
    assert url.startswith(BASE + "/photos/") and url.endswith(".webp")
    image = client.get(path(url))
    assert image.status_code == 200 and image.mimetype == "image/webp"
