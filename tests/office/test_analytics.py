"""The inspectors' side of verification: reports, scan analytics, revocation from there, the offline kit.

Scans and reports are made through the public pages (each device a client address and user agent), so the
office pages are tested against what shoppers really leave behind.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.conftest import BASE_URL, csrf_token
from traceability.audit.models import AuditEntry
from traceability.db import utcnow
from traceability.stamps import batches, serials
from traceability.stamps.batches import BatchOptions, IssuedStamp
from traceability.stamps.models import Batch, BatchStatus, RangeState
from traceability.verification.models import Report, ReportStatus, Scan
from traceability.verification.reports import ReportData, file_report
from traceability.verification.scans import Device
from traceability.verification.verdicts import Verdict

pytestmark = pytest.mark.usefixtures("english")  # these tests read the English msgids

ACTIVATED = 20  # stamps 0..19 are on goods; 20..29 printed but never applied


@dataclass
class Stamped:
    batch: Batch
    stamps: list[IssuedStamp]

    def path(self, sequence: int) -> str:
        return self.stamps[sequence].url.removeprefix(BASE_URL)


@pytest.fixture
def stamped(session: Any, store: Any, signing_key: Any, publication_key: Any, factory: Any) -> Stamped:
    """Return an issued batch of 30 stamps of a 4-star product, 0..19 activated."""
    producer = factory.producer("NT-P01", name="Hợp tác xã Nho Phước Thuận", short_name="HTX Phước Thuận")
    product = factory.product("NT-SP01", producer=producer, name="Nho xanh Ninh Thuận")
    batch = batches.issue_direct(
        session, store, product, 30, BatchOptions(lot="L7"), actor="test", maximum=1000, today=date.today()
    )
    batches.change_range(session, batch, 0, ACTIVATED, RangeState.ACTIVATED, actor="test")
    session.commit()
    return Stamped(batch, list(batches.stamps(batch, store.load(signing_key.id), BASE_URL)))


def scan(app: Any, path: str, device: int, **kw: Any) -> Any:
    """Open a stamp's page as one phone (its own address and user agent), as a shopper would."""
    client = kw.pop("client", None) or app.test_client()
    return client.get(
        path,
        environ_base={"REMOTE_ADDR": f"198.51.{device}.7"},
        headers={"User-Agent": f"Phone model {device}", "Accept-Language": "en"},
    )


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', html))


def place(app: Any, path: str, device: int, province: str) -> None:
    """Scan as one phone and tell the province on the page's own form."""
    client = app.test_client()
    page = scan(app, path, device, client=client).get_data(as_text=True)
    fields = hidden_fields(page.split('id="scans"')[1])
    env = {"REMOTE_ADDR": f"198.51.{device}.7"}
    response = client.post(
        "/place",
        data={**fields, "province": province},
        environ_base=env,
        headers={"User-Agent": f"Phone model {device}"},
    )
    assert response.status_code == 302


def photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(buffer, format="JPEG")
    return buffer.getvalue()


def public_report(app: Any, path: str, device: int, **fields: Any) -> Any:
    """File a report through the stamp page's own form, as a shopper would."""
    client = app.test_client()
    env = {"REMOTE_ADDR": f"203.0.113.{device}"}
    page = client.get(path, environ_base=env).get_data(as_text=True)
    form = hidden_fields(page.split('id="report"')[1])
    return client.post("/report", data={**form, **fields}, environ_base=env, content_type="multipart/form-data")


def office(auth: Any, role: str = "inspector") -> Any:
    user = auth.user(role)
    assert auth.login(user.email).status_code == 302
    return user


def section(html: str, element_id: str) -> str:
    """Return the HTML of the element with this id (up to the end of its table, or a paragraph)."""
    start = html.index(f'id="{element_id}"')
    end = min(i for i in (html.find("</table>", start), html.find("</p>", start)) if i != -1)
    return html[start:end]


# --- Scan analytics ---------------------------------------------------------------------------------


