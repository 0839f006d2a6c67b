"""Every public and staff page in headless Chromium: no WCAG 2.1 A/AA violation (axe-core), none wider than a
360 px phone, staff pages in Vietnam time with 1-based stamp numbers.

The pages come from the app's url_map, so a new GET route fails here until it is visited or excluded with a
reason. axe-core is installed from npm by scripts/test (tests/browser/package.json pins it) and injected into each
page; the context bypasses the Content-Security-Policy only so that the injected script may run. Set
OCOP_SCREENSHOTS=DIR to keep a full-page screenshot of each page at 360 px and at 1280 px.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BASE_URL
from tests.live import log_in
from traceability.printing import jobs
from traceability.stamps import batches
from traceability.stamps.batches import BatchOptions
from traceability.stamps.models import RangeState

AXE = Path(__file__).with_name("node_modules") / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE, DESKTOP = 360, 1280

# GET routes that are not pages a person reads, each with the reason.
EXCLUDED = {
    "static": "stylesheets (tests/test_static_files.py checks their headers)",
    "health.healthz": "JSON for the load balancer",
    "health.readyz": "JSON for the load balancer",
    "ledger.checkpoint": "signed text for verifiers",
    "ledger.consistency": "JSON API",
    "ledger.entries": "JSON API",
    "ledger.inclusion": "JSON API",
    "ledger.key": "key text for verifiers",
    "verification.openapi_document": "JSON API description",
    "verification.published_keys": "JSON key set",
    "verification.revocations": "signed JSON bundle",
    "verification.trust_list": "signed JSON trust list",
    "verification.verify_api": "JSON API",
    "portal.download": "a print file download",
    "portal.printing.download": "a print file download",
    "office.printing.download": "a print file download",
    "office_audit.export": "a CSV download",
    "office_analytics.report_photo": "an image",
    "office_photos.image": "an image",
    "portal_photos.image": "an image",
    "photos.image": "an image",
    "photos.thumbnail": "an image",
}


@pytest.fixture
def world(app: Any, auth: Any, session: Any, store: Any, signing_key: Any, factory: Any) -> dict[str, Any]:
    """Make some of everything: a producer with a certified product, an issued batch, a request, a print job."""
    from traceability.registry.services import AreaData, save_area

    producer = factory.producer("NT-P01", name="Hợp tác xã Nho Phước Thuận", short_name="HTX Nho Phước Thuận")
    area = AreaData("NT-VUNG-01", "Vùng nho Phước Thuận", "nho", "Xã Phước Thuận", "58", "pre2025", size_ha="25")
    save_area(session, area)
    session.commit()
    product = factory.product(
        "CB-NT-P01", producer=producer, name="Rượu vang nho Ninh Thuận thượng hạng", areas=["NT-VUNG-01"]
    )
    options = BatchOptions(lot="LO-2025-THANG-11-A", layout="a4-30mm")
    issued = batches.issue_direct(session, store, product, 200, options, actor="test", maximum=1000, today=date.today())
    batches.change_range(session, issued, 0, 20, RangeState.ACTIVATED, actor="test", reason="dán lên hộp quà Tết")
    batches.new_request(session, product, 500, options, actor="user:p@x.vn", maximum=100_000, today=date.today())
    job = jobs.request_print(session, issued, "a4-30mm", "test", print_dir=app.config["PRINT_DIR"])
    session.commit()
    stamp = next(batches.stamps(issued, store.load(signing_key.id), BASE_URL, 0, 1))
    users = {role: auth.user(role, producer=producer if role == "producer" else None) for role in ROLES}
    return {"batch": issued, "product": product, "producer": producer, "job": job, "stamp": stamp, "users": users}


ROLES = ("producer", "inspector", "administrator")


def pages(world: dict[str, Any]) -> dict[str, tuple[str | None, str]]:
    """Return endpoint -> (the role that reads it, or None for the public, and its path)."""
    batch, product, producer = world["batch"], world["product"], world["producer"]
    job = world["job"]
    return {
        "verification.index": (None, "/"),
        "verification.serial_page": (None, "/serial?s=" + world["stamp"].serial),
        "verification.stamp_page": (None, world["stamp"].url.removeprefix(BASE_URL)),
        "accounts.login": (None, "/login"),
        "portal.dashboard": ("producer", "/portal/"),
        "portal.request_batch": ("producer", "/portal/batches/new"),
        "portal.batch": ("producer", f"/portal/batches/{batch.id}"),
        "portal.downloads_page": ("producer", f"/portal/batches/{batch.id}/download"),
        "portal.printing.progress": ("producer", f"/portal/batches/{batch.id}/print/{job.id}"),
        "portal_photos.index": ("producer", "/portal/photos/"),
        "portal_photos.product": ("producer", f"/portal/photos/products/{product.id}"),
        "office.queue": ("inspector", "/office/"),
        "office.batch_list": ("inspector", "/office/batches"),
        "office.batch": ("administrator", f"/office/batches/{batch.id}"),
        "office.printing.progress": ("administrator", f"/office/batches/{batch.id}/print/{job.id}"),
        "office.users": ("administrator", "/office/users"),
        "office_audit.log": ("administrator", "/office/audit"),
        "office.new_user": ("administrator", "/office/users/new"),
        "office_analytics.overview": ("inspector", "/office/analytics"),
        "office_analytics.batch": ("inspector", f"/office/analytics/batches/{batch.id}"),
        "office_analytics.reports": ("inspector", "/office/reports"),
        "office_analytics.offline_kit": ("inspector", "/office/offline-kit"),
        "office_analytics.revoke_batch": ("inspector", f"/office/analytics/batches/{batch.id}/revoke-batch"),
        "office_analytics.revoke_stamps": ("inspector", f"/office/analytics/batches/{batch.id}/revoke-stamps"),
        "office_photos.queue": ("administrator", "/office/photos/"),
        "office_photos.product": ("administrator", f"/office/photos/products/{product.id}"),
        "office_registry.index": ("administrator", "/office/registry/"),
        "office_registry.product": ("administrator", f"/office/registry/products/{product.code}"),
        "office_registry.new_producer": ("administrator", "/office/registry/producers/new"),
        "office_registry.edit_producer": ("administrator", f"/office/registry/producers/{producer.code}/edit"),
        "office_registry.new_area": ("administrator", "/office/registry/areas/new"),
        "office_registry.edit_area": ("administrator", "/office/registry/areas/NT-VUNG-01/edit"),
        "office_registry.new_product": ("administrator", "/office/registry/products/new"),
        "office_registry.edit_product": ("administrator", f"/office/registry/products/{product.code}/edit"),
        "office_registry.import_csv": ("administrator", "/office/registry/import"),
    }


@pytest.fixture
def reader(browser: Any) -> Iterator[Callable[[], Any]]:
    """Open pages shaped like a cheap phone, in Vietnamese, with the CSP lifted for the injected axe-core."""
    contexts: list[Any] = []

    def new_page() -> Any:
        context = browser.new_context(
            viewport={"width": PHONE, "height": 740}, locale="vi-VN", bypass_csp=True, device_scale_factor=1
        )
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()


def axe_violations(page: Any) -> list[str]:
    """Run axe-core on the page; return one line per violated rule, with up to three of its elements."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            const where = (v) => v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | ");
            return result.violations.map(v => v.id + ": " + where(v));
        }""",
        AXE_TAGS,
    )
    return [str(line) for line in found]


@pytest.mark.browser
def test_every_page_is_accessible_and_fits_a_phone(
    app: Any, live_server: Any, reader: Callable[[], Any], world: dict[str, Any], session: Any
) -> None:
    assert AXE.exists(), "axe-core is missing: run ./scripts/test (npm install --prefix tests/browser)"
    to_visit = pages(world)
    routes = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in (rule.methods or ())}
    unlisted = routes - set(to_visit) - set(EXCLUDED)
    assert not unlisted, f"visit these GET routes here or exclude them with a reason: {sorted(unlisted)}"
    folder = os.environ.get("OCOP_SCREENSHOTS")
    readers: dict[str | None, Any] = {None: reader()}
    for role in ROLES:
        readers[role] = reader()
        log_in(readers[role], live_server.url, world["users"][role].email)
    problems: list[str] = []
    for endpoint, (role, path) in sorted(to_visit.items()):
        if endpoint not in routes:
            continue  # a route another change removed: nothing to visit
        page = readers[role]
        page.set_viewport_size({"width": PHONE, "height": 740})
        response = page.goto(live_server.url + path)
        if response is None or response.status != 200:
            problems.append(f"{endpoint} {path}: status {response.status if response else None}")
            continue
        width = page.evaluate("document.scrollingElement.scrollWidth")
        if width > PHONE:
            problems.append(f"{endpoint} {path}: {width} px wide at {PHONE} px")
        problems += [f"{endpoint} {path}: {line}" for line in axe_violations(page)]
        if folder:
            name = endpoint.replace(".", "-")
            page.screenshot(path=str(Path(folder) / f"{name}-{PHONE}.png"), full_page=True)
            page.set_viewport_size({"width": DESKTOP, "height": 900})
            page.screenshot(path=str(Path(folder) / f"{name}-{DESKTOP}.png"), full_page=True)
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_staff_pages_read_in_vietnam_time_with_stamps_counted_from_one(
    live_server: Any, reader: Callable[[], Any], world: dict[str, Any]
) -> None:
    batch = world["batch"]
    producer_page = reader()
    log_in(producer_page, live_server.url, world["users"]["producer"].email)
    producer_page.goto(f"{live_server.url}/portal/batches/{batch.id}")
    facts = producer_page.inner_text("dl.facts")
    assert "số 1 đến 200" in facts
    first_range = producer_page.inner_text("#ranges tbody tr:first-child")
    assert first_range.split("\t")[:2] == ["1", "20"]
    assert "printed" not in producer_page.inner_text("main")
    # Staff pages have their own brand and footer, as wide as the page; the shoppers' text is not there.
    assert "OCOP (One Commune One Product)" not in producer_page.inner_text("footer")
    footer = producer_page.eval_on_selector("footer.site", "f => f.getBoundingClientRect().width")
    main = producer_page.eval_on_selector("main", "m => m.getBoundingClientRect().width")
    assert footer == main

    office_page = reader()
    log_in(office_page, live_server.url, world["users"]["administrator"].email)
    office_page.goto(f"{live_server.url}/office/")
    requested = office_page.inner_text("#queue tbody td:nth-child(2)")
    assert re.search(r"\b\d\d:\d\d \d\d/\d\d/\d{4}$", requested.strip()), requested
    assert "UTC" not in office_page.inner_text("main")
    office_page.goto(f"{live_server.url}/office/offline-kit")
    issued = office_page.inner_text("#bundle dd:first-of-type")
    assert re.fullmatch(r"\d\d:\d\d \d\d/\d\d/\d{4}", issued), issued

    public = reader()
    public.goto(live_server.url + world["stamp"].url.removeprefix(BASE_URL))
    assert "25,00 ha" in public.inner_text("main")
    public.goto(f"{live_server.url}/")
    assert public.get_attribute("footer a[href='/login']", "href") == "/login"
