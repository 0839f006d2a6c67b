"""Print files from the web: a producer or an administrator asks, the job runs in the background, the page
follows it without JavaScript, and the file is produced once, kept, downloaded with its sha256 and audited."""

from __future__ import annotations

import hashlib
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import csrf_token
from tests.printing.conftest import decode_pdf
from traceability.audit.models import AuditEntry
from traceability.printing import jobs
from traceability.printing.layouts import LAYOUTS
from traceability.printing.models import JobStatus, PrintJob
from traceability.stamps import batches
from traceability.stamps.batches import BatchOptions
from traceability.stamps.models import Batch, RangeState

pytestmark = pytest.mark.usefixtures("english")  # these tests read the English msgids

WAIT = 60  # seconds a test waits for the runner at most
REFRESH = '<meta http-equiv="refresh" content="2">'


@pytest.fixture
def world(session: Session, store: Any, signing_key: Any, factory: Any, auth: Any) -> dict[str, Any]:
    """Producer A with an issued batch of 60 stamps asked for on label rolls; producer B; office users."""
    producer_a = factory.producer("A-HTX")
    product = factory.product("A-SP01", producer=producer_a)
    batch = batches.new_request(
        session, product, 60, BatchOptions(lot="L-7", layout="roll-30mm"), actor="t", maximum=1000, today=date.today()
    )
    batches.issue(session, store, batch, actor="user:admin", today=date.today())
    session.commit()
    producer_b = factory.producer("B-HTX")
    return {
        "batch": batch,
        "key": store.load(signing_key.id),
        "a": auth.user("producer", producer=producer_a),
        "b": auth.user("producer", producer=producer_b),
        "admin": auth.user("administrator"),
        "inspector": auth.user("inspector"),
    }


def finish(app: Flask, session: Session) -> None:
    """Wait for every queued job to run.

    The test's session is apart from the runner's, as from each request's: it must not hold a transaction
    while the runner writes (on SQLite every transaction takes the write lock), and must then forget its copies.
    """
    session.commit()
    jobs.start_jobs(app).result(timeout=WAIT)
    session.expire_all()  # the runner changed the jobs in a session of its own


def ask(client: FlaskClient, page: str, start: str, **form: str) -> Any:
    """Post the print form found on page to start, with its CSRF token."""
    return client.post(start, data={"csrf_token": csrf_token(client, page), **form})


def only_job(session: Session) -> PrintJob:
    """Return the one print job as it is now, ending the read transaction."""
    session.expire_all()
    (job,) = session.scalars(select(PrintJob)).all()
    session.commit()
    return job


