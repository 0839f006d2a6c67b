"""The producer's side: dashboard, requests, downloads, activating and voiding stamps."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from traceability.audit.models import AuditEntry
from traceability.stamps import batches
from traceability.stamps.batches import BatchOptions
from traceability.stamps.models import Batch, BatchStatus, RangeState

pytestmark = pytest.mark.usefixtures("english")  # these tests read the English msgids

TODAY = date.today()


def request_form(product_id: int, **overrides: Any) -> dict[str, Any]:
    return {
        "product": product_id,
        "quantity": 500,
        "lot": "L-2026-01",
        "production_date": "2026-01-10",
        "expiry_date": "2027-01-10",
        "layout": "a4-30mm",
        **overrides,
    }


def issued(session: Any, store: Any, product: Any, quantity: int = 100) -> Batch:
    batch = batches.new_request(
        session, product, quantity, BatchOptions(lot="L1"), actor="user:p", maximum=100_000, today=TODAY
    )
    batches.issue(session, store, batch, actor="user:admin", today=TODAY)
    session.commit()
    return batch


def test_dashboard_shows_stars_expiry_warnings_and_batches(auth: Any, client: Any, factory: Any) -> None:
    producer = factory.producer("NT-HTX01")
    factory.product("NT-OK", producer=producer, name="Fresh certificate", stars=5)
    # Decided 35 months ago: 30-odd days left, inside the 180-day re-evaluation window.
    factory.product("NT-SOON", producer=producer, name="Expiring soon", decision_date=TODAY - timedelta(days=1060))
    factory.product("NT-OLD", producer=producer, name="Long expired", decision_date=TODAY - timedelta(days=2000))
    factory.product("NT-NONE", producer=producer, name="Never certified", stars=None)
    factory.product("OTHER", name="Someone else's")
    auth.login(auth.user("producer", producer=producer).email)
    page = client.get("/portal/").get_data(as_text=True)
    assert "Fresh certificate" in page and "★★★★★" in page
    assert "Expires in" in page and "standing-expiring" in page
    assert "standing-expired" in page and "standing-none" in page
    assert "Someone else" not in page


def test_only_certified_products_of_ones_own_can_be_requested(
    auth: Any, client: Any, factory: Any, producer_user: Any
) -> None:
    factory.product("NT-NONE", producer=producer_user.producer, stars=None)
    factory.product("OTHER")
    page = client.get("/portal/batches/new").get_data(as_text=True)
    assert "NT-SP01" in page and "NT-NONE" not in page and "OTHER" not in page


@pytest.mark.parametrize(
    ("overrides", "status", "message"),
    [
        ({"quantity": 0}, 422, "at least 1"),
        ({"quantity": 100_001}, 422, "split it into several batches"),
        ({"quantity": "many"}, 422, "Not a valid integer"),
        ({"quantity": ""}, 422, "This field is required"),
        ({"lot": "x" * 61}, 422, "Field cannot be longer than 60 characters"),
        ({"expiry_date": "2025-01-01"}, 422, "expiry date is before the production date"),
        ({"production_date": "10/01/2026"}, 422, "Not a valid date value"),
        ({"layout": "a3-giant"}, 422, "unknown layout &#39;a3-giant&#39;"),
    ],
)
def test_request_validation(
    auth: Any, session: Any, producer_user: Any, overrides: dict[str, Any], status: int, message: str
) -> None:
    product = producer_user.producer.products[0]
    response = auth.post("/portal/batches/new", request_form(product.id, **overrides))
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(func.count(Batch.id))) == 0


def test_another_producers_product_cannot_be_requested(
    auth: Any, session: Any, factory: Any, producer_user: Any
) -> None:
    other = factory.product("OTHER")
    response = auth.post("/portal/batches/new", request_form(other.id))
    assert response.status_code == 422 and "choose one of your certified products" in response.get_data(as_text=True)
    assert session.scalar(select(func.count(Batch.id))) == 0


def test_request_then_see_status_and_the_offices_reason(
    auth: Any, client: Any, session: Any, producer_user: Any
) -> None:
    product = producer_user.producer.products[0]
    response = auth.post("/portal/batches/new", request_form(product.id))
    assert response.status_code == 302
    batch = session.scalar(select(Batch))
    assert (batch.status, batch.quantity, batch.lot, batch.layout) == (
        BatchStatus.REQUESTED,
        500,
        "L-2026-01",
        "a4-30mm",
    )
    assert batch.requested_by == producer_user.label
    assert "waiting for approval" in client.get(response.headers["Location"]).get_data(as_text=True)
    batches.reject(session, batch, actor="user:admin", reason="Lot code does not match the dossier")
    session.commit()
    page = client.get(f"/portal/batches/{batch.id}").get_data(as_text=True)
    assert "rejected" in page and "Lot code does not match the dossier" in page
    assert client.get(f"/portal/batches/{batch.id}/download/csv").status_code == 409


def test_csv_download_matches_the_cli_export(
    auth: Any, client: Any, session: Any, store: Any, signing_key: Any, runner: Any, producer_user: Any, tmp_path: Any
) -> None:
    batch = issued(session, store, producer_user.producer.products[0], 250)
    page = client.get(f"/portal/batches/{batch.id}/download").get_data(as_text=True)
    assert f"/portal/batches/{batch.id}/download/csv" in page
    response = client.get(f"/portal/batches/{batch.id}/download/csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f"ocop-batch-{batch.id}.csv" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 250 and rows[0]["url"].startswith("https://ocop.example.vn/v/")
    exported = tmp_path / "cli.csv"
    assert runner.invoke(args=["batch", "export", str(batch.id), "--csv", str(exported)]).exit_code == 0
    assert exported.read_text(encoding="utf-8") == body
    downloads = session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.download")).all()
    assert [d.actor for d in downloads] == [producer_user.label]
    assert client.get(f"/portal/batches/{batch.id}/download/pdf-from-the-future").status_code == 404


def test_activate_by_number_and_serial_then_void_with_a_reason(
    auth: Any, client: Any, session: Any, store: Any, signing_key: Any, producer_user: Any
) -> None:
    batch = issued(session, store, producer_user.producer.products[0], 100)
    serial_10 = next(batches.stamps(batch, store.load(signing_key.id), "https://x.vn", 10, 11)).serial
    page = f"/portal/batches/{batch.id}"
    response = auth.post(
        f"{page}/activate",
        {"activate-first": serial_10.lower(), "activate-last": "30"},
        prefix="activate",
        form_page=page,
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    response = auth.post(
        f"{page}/void",
        {"void-first": "51", "void-last": "60", "void-reason": "roll torn", "confirmed": "1"},
        prefix="void",
        form_page=page,
    )
    assert response.status_code == 302
    session.expire_all()
    assert [(r.start, r.end, r.state) for r in session.get(Batch, batch.id).ranges] == [
        (0, 10, RangeState.ISSUED),
        (10, 30, RangeState.ACTIVATED),
        (30, 50, RangeState.ISSUED),
        (50, 60, RangeState.VOIDED),
        (60, 100, RangeState.ISSUED),
    ]
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.target == f"batch:{batch.id}")).all()
    assert {"batch.activate", "batch.void"} <= set(actions)


@pytest.mark.parametrize(
    ("form", "action", "message"),
    [
        ({"void-first": "50", "void-last": "59"}, "void", "Say why the stamps are void"),
        ({"activate-first": "56"}, "activate", "stamps 56..56 are voided and cannot become activated"),
        ({"activate-first": "101"}, "activate", "stamp numbers of this batch run from 1 to 100"),
        ({"activate-first": "0"}, "activate", "stamp numbers of this batch run from 1 to 100"),
        ({"activate-first": "20", "activate-last": "10"}, "activate", "the last stamp comes before the first"),
        ({"activate-first": "1-00001-AAAAA"}, "activate", "belongs to another batch"),
        ({"activate-first": "nonsense"}, "activate", "neither a stamp number nor a serial"),
        ({"activate-first": ""}, "activate", "This field is required"),
    ],
)
def test_range_errors_change_nothing(
    auth: Any,
    session: Any,
    store: Any,
    signing_key: Any,
    producer_user: Any,
    form: dict[str, str],
    action: str,
    message: str,
) -> None:
    product = producer_user.producer.products[0]
    issued(session, store, product, 10)  # batch ids differ from the one under test
    batch = issued(session, store, product, 100)
    batches.change_range(session, batch, 55, 56, RangeState.VOIDED, actor="t", reason="lost")
    session.commit()
    before = [(r.start, r.end, r.state) for r in batch.ranges]
    page = f"/portal/batches/{batch.id}"
    response = auth.post(f"{page}/{action}", form, prefix=action, form_page=page)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    session.expire_all()
    assert [(r.start, r.end, r.state) for r in session.get(Batch, batch.id).ranges] == before