def test_twelve_phones_on_one_stamp_make_a_warning_and_five_a_notice(
    app: Any, auth: Any, client: Any, session: Any, stamped: Stamped
) -> None:
    for device in range(12):
        assert scan(app, stamped.path(0), device).status_code == 200
    for device in range(5):
        scan(app, stamped.path(1), 100 + device)
    for _ in range(6):  # one shopper scanning again and again is never a copy
        scan(app, stamped.path(2), 200)
    office(auth)
    html = client.get("/office/analytics?lang=en").get_data(as_text=True)
    warnings, notices = section(html, "warnings"), section(html, "notices")
    serial0 = serials.serial(stamped.batch.id, 0, stamped.batch.secret)
    serial1 = serials.serial(stamped.batch.id, 1, stamped.batch.secret)
    assert serial0 in warnings and "12 different phones" in warnings
    assert serial1 in notices and "5 different phones" in notices and serial0 not in notices
    assert html.index('id="warnings"') < html.index('id="notices"')
    serial2 = serials.serial(stamped.batch.id, 2, stamped.batch.secret)
    assert serial2 not in html
    # Verdicts: the 10th, 11th and 12th phones were told "suspicious"; devices are counted, never shown.
    verdicts = section(html, "verdicts")
    assert re.search(r"suspicious</span></td><td class=\"number\">3</td><td class=\"number\">3<", verdicts)
    assert re.search(r"All</th><th class=\"number\">23</th><th class=\"number\">18<", verdicts)
    for device in session.scalars(select(Scan.device)):
        assert device not in html
    assert f'href="/office/analytics/batches/{stamped.batch.id}"' in section(html, "batches")


def test_thresholds_are_the_public_pages_own(app: Any, auth: Any, client: Any, stamped: Stamped) -> None:
    app.config["CLONE_DEVICES_WARNING"] = 3  # settings, not numbers copied into the office pages
    for device in range(3):
        scan(app, stamped.path(4), device)
    office(auth)
    html = client.get("/office/analytics").get_data(as_text=True)
    assert serials.serial(stamped.batch.id, 4, stamped.batch.secret) in section(html, "warnings")


def test_provinces_and_impossible_travel(app: Any, auth: Any, client: Any, stamped: Stamped) -> None:
    place(app, stamped.path(3), 1, "01")  # Hà Nội
    place(app, stamped.path(3), 2, "79")  # Hồ Chí Minh City a minute later: one label cannot travel so fast
    office(auth)
    html = client.get("/office/analytics?days=7&lang=en").get_data(as_text=True)
    provinces = section(html, "provinces")
    assert "Hà Nội" in provinces and "TP. Hồ Chí Minh" in provinces
    warnings = section(html, "warnings")
    assert serials.serial(stamped.batch.id, 3, stamped.batch.secret) in warnings
    assert "too soon after each other" in warnings


@pytest.mark.parametrize(("days", "status"), [("7", 200), ("30", 200), ("90", 200), ("5", 422), ("x", 422)])
def test_period_is_one_of_three(auth: Any, client: Any, days: str, status: int) -> None:
    office(auth)
    assert client.get(f"/office/analytics?days={days}").status_code == status


def test_old_scans_leave_the_short_period(app: Any, auth: Any, client: Any, session: Any, stamped: Stamped) -> None:
    scan(app, stamped.path(0), 1)
    session.execute(Scan.__table__.update().values(scanned_at=utcnow() - timedelta(days=20)))
    session.commit()
    scan(app, stamped.path(0), 2)
    office(auth)
    week = section(client.get("/office/analytics?days=7&lang=en").get_data(as_text=True), "verdicts")
    month = section(client.get("/office/analytics?days=30&lang=en").get_data(as_text=True), "verdicts")
    assert 'All</th><th class="number">1<' in week and 'All</th><th class="number">2<' in month