def test_a_producer_prepares_a_pdf_follows_it_and_downloads_it_once(
    app: Flask, client: FlaskClient, auth: Any, session: Session, world: dict[str, Any]
) -> None:
    batch: Batch = world["batch"]
    auth.login(world["a"].email)
    page = f"/portal/batches/{batch.id}/download"
    html = client.get(page).get_data(as_text=True)
    assert f'action="/portal/batches/{batch.id}/print"' in html
    assert re.search(r'<option selected value="roll-30mm">|<option value="roll-30mm" selected>', html), "batch's layout"
    assert 'value="zip-svg"' in html and 'value="csv"' in html

    response = ask(client, page, f"/portal/batches/{batch.id}/print", layout="a4-30mm", format="pdf")
    assert response.status_code == 303
    job = only_job(session)
    assert response.headers["Location"] == f"/portal/batches/{batch.id}/print/{job.id}"
    assert (job.layout, job.formats, job.requested_by) == ("a4-30mm", "pdf", world["a"].label)
    finish(app, session)

    progress = client.get(f"/portal/batches/{batch.id}/print/{job.id}")
    html = progress.get_data(as_text=True)
    assert progress.status_code == 200 and progress.headers["Cache-Control"] == "no-store"
    assert REFRESH not in html and "ready" in html
    download_path = f"/portal/batches/{batch.id}/print/{job.id}/pdf"
    assert f'href="{download_path}"' in html

    with client.get(download_path) as response:
        pdf = response.get_data()
    sha256 = hashlib.sha256(pdf).hexdigest()
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert f"ocop-batch-{batch.id}-a4-30mm-M.pdf" in response.headers["Content-Disposition"]
    assert response.headers["ETag"] == f'"{sha256}"' and "private" in response.headers["Cache-Control"]
    assert sha256 in html  # shown on the page, for the printing house to check
    (first_page,) = decode_pdf(pdf, pages=[0])
    expected = [s.url for s in batches.stamps(batch, world["key"], app.config["PUBLIC_BASE_URL"], 0, 48)]
    assert len(expected) == LAYOUTS["a4-30mm"].per_sheet and sorted(first_page) == sorted(expected)
    with client.get(download_path, headers={"If-None-Match": f'"{sha256}"'}) as unchanged:
        assert unchanged.status_code == 304

    session.expire_all()
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.download")).first()
    assert entry is not None and entry.actor == world["a"].label and entry.target == f"batch:{batch.id}"
    assert entry.after == {"format": "pdf", "layout": "a4-30mm", "ecc": "M", "job": job.id, "sha256": sha256}
    assert [r.state for r in session.get(Batch, batch.id).ranges] == [RangeState.PRINTED]
    session.commit()

    # Asking again gives the same job and the same file, not a new one.
    kept = Path(app.config["PRINT_DIR"]) / f"batch-{batch.id}" / f"batch-{batch.id}-a4-30mm-M.pdf"
    written = kept.stat().st_mtime_ns
    again = ask(client, page, f"/portal/batches/{batch.id}/print", layout="a4-30mm", format="pdf")
    assert again.headers["Location"] == f"/portal/batches/{batch.id}/print/{job.id}"
    finish(app, session)
    assert only_job(session).id == job.id and kept.stat().st_mtime_ns == written
    with client.get(download_path) as response:
        assert response.get_data() == pdf
    assert f"/portal/batches/{batch.id}/print/{job.id}" in client.get(page).get_data(as_text=True)


def test_the_progress_page_refreshes_itself_until_the_job_is_done(
    app: Flask, client: FlaskClient, auth: Any, session: Session, world: dict[str, Any]
) -> None:
    batch = world["batch"]
    job = jobs.request_print(session, batch, None, "t", formats=("csv",), print_dir=app.config["PRINT_DIR"])
    session.commit()  # queued, and no runner started: the page itself starts it
    auth.login(world["a"].email)
    # Reloading by itself is the reader's choice (WCAG 2.2.1): the page offers it, ?auto=1 turns it on.
    html = client.get(f"/portal/batches/{batch.id}/print/{job.id}?auto=1").get_data(as_text=True)
    assert REFRESH in html and "waiting to start" in html and "0 of 60 stamps" in html
    assert 'id="auto-off"' in html and f'href="/portal/batches/{batch.id}/print/{job.id}"' in html
    assert '<progress max="100" value="0">' in html
    finish(app, session)
    html = client.get(f"/portal/batches/{batch.id}/print/{job.id}?auto=1").get_data(as_text=True)
    assert REFRESH not in html and f"/print/{job.id}/csv" in html and job.layout == "roll-30mm"
    with client.get(f"/portal/batches/{batch.id}/print/{job.id}/csv") as response:
        assert response.get_data(as_text=True).splitlines()[0] == "serial,url,sheet,position"
    assert client.get(f"/portal/batches/{batch.id}/print/{job.id}/pdf").status_code == 404  # not in this job


