"""The inspectors' scan analytics: flags, periods, batch pages and who may see them.

Scans are made through the public pages (each device a client address and user agent), so the office pages are
tested against what shoppers really leave behind.
"""

from __future__ import annotations

import io
import os
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token
from tests.office.analytics_support import (
    Stamped,
    office,
    photo,
    place,
    public_report,
    scan,
    section,
)
from traceability.audit.models import AuditEntry
from traceability.db import utcnow
from traceability.stamps import batches, serials
from traceability.stamps.batches import BatchOptions
from traceability.stamps.models import Batch, RangeState
from traceability.verification.models import Report, ReportStatus, Scan

pytestmark = pytest.mark.usefixtures("english")  # these tests read the English msgids


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
    # Verdicts: every phone was told "genuine": scan patterns are evidence for inspectors, never a public
    # accusation (issue 9 §3). Devices are counted, never shown.
    verdicts = section(html, "verdicts")
    assert re.search(r"genuine</span></td><td class=\"number\">23</td><td class=\"number\">18<", verdicts)
    assert "suspicious" not in verdicts
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
    # Stored as 5, read by people as the sixth stamp.
    revoke_link = f"/office/analytics/batches/{stamped.batch.id}/revoke-stamps?first=6&amp;last=6"
    assert revoke_link in flagged
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
            "range-first": "1",
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


# --- Every flag the public look-ups compute, typed serials included; scratch-off claims (issue 9) --------


def test_a_serial_typed_from_four_networks_is_flagged_for_the_office(
    app: Any, auth: Any, client: Any, stamped: Stamped
) -> None:
    serial = serials.serial(stamped.batch.id, 8, stamped.batch.secret)
    for network in range(4):
        typed = app.test_client().get(
            "/serial", query_string={"s": serial}, environ_base={"REMOTE_ADDR": f"198.51.{network}.7"}
        )
        assert typed.status_code == 200 and "v-suspicious" not in typed.get_data(as_text=True)
    office(auth)
    html = client.get("/office/analytics?days=7").get_data(as_text=True)
    warnings = section(html, "warnings")
    assert serial in warnings and "typed in from 4 different phones" in warnings
    batch_page = client.get(f"/office/analytics/batches/{stamped.batch.id}").get_data(as_text=True)
    assert serial in section(batch_page, "flagged")


def test_a_scratch_off_batch_shows_claimed_and_unclaimed_counts(
    app: Any, auth: Any, client: Any, session: Any, store: Any, stamped: Stamped
) -> None:
    from traceability.stamps import scratch
    from traceability.verification.claims import ScratchClaim, ScratchFailure

    batch = batches.issue_direct(
        session,
        store,
        stamped.batch.product,
        8,
        BatchOptions(scratch_off=True),
        actor="test",
        maximum=100,
        today=date.today(),
    )
    session.flush()
    now = utcnow()
    for sequence, network in ((0, "a"), (1, "a"), (1, "b"), (2, "c")):
        session.add(
            ScratchClaim(batch_id=batch.id, sequence=sequence, claimed_at=now, network_hash=network, salt_period="p")
        )
    session.add(ScratchFailure(batch_id=batch.id, sequence=5, failed_at=now))
    session.commit()
    office(auth)
    html = client.get(f"/office/analytics/batches/{batch.id}").get_data(as_text=True)
    assert '<dd id="claimed">3</dd>' in html and '<dd id="unclaimed">5</dd>' in html
    assert '<dd id="claimed-again">1</dd>' in html and '<dd id="claim-failures">1</dd>' in html
    assert batch.secret is not None and scratch.scratch_code(batch.secret, 0) not in html
    plain = client.get(f"/office/analytics/batches/{stamped.batch.id}").get_data(as_text=True)
    assert 'id="claimed"' not in plain  # a batch without scratch-off codes has nothing to count