def test_batch_page_counts_scans_devices_and_flags(
    app: Any, auth: Any, client: Any, session: Any, stamped: Stamped
) -> None:
    for device in range(10):
        scan(app, stamped.path(5), device)
    scan(app, stamped.path(6), 50)
    scan(app, stamped.path(6), 50)
    scan(app, stamped.path(25), 60)  # never activated: the shopper is told so
    client.get(f"/serial?s={serials.serial(stamped.batch.id, 7, stamped.batch.secret)}")
    office(auth)
    html = client.get(f"/office/analytics/batches/{stamped.batch.id}?lang=en").get_data(as_text=True)
    assert '<dd id="camera-scans">13</dd>' in html and '<dd id="devices">12</dd>' in html
    assert "Typed serials</dt><dd>1</dd>" in html
    assert "Stamps scanned</dt><dd>3</dd>" in html
    flagged = section(html, "flagged")
    assert serials.serial(stamped.batch.id, 5, stamped.batch.secret) in flagged
    assert "warning" in flagged
    assert "not activated" in section(html, "verdicts")
    assert f"/office/analytics/batches/{stamped.batch.id}/revoke-stamps?first=5&amp;last=5" in flagged
    assert f'href="/office/batches/{stamped.batch.id}"' in html  # the existing office page
    assert client.get("/office/analytics/batches/9999").status_code == 404


def test_office_navigation_lists_the_new_sections(auth: Any, client: Any) -> None:
    office(auth, "administrator")
    html = client.get("/office/?lang=en").get_data(as_text=True)
    for path, label in [
        ("/office/analytics", "Scan analytics"),
        ("/office/reports", "Shoppers' reports"),
        ("/office/offline-kit", "Offline kit"),
    ]:
        assert f'<a href="{path}">{label}</a>' in html


# --- Who may see it ---------------------------------------------------------------------------------


def analytics_routes(app: Any) -> list[tuple[str, str]]:
    """Return (method, path) of every route of the analytics blueprint, with parameters filled in."""
    values = {"batch_id": 1, "report_id": 1}
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("office_analytics."):
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<int:{name}>", str(values[name]))
        routes += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


@pytest.mark.parametrize("who", ["anonymous", "producer"])
def test_producers_and_anonymous_get_403_everywhere(
    app: Any, auth: Any, client: Any, session: Any, factory: Any, stamped: Stamped, who: str
) -> None:
    public_report(app, stamped.path(25), 1, shop_name="Shop", place="Market", photo=(io.BytesIO(photo()), "a.jpg"))
    report = session.scalars(select(Report)).one()
    if who == "producer":
        auth.login(auth.user("producer", producer=stamped.batch.product.producer).email)
    routes = analytics_routes(app)
    assert len(routes) >= 8
    token = csrf_token(client, "/login")
    audit_before = session.scalar(select(func.count(AuditEntry.id)))
    for method, path in routes:
        path = path.replace("/reports/1/", f"/reports/{report.id}/").replace(
            "/batches/1", f"/batches/{stamped.batch.id}"
        )
        data = {
            "csrf_token": token,
            "range-first": "0",
            "range-last": "3",
            "range-reason": "x",
            "confirmed": "1",
            f"report{report.id}-note": "x",
            f"report{report.id}-status": "reviewed",
        }
        response = client.open(path, method=method, data=data if method == "POST" else None)
        assert response.status_code == 403, (who, method, path, response.status_code)
        assert b"\xff\xd8" not in response.data
    session.expire_all()
    assert session.get(Report, report.id).status is ReportStatus.NEW
    assert session.get(Batch, stamped.batch.id).ranges[0].state is RangeState.ACTIVATED
    assert session.scalar(select(func.count(AuditEntry.id))) == audit_before


# --- Shoppers' reports ------------------------------------------------------------------------------