def test_a_failed_job_says_why_and_can_be_tried_again(
    app: Flask, client: FlaskClient, auth: Any, session: Session, world: dict[str, Any], keys_dir: Path
) -> None:
    batch = world["batch"]
    auth.login(world["a"].email)
    page = f"/portal/batches/{batch.id}/download"
    moved = {path: path.read_bytes() for path in keys_dir.iterdir()}
    for path in moved:
        path.unlink()
    ask(client, page, f"/portal/batches/{batch.id}/print", layout="roll-30mm", format="pdf")
    finish(app, session)
    failed = only_job(session)
    html = client.get(f"/portal/batches/{batch.id}/print/{failed.id}").get_data(as_text=True)
    assert failed.status is JobStatus.FAILED and "failed" in html and REFRESH not in html
    assert 'id="job-error"' in html and "key" in html.lower() and 'id="retry-form"' in html
    vietnamese = client.get(f"/portal/batches/{batch.id}/print/{failed.id}?lang=vi").get_data(as_text=True)
    said = vietnamese.split('id="job-error">', 1)[1].split("</p>", 1)[0]
    assert "khóa" in said.lower() and " key " not in said, said  # the reason in the reader's language
    assert client.get(f"/portal/batches/{batch.id}/print/{failed.id}/pdf").status_code == 409

    for path, data in moved.items():
        path.write_bytes(data)
        path.chmod(0o600)
    progress_page = f"/portal/batches/{batch.id}/print/{failed.id}"  # the retry button's form is there
    retry = ask(client, progress_page, f"/portal/batches/{batch.id}/print", layout="roll-30mm", format="pdf")
    assert retry.status_code == 303 and not retry.headers["Location"].endswith(f"/print/{failed.id}")
    finish(app, session)
    assert session.scalars(select(PrintJob.status).order_by(PrintJob.id)).all() == [JobStatus.FAILED, JobStatus.DONE]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"layout": "a3-50mm", "format": "pdf"}, "unknown layout &#39;a3-50mm&#39;"),
        ({"layout": "a4-30mm", "format": "docx"}, 'class="choices has-error"'),
        ({"format": "pdf"}, "This field is required"),
    ],
)
def test_a_bad_request_is_refused_on_the_form_and_queues_nothing(
    client: FlaskClient, auth: Any, session: Session, world: dict[str, Any], form: dict[str, str], message: str
) -> None:
    batch = world["batch"]
    auth.login(world["a"].email)
    response = ask(client, f"/portal/batches/{batch.id}/download", f"/portal/batches/{batch.id}/print", **form)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert session.scalars(select(PrintJob)).all() == []


def test_the_form_needs_its_csrf_token(client: FlaskClient, auth: Any, session: Session, world: dict[str, Any]) -> None:
    batch = world["batch"]
    auth.login(world["a"].email)
    response = client.post(f"/portal/batches/{batch.id}/print", data={"layout": "a4-30mm", "format": "pdf"})
    assert response.status_code == 400
    assert session.scalars(select(PrintJob)).all() == []


def test_other_producers_get_404_inspectors_and_anonymous_403(
    app: Flask, auth: Any, session: Session, world: dict[str, Any]
) -> None:
    batch = world["batch"]
    job = jobs.request_print(session, batch, "a4-30mm", "t", print_dir=app.config["PRINT_DIR"])
    session.commit()
    finish(app, session)
    portal, office = f"/portal/batches/{batch.id}/print", f"/office/batches/{batch.id}/print"
    form = {"layout": "a4-30mm", "format": "pdf"}

    def answers(client: FlaskClient, base: str, token: str) -> list[int]:
        return [
            client.post(base, data={**form, "csrf_token": token}).status_code,
            client.get(f"{base}/{job.id}").status_code,
            client.get(f"{base}/{job.id}/pdf").status_code,
        ]

    other = app.test_client()
    auth.login(world["b"].email, client=other)
    token = csrf_token(other, "/portal/")
    assert answers(other, portal, token) == [404, 404, 404]
    assert answers(other, office, token) == [403, 403, 403]

    inspector = app.test_client()
    auth.login(world["inspector"].email, client=inspector)
    token = csrf_token(inspector, "/office/audit")  # any page with a form: the logout button
    assert answers(inspector, office, token) == [403, 403, 403]
    assert 'id="print-form"' not in inspector.get(f"/office/batches/{batch.id}").get_data(as_text=True)

    anonymous = app.test_client()
    token = csrf_token(anonymous, "/login")
    assert answers(anonymous, portal, token) == [403, 403, 403]
    assert answers(anonymous, office, token) == [403, 403, 403]

    owner = app.test_client()
    auth.login(world["a"].email, client=owner)
    other_batch = f"/portal/batches/{batch.id + 1}/print/{job.id}"  # a job never shows under another batch
    assert owner.get(other_batch).status_code == 404
    assert session.scalars(select(PrintJob)).all() == [job]
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.download")).all() == []


