"""The inspectors' actions from analytics: shoppers' reports, revoking ranges and batches, the offline kit."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import BASE_URL, retire_publication_key
from tests.office.analytics_support import (
    Stamped,
    hidden_fields,
    office,
    photo,
    public_report,
    scan,
    section,
)
from traceability.audit.models import AuditEntry
from traceability.db import utcnow
from traceability.stamps import serials
from traceability.stamps.batches import IssuedStamp
from traceability.stamps.models import Batch, BatchStatus, RangeState
from traceability.verification.models import Report, ReportStatus
from traceability.verification.reports import ReportData, file_report
from traceability.verification.scans import Device
from traceability.verification.verdicts import Verdict

pytestmark = pytest.mark.usefixtures("english")  # these tests read the English msgids


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
    fields = {"range-first": "4", "range-last": serial5, "range-reason": "copies found at Chợ Đầm"}
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
        page, data={**confirmed, "range-first": "4", "range-last": "6", "range-reason": fields["range-reason"]}
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
    again = client.post(page, data={**confirmed, "range-first": "4", "range-last": "6", "range-reason": "x"})
    assert again.status_code == 409, again.get_data(as_text=True)[-3000:]
    assert "stamps 4..6 are already revoked" in again.get_data(as_text=True)


def test_revoking_the_whole_batch_goes_through_the_existing_office_action(
    app: Any, auth: Any, client: Any, session: Any, stamped: Stamped
) -> None:
    scan(app, stamped.path(0), 1)
    admin = office(auth, "administrator")
    confirm = f"/office/analytics/batches/{stamped.batch.id}/revoke-batch"
    html = client.get(confirm + "?lang=en").get_data(as_text=True)
    assert f'action="/office/batches/{stamped.batch.id}/revoke"' in html and "Revoke all 30 stamps" in html
    assert '<input type="hidden" name="confirmed" value="1">' in html  # this page is the review
    response = auth.post(
        f"/office/batches/{stamped.batch.id}/revoke",
        {"revoke-reason": "counterfeit ring", "confirmed": "1"},
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
    assert f'<dd id="bundle-batches">1 (batch {stamped.batch.id})</dd>' in kit


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


def test_offline_kit_without_a_publication_key_says_why(auth: Any, client: Any, session: Any, signing_key: Any) -> None:
    retire_publication_key(session)
    office(auth)
    html = client.get("/office/offline-kit?lang=en").get_data(as_text=True)
    assert "no active publication key" in html and "keys generate --purpose publication" in html


# --- In a browser -----------------------------------------------------------------------------------