def test_a_public_report_reaches_the_office_with_its_photo_for_staff_only(
    app: Any, auth: Any, client: Any, session: Any, stamped: Stamped
) -> None:
    response = public_report(
        app,
        stamped.path(25),
        7,
        shop_name="Tạp hóa Minh Anh",
        place="Chợ Phan Rang",
        province="56",
        contact="0905 123 456",
        note="Nhãn mờ",
        photo=(io.BytesIO(photo()), "label.jpg"),
    )
    assert response.status_code == 201
    report = session.scalars(select(Report)).one()
    photo_path = f"/office/reports/{report.id}/photo"
    assert photo_path not in response.get_data(as_text=True)
    assert app.test_client().get(photo_path).status_code == 403

    office(auth)
    html = client.get("/office/reports?lang=en").get_data(as_text=True)
    entry = html[html.index(f'id="report-{report.id}"') :]
    serial = serials.serial(stamped.batch.id, 25, stamped.batch.secret)
    for text in ("Tạp hóa Minh Anh", "Chợ Phan Rang", "Khánh Hòa", "0905 123 456", "Nhãn mờ", serial, "not activated"):
        assert text in entry, text
    assert f'<img src="{photo_path}"' in entry
    image = client.get(photo_path)
    assert image.status_code == 200 and image.mimetype == "image/jpeg" and image.data.startswith(b"\xff\xd8")
    assert image.headers["Cache-Control"] == "private, no-store"
    assert client.get(f"/office/reports/{report.id + 1}/photo").status_code == 404


def test_marking_a_report_handled_needs_a_note_and_is_audited(
    app: Any, auth: Any, client: Any, session: Any, stamped: Stamped
) -> None:
    assert public_report(app, stamped.path(25), 1, shop_name="Shop", place="Market").status_code == 201
    report = session.scalars(select(Report)).one()
    inspector = office(auth)
    path = f"/office/reports/{report.id}/handle"
    prefix = f"report{report.id}"
    empty = auth.post(
        path, {f"{prefix}-status": "reviewed", f"{prefix}-note": " "}, prefix=prefix, form_page="/office/reports"
    )
    assert empty.status_code == 422
    bad = auth.post(
        path, {f"{prefix}-status": "new", f"{prefix}-note": "x"}, prefix=prefix, form_page="/office/reports"
    )
    assert bad.status_code == 422 and "choose reviewed or dismissed" in bad.get_data(as_text=True)
    done = auth.post(
        path,
        {f"{prefix}-status": "reviewed", f"{prefix}-note": "Shop visited; 3 jars seized"},
        prefix=prefix,
        form_page="/office/reports",
    )
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/office/reports#report-{report.id}")
    session.expire_all()
    assert session.get(Report, report.id).status is ReportStatus.REVIEWED
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "report.handle"))
    assert entry.actor == inspector.label and entry.target == f"report:{report.id}"
    assert entry.before["status"] == "new" and entry.after == {
        "status": "reviewed",
        "verdict": "not_activated",
        "batch": stamped.batch.id,
        "note": "Shop visited; 3 jars seized",
    }
    html = client.get("/office/reports?lang=en").get_data(as_text=True)
    assert "Shop visited; 3 jars seized" in html and inspector.label in html
    assert "Shop visited" not in client.get("/office/reports?status=new").get_data(as_text=True)
    again = auth.post(
        path, {f"{prefix}-status": "reviewed", f"{prefix}-note": "again"}, prefix=prefix, form_page="/office/reports"
    )
    assert again.status_code == 409


def test_reports_are_paginated_newest_first(auth: Any, client: Any, session: Any) -> None:
    now = utcnow()
    for n in range(25):
        file_report(
            session,
            ReportData(shop_name=f"Shop {n:02d}", place="Market"),
            verdict=Verdict.FORGED,
            code="https://elsewhere.example/v/1",
            stamp=None,
            device=Device(f"{n:032x}", "7d1"),
            at=now - timedelta(minutes=25 - n),
            photo_max_bytes=1024,
        )
    session.commit()
    office(auth)
    first = client.get("/office/reports?lang=en").get_data(as_text=True)
    shops = re.findall(r"Shop (\d\d)", first)
    assert shops == [f"{n:02d}" for n in range(24, 4, -1)]
    assert "Page 1 of 2" in first and 'rel="next"' in first and "not one of our stamps" in first
    second = client.get("/office/reports?page=2&lang=en").get_data(as_text=True)
    assert re.findall(r"Shop (\d\d)", second) == ["04", "03", "02", "01", "00"]
    assert client.get("/office/reports?status=nonsense").status_code == 422