def test_an_administrator_prints_from_the_office_batch_page(
    app: Flask, client: FlaskClient, auth: Any, session: Session, world: dict[str, Any]
) -> None:
    batch = world["batch"]
    auth.login(world["admin"].email)
    page = f"/office/batches/{batch.id}"
    html = client.get(page).get_data(as_text=True)
    assert 'id="print-form"' in html and f'action="/office/batches/{batch.id}/print"' in html
    response = ask(client, page, f"/office/batches/{batch.id}/print", layout="roll-30mm", format="zip-svg")
    assert response.status_code == 303
    job = only_job(session)
    finish(app, session)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"/office/batches/{batch.id}/print/{job.id}/zip-svg" in html and f'href="{page}"' in html
    with client.get(f"/office/batches/{batch.id}/print/{job.id}/zip-svg") as download:
        assert download.status_code == 200 and download.mimetype == "application/zip"
        assert hashlib.sha256(download.get_data()).hexdigest() == only_job(session).files["zip-svg"]["sha256"]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.download")).one()
    assert entry.actor == world["admin"].label and entry.after["format"] == "zip-svg"
    session.commit()
    assert f"/office/batches/{batch.id}/print/{job.id}" in client.get(page).get_data(as_text=True)


@pytest.mark.browser
def test_the_pages_read_on_a_phone_without_javascript(
    app: Flask, live_server: Any, browser: Any, session: Session, world: dict[str, Any]
) -> None:
    """Progress, then the finished page, at 360 px with JavaScript off; OCOP_SCREENSHOTS=DIR keeps them."""
    from tests.conftest import PASSWORD

    batch, base = world["batch"], live_server.url
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, device_scale_factor=2, locale="vi-VN", java_script_enabled=False
    )
    phone = context.new_page()

    def shots(name: str) -> None:
        if folder := os.environ.get("OCOP_SCREENSHOTS"):
            phone.screenshot(path=str(Path(folder) / f"print-{name}.png"), full_page=True)

    try:
        phone.goto(f"{base}/login")
        phone.fill("input[name=email]", world["a"].email)
        phone.fill("input[name=password]", PASSWORD)
        phone.click("form.stacked button[type=submit]")
        phone.goto(f"{base}/portal/batches/{batch.id}/download")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360
        shots("ask")

        # A job caught while it is still queued: the page says so and will reload itself.
        job = jobs.request_print(session, batch, "a4-30mm", "t", print_dir=app.config["PRINT_DIR"])
        session.commit()
        phone.goto(f"{base}/portal/batches/{batch.id}/print/{job.id}?auto=1")
        assert "đang chờ" in phone.inner_text("#job-status")  # the phone asks for Vietnamese
        assert phone.locator('meta[http-equiv="refresh"]').count() == 1
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360
        shots("progress")

        finish(app, session)
        phone.reload()
        assert "sẵn sàng" in phone.inner_text("#job-status")
        assert phone.locator('meta[http-equiv="refresh"]').count() == 0
        assert phone.inner_text("code.sha256") == only_job(session).files["pdf"]["sha256"]
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360
        shots("ready")
    finally:
        context.close()


def test_a_layout_too_small_for_the_code_is_refused_on_the_form(
    app: Flask, client: FlaskClient, auth: Any, session: Session, world: dict[str, Any]
) -> None:
    batch: Batch = world["batch"]
    batch.layout = "a4-20mm"  # asked for before 20 mm labels were found too small for phones
    session.commit()
    auth.login(world["a"].email)
    page = f"/portal/batches/{batch.id}/download"
    html = client.get(page).get_data(as_text=True)
    assert 'value="a4-20mm"' not in html  # no longer offered
    response = ask(client, page, f"/portal/batches/{batch.id}/print", layout="a4-20mm", format="pdf")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "too small" in html and "0.5 mm" in html  # in the reader's language
    assert session.scalars(select(PrintJob)).all() == []
