"""The public pages through the test client: headers, language, serial entry, reports and scan records."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from traceability.verification.models import Channel, Report, Scan
from traceability.verification.scans import device_of

BASE = "https://ocop.example.vn"


def path(url: str) -> str:
    return url.removeprefix(BASE)


def form_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', html))


def test_security_headers_and_no_inline_code(client: Any, issued: Any) -> None:
    response = client.get(path(issued.url(0)))
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "private, no-store"
    assert "Accept-Language" in headers["Vary"]
    html = response.get_data(as_text=True)
    assert "<script" not in html and "style=" not in html and "<style" not in html
    assert not re.search(r'(src|href)="(https?:)?//(?!www\.openstreetmap\.org)', html)  # nothing loaded elsewhere


@pytest.mark.parametrize(
    ("headers", "query", "title"),
    [
        ({}, "", "Tem OCOP thật"),
        ({"Accept-Language": "en-US,en;q=0.9"}, "", "Genuine OCOP stamp"),
        ({"Accept-Language": "fr"}, "", "Tem OCOP thật"),
        ({"Accept-Language": "en"}, "?lang=vi", "Tem OCOP thật"),
    ],
)
def test_language(client: Any, issued: Any, headers: dict[str, str], query: str, title: str) -> None:
    html = client.get(path(issued.url(0)) + query, headers=headers).get_data(as_text=True)
    assert f'<h1 id="verdict-title">{title}</h1>' in html


def test_language_switch_is_remembered(client: Any) -> None:
    assert "Check an OCOP stamp" in client.get("/?lang=en").get_data(as_text=True)
    assert "Check an OCOP stamp" in client.get("/").get_data(as_text=True)


def test_every_verdict_page_renders(client: Any, issued: Any, session: Any) -> None:
    from traceability.registry.services import set_certification_status
    from traceability.stamps import batches
    from traceability.stamps.models import RangeState

    batches.change_range(session, issued.batch, 5, 6, RangeState.REVOKED, actor="t", reason="stolen")
    set_certification_status(session, issued.batch.certification, "revoked", "breach")
    session.commit()
    html = client.get(path(issued.url(5)), headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<section class="verdict v-revoked"' in html
    assert "This stamp was revoked by the programme office." in html
    assert "OCOP certificate not valid" in html and "was revoked: it no longer holds" in html  # listed below
    assert html.index("Stamp withdrawn") < html.index("OCOP certificate not valid")
    assert 'id="report"' in html


def test_scans_are_recorded_without_personal_data(client: Any, app: Any, issued: Any, session: Any) -> None:
    agent = "Mozilla/5.0 (Linux; Android 13) Chrome/120"
    for _ in range(3):
        client.get(path(issued.url(0)), headers={"User-Agent": agent}, environ_base={"REMOTE_ADDR": "203.0.113.7"})
    scans = session.scalars(select(Scan)).all()
    assert [s.channel for s in scans] == [Channel.PAGE] * 3
    assert len({s.device for s in scans}) == 1  # the same phone again is the same device
    stored = " ".join(str(getattr(s, c.key)) for s in scans for c in Scan.__table__.columns)
    assert "203.0.113" not in stored and "Android" not in stored
    html = client.get(path(issued.url(0)), headers={"User-Agent": agent}).get_data(as_text=True)
    assert "Scanned 4 times." in html or "Đã quét 4 lần." in html


def test_fingerprint_salt_rotates() -> None:
    from datetime import UTC, datetime, timedelta

    monday = datetime(2026, 3, 2, 9, tzinfo=UTC)
    first = device_of("secret", monday, "203.0.113.7", "agent")
    assert first == device_of("secret", monday + timedelta(hours=5), "203.0.113.7", "agent")
    assert first.fingerprint != device_of("secret", monday + timedelta(days=8), "203.0.113.7", "agent").fingerprint
    assert first.fingerprint != device_of("other", monday, "203.0.113.7", "agent").fingerprint
    assert first.fingerprint != device_of("secret", monday, "203.0.113.8", "agent").fingerprint


def test_network_hash_groups_a_clients_neighbours() -> None:
    from datetime import UTC, datetime, timedelta

    monday = datetime(2026, 3, 2, 9, tzinfo=UTC)

    def network(address: str, key: str = "secret", at: datetime = monday) -> str | None:
        return device_of(key, at, address, "agent").network

    assert network("203.0.113.7") == network("203.0.113.200") == network("::ffff:203.0.113.9")  # one /24
    assert network("203.0.113.7") != network("203.0.114.7")
    assert network("2001:db8:1:2::1") == network("2001:db8:1:ffff::9")  # one /48
    assert network("2001:db8:1::1") != network("2001:db8:2::1")
    assert network("203.0.113.7") != network("203.0.113.7", key="other")
    assert network("203.0.113.7") != network("203.0.113.7", at=monday + timedelta(days=8))  # salt rotates
    assert (
        device_of("secret", monday, "203.0.113.7", "a").fingerprint
        != device_of("secret", monday, "203.0.113.7", "b").fingerprint
    )  # still two devices: the same phone is recognised by address and agent


def test_one_client_with_many_user_agents_leaves_the_verdict_alone(client: Any, issued: Any) -> None:
    for n in range(11):
        body = client.get(
            "/api/v1/verify",
            query_string={"code": issued.url(0)},
            headers={"User-Agent": f"Mozilla/5.0 build {n}"},
            environ_base={"REMOTE_ADDR": f"203.0.113.{n}"},
        ).get_json()
    assert body["verdict"] == "genuine" and body["scans"]["count"] == 11
    assert "clone_flags" not in body  # evidence for inspectors, not for the public


def tell(client: Any, url: str, province: str, address: str) -> str:
    """Load a stamp's page from an address and tell a province on that scan; return the page after."""
    page = client.get(path(url), environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)
    fields = form_fields(page.split('id="scans"')[1])
    response = client.post("/place", data={**fields, "province": province}, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 302
    return client.get(response.headers["Location"], environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)


def test_no_sequence_of_anonymous_requests_flips_a_genuine_stamp(client: Any, issued: Any) -> None:
    # Issue 9 §3: 60 networks load the page, each telling a province at the far end of the country from the
    # last (impossible travel, many provinces, many networks), and 6 more type the serial: all of it is
    # evidence for inspectors; the shopper's headline and the API's verdict stay genuine.
    url, serial = issued.url(0), issued.stamps()[0].serial
    for n in range(60):
        page = tell(client, url, ("04", "96", "01", "79")[n % 4], f"10.{n}.{n % 7}.9")
        assert '<section class="verdict v-genuine"' in page and "Tem OCOP thật" in page
    for n in range(6):
        client.get("/serial", query_string={"s": serial}, environ_base={"REMOTE_ADDR": f"172.16.{n}.1"})
    page = client.get(path(url), headers={"Accept-Language": "en"}, environ_base={"REMOTE_ADDR": "192.0.2.1"})
    html = page.get_data(as_text=True)
    assert '<h1 id="verdict-title">Genuine OCOP stamp</h1>' in html and "v-suspicious" not in html
    # The honest history: how often, and when and where first.
    assert "Scanned 61 times." in html and "in Cao Bằng." in html
    assert 'id="report"' in html  # what to do if the product looks wrong
    body = client.get("/api/v1/verify", query_string={"code": url}).get_json()
    assert body["verdict"] == "genuine" and body["flags"] == ["genuine"] and "clone_flags" not in body
    assert body["scans"]["first_province"] == "04"


def test_first_place_is_told_even_when_the_first_scan_told_none(client: Any, issued: Any) -> None:
    client.get(path(issued.url(0)), environ_base={"REMOTE_ADDR": "198.51.100.1"})
    tell(client, issued.url(0), "79", "198.51.101.1")
    html = client.get(path(issued.url(0)), headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "First scanned at " in html and "First scanned in a known province at " in html
    assert "in TP. Hồ Chí Minh." in html


@pytest.mark.parametrize(
    ("typed", "status", "text"),
    [
        ("{serial}", 200, "Stamp not activated"),
        ("{serial_typo}", 200, "Stamp not activated"),
        ("{wrong_check}", 404, "No stamp has this serial"),
        ("99999-00001-ABCDE", 404, "No stamp has this serial"),
        ("hello", 422, "A serial has three parts"),
    ],
)
def test_manual_serial_entry(client: Any, issued: Any, typed: str, status: int, text: str) -> None:
    serial = issued.stamps()[12].serial
    check = serial[-5:]
    values = {
        "serial": serial,
        "serial_typo": serial.lower().replace("0", "o").replace("-", " - "),
        "wrong_check": serial[:-5] + ("00000" if check != "00000" else "11111"),
    }
    response = client.get("/serial", query_string={"s": typed.format(**values)}, headers={"Accept-Language": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == status and text in html
    if status == 200:
        assert "cannot prove that the label in your hand is genuine" in html
        assert 'id="scans"' not in html  # a typed serial is not a scan of the label


def test_a_typed_serial_never_reads_genuine(client: Any, issued: Any) -> None:
    serial = issued.stamps()[0].serial  # activated
    html = client.get("/serial", query_string={"s": serial}, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Genuine OCOP stamp" not in html and "v-genuine" not in html
    assert '<h1 id="verdict-title">Serial found — this stamp is activated</h1>' in html
    under = html.split("</section>", 1)[1].lstrip()
    assert under.startswith('<p class="caution" role="note">') and "cannot prove that the label" in under
    assert 'id="report"' in html  # a label that does not match can be reported
    vi = client.get("/serial", query_string={"s": serial}).get_data(as_text=True)
    assert '<section class="verdict v-serial"' in vi and "Tem OCOP thật" not in vi and "sê-ri" in vi.split("</h1>")[0]


def test_many_clients_typing_one_serial_leave_it_a_serial_found(client: Any, issued: Any) -> None:
    serial = issued.stamps()[1].serial
    for n in range(11):
        html = client.get(
            "/serial",
            query_string={"s": serial},
            headers={"User-Agent": f"agent {n}", "Accept-Language": "en"},
            environ_base={"REMOTE_ADDR": f"198.51.{n}.7"},
        ).get_data(as_text=True)
    assert '<section class="verdict v-serial"' in html and "typed in from" not in html
    # Scanning the genuine label's QR reads genuine, and typed serials are still not counted as scans.
    body = client.get("/api/v1/verify", query_string={"code": issued.url(1)}).get_json()
    assert body["verdict"] == "genuine" and body["scans"]["count"] == 1


def photo_bytes() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    output = io.BytesIO()
    image.save(output, format="JPEG", exif=exif)
    return output.getvalue()


def test_report_is_stored_with_a_clean_photo(client: Any, issued: Any, session: Any) -> None:
    page = client.get(path(issued.url(15)), headers={"Accept-Language": "en"}).get_data(as_text=True)
    fields = form_fields(page.split('id="report"')[1])
    raw = photo_bytes()
    assert b"PhoneMaker" in raw
    response = client.post(
        "/report",
        data={
            **fields,
            "shop_name": " Tạp hóa  Minh Anh ",
            "place": "Chợ Phan Rang",
            "province": "56",
            "contact": "",
            "photo": (io.BytesIO(raw), "label.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    report = session.scalars(select(Report)).one()
    assert (report.shop_name, report.batch_id, report.sequence) == ("Tạp hóa Minh Anh", issued.batch.id, 15)
    assert report.verdict.value == "not_activated" and report.contact is None
    assert report.photo is not None and b"PhoneMaker" not in report.photo and report.photo.startswith(b"\xff\xd8")
    assert Image.open(io.BytesIO(report.photo)).getexif() == {}


def test_report_validation_csrf_spam_and_cap(client: Any, issued: Any, session: Any) -> None:
    page = client.get(path(issued.url(15))).get_data(as_text=True)
    fields = form_fields(page.split('id="report"')[1])
    good = {**fields, "shop_name": "Shop", "place": "Market"}
    assert client.post("/report", data={**good, "csrf_token": ""}).status_code == 400
    missing = client.post("/report", data={**good, "place": " "})
    assert missing.status_code == 422 and 'aria-invalid="true"' in missing.get_data(as_text=True)
    not_a_photo = client.post(
        "/report", data={**good, "photo": (io.BytesIO(b"GIF89a nonsense"), "x.gif")}, content_type="multipart/form-data"
    )
    assert not_a_photo.status_code == 201  # the report is kept, without the photo (tests/verification/test_photos.py)
    assert client.post("/report", data={**good, "website": "http://spam"}).status_code == 201  # robots: dropped
    assert [report.photo for report in session.scalars(select(Report))] == [None]
    session.commit()
    for _ in range(2):
        assert client.post("/report", data=good).status_code == 201
    assert client.post("/report", data=good).status_code == 429
    assert len(session.scalars(select(Report)).all()) == 3


def test_province_is_told_once_on_ones_own_scan(client: Any, issued: Any, session: Any) -> None:
    page = client.get(path(issued.url(0))).get_data(as_text=True)
    fields = form_fields(page.split('id="scans"')[1])
    response = client.post("/place", data={**fields, "province": "79"})
    assert response.status_code == 302 and "placed=1" in response.headers["Location"]
    back = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã quét 1 lần." in back and "TP. Hồ Chí Minh" in back
    # Another client cannot place someone else's scan.
    other = client.post("/place", data={**fields, "province": "01"}, environ_base={"REMOTE_ADDR": "192.0.2.99"})
    assert other.status_code == 422
    assert client.post("/place", data={**fields, "province": "XX"}).status_code == 422
    assert session.scalars(select(Scan.province_code)).all() == ["79"]