# --- Revocation -------------------------------------------------------------------------------------


def api_verdict(app: Any, stamp: IssuedStamp) -> str:
    response = app.test_client().get("/api/v1/verify", query_string={"code": stamp.url})
    return str(response.get_json()["verdict"])


def test_revoking_a_range_is_confirmed_first_then_audited_and_public(
    app: Any, auth: Any, client: Any, session: Any, stamped: Stamped
) -> None:
    assert api_verdict(app, stamped.stamps[4]) == "genuine"
    inspector = office(auth)
    page = f"/office/analytics/batches/{stamped.batch.id}/revoke-stamps"
    form = client.get(f"{page}?first=3&last=3").get_data(as_text=True)
    assert 'value="3"' in form
    serial5 = serials.serial(stamped.batch.id, 5, stamped.batch.secret)
    fields = {"range-first": "3", "range-last": serial5, "range-reason": "copies found at Chợ Đầm"}
    no_reason = auth.post(page, {**fields, "range-reason": ""}, prefix="range", form_page=page)
    assert no_reason.status_code == 422 and "a revocation needs a reason" in no_reason.get_data(as_text=True)

    preview = auth.post(page, fields, prefix="range", form_page=page)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'id="confirm-form"' in html and "Revoke 3 stamps" in html
    session.expire_all()
    assert all(
        r.state is RangeState.ACTIVATED for r in session.get(Batch, stamped.batch.id).ranges if r.start <= 3 < r.end
    )
    assert session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "batch.revoke_range")) == 0

    confirmed = hidden_fields(html)
    assert confirmed["confirmed"] == "1"
    response = client.post(
        page, data={**confirmed, "range-first": "3", "range-last": "5", "range-reason": fields["range-reason"]}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/analytics/batches/{stamped.batch.id}"
    )
    session.expire_all()
    batch = session.get(Batch, stamped.batch.id)
    assert [(r.start, r.end, r.state) for r in batch.ranges][:3] == [
        (0, 3, RangeState.ACTIVATED),
        (3, 6, RangeState.REVOKED),
        (6, 20, RangeState.ACTIVATED),
    ]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "batch.revoke_range"))
    assert entry.actor == inspector.label and entry.target == f"batch:{batch.id}"
    assert entry.after["span"] == [3, 6] and entry.after["reason"] == "copies found at Chợ Đầm"
    assert ["3", "6", "activated"] not in entry.before["ranges"]
    assert api_verdict(app, stamped.stamps[4]) == "revoked" and api_verdict(app, stamped.stamps[6]) == "genuine"
    bundle = app.test_client().get("/api/v1/revocations").get_json()["payload"]
    assert {"batch": batch.id, "start": 3, "end": 6} in bundle["stamp_ranges"]
    again = client.post(page, data={**confirmed, "range-first": "3", "range-last": "5", "range-reason": "x"})
    assert again.status_code == 409, again.get_data(as_text=True)[-3000:]
    assert "already revoked" in again.get_data(as_text=True)


def test_revoking_the_whole_batch_goes_through_the_existing_office_action(
    app: Any, auth: Any, client: Any, session: Any, stamped: Stamped
) -> None:
    scan(app, stamped.path(0), 1)
    admin = office(auth, "administrator")
    confirm = f"/office/analytics/batches/{stamped.batch.id}/revoke-batch"
    html = client.get(confirm + "?lang=en").get_data(as_text=True)
    assert f'action="/office/batches/{stamped.batch.id}/revoke"' in html and "Revoke all 30 stamps" in html
    response = auth.post(
        f"/office/batches/{stamped.batch.id}/revoke",
        {"revoke-reason": "counterfeit ring"},
        prefix="revoke",
        form_page=confirm,
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Batch, stamped.batch.id).status is BatchStatus.REVOKED
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "batch.revoke"))
    assert entry.actor == admin.label and entry.after["revocation_reason"] == "counterfeit ring"
    assert api_verdict(app, stamped.stamps[0]) == "revoked"
    after = client.get(confirm + "?lang=en").get_data(as_text=True)
    assert "revoke-form" not in after and "Only an issued batch can be revoked" in after
    kit = client.get("/office/offline-kit").get_data(as_text=True)
    assert f'<dd id="bundle-batches">1: {stamped.batch.id}</dd>' in kit


# --- Offline kit ------------------------------------------------------------------------------------


def test_offline_kit_links_the_published_files_and_the_command(
    app: Any, auth: Any, client: Any, signing_key: Any, publication_key: Any
) -> None:
    office(auth)
    html = client.get("/office/offline-kit?lang=en").get_data(as_text=True)
    for link in ("/.well-known/jwks.json", "/.well-known/ocop-trust-list.json", "/api/v1/revocations"):
        assert f'href="{link}"' in html
        assert app.test_client().get(link).status_code == 200
    assert "traceability verify --offline --trust jwks.json --revocations revocations.json CODE" in html
    assert f"curl -o revocations.json {BASE_URL}/api/v1/revocations" in html
    assert f"<td>{signing_key.id}</td>" in section(html, "keys")


def test_offline_kit_without_a_signing_key_says_why(auth: Any, client: Any) -> None:
    office(auth)
    html = client.get("/office/offline-kit?lang=en").get_data(as_text=True)
    assert "no active publication key" in html


def test_offline_kit_without_a_publication_key_says_why(auth: Any, client: Any, signing_key: Any) -> None:
    office(auth)
    html = client.get("/office/offline-kit?lang=en").get_data(as_text=True)
    assert "no active publication key" in html and "keys generate --purpose publication" in html


# --- In a browser -----------------------------------------------------------------------------------


@pytest.mark.browser
def test_pages_in_a_browser(
    app: Any, auth: Any, live_server: Any, browser: Any, session: Any, stamped: Stamped
) -> None:
    from tests.conftest import PASSWORD

    for device in range(11):
        scan(app, stamped.path(0), device)
    for device in range(4):
        scan(app, stamped.path(1), 50 + device)
    response = public_report(
        app,
        stamped.path(25),
        1,
        shop_name="Tạp hóa Minh Anh",
        place="Chợ Phan Rang",
        province="56",
        contact="0905 123 456",
        photo=(io.BytesIO(photo()), "label.jpg"),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    inspector = auth.user("inspector")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{live_server.url}/login?lang=en")
    page.fill("input[name=email]", inspector.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stacked button[type=submit]")
    folder = os.environ.get("OCOP_SCREENSHOTS")
    for name, path in [
        ("analytics", "/office/analytics"),
        ("analytics-batch", f"/office/analytics/batches/{stamped.batch.id}"),
        ("reports", "/office/reports"),
        ("offline-kit", "/office/offline-kit"),
    ]:
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200, path
        if folder:
            page.screenshot(path=str(Path(folder) / f"office-{name}.png"), full_page=True)
        if name == "reports":  # the photo loads from the staff-only route, under the page's CSP
            assert page.locator("article.report img").evaluate("img => img.naturalWidth") == 64
    # Revoke stamp 0 from its warning, without JavaScript: form, confirmation, done.
    page.goto(f"{live_server.url}/office/analytics")
    page.click("#warnings a:has-text('Revoke this stamp')")
    page.fill("textarea[name=range-reason]", "copied labels")
    page.click("#revoke-stamps-form button[type=submit]")
    if folder:
        page.screenshot(path=str(Path(folder) / "office-revoke-confirm.png"), full_page=True)
    page.click("#confirm-form button.danger")
    assert page.url.endswith(f"/office/analytics/batches/{stamped.batch.id}")
    assert "copied labels" in page.locator("#ranges").inner_text()
    assert not errors, errors  # CSP violations show up as console errors
    context.close()
