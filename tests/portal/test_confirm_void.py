"""Voiding stamps asks first: the review names the count, product and producer and what shoppers will see."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.office.test_confirmations import hidden_fields, status_message
from traceability.audit.models import AuditEntry
from traceability.stamps import batches
from traceability.stamps.batches import BatchOptions
from traceability.stamps.models import Batch, RangeState

pytestmark = pytest.mark.usefixtures("english")

TODAY = date.today()


def audit_count(session: Any, action: str) -> int:
    return session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == action))


@pytest.fixture
def issued_for_producer(session: Any, store: Any, signing_key: Any, producer_user: Any) -> Batch:
    product = producer_user.producer.products[0]
    batch = batches.new_request(
        session, product, 100, BatchOptions(lot="L1"), actor="user:p", maximum=100_000, today=TODAY
    )
    batches.issue(session, store, batch, actor="user:admin", today=TODAY)
    session.commit()
    return batch


def test_voiding_stamps_is_reviewed_then_confirmed(
    auth: Any, client: Any, session: Any, issued_for_producer: Batch
) -> None:
    page = f"/portal/batches/{issued_for_producer.id}"
    form = {"void-first": "50", "void-last": "59", "void-reason": "roll torn"}
    review = auth.post(f"{page}/void", form, prefix="void", form_page=page)
    html = review.get_data(as_text=True)
    assert review.status_code == 200 and "Confirm: void stamps" in html
    summary = html[html.index('id="confirm-summary"') : html.index('id="confirm-form"')]
    assert "10 stamps of batch" in summary and "Rượu nho Thái An" in summary and "Hợp tác xã" in summary
    assert "told it is void" in summary and "roll torn" in summary
    session.expire_all()
    assert all(r.state is not RangeState.VOIDED for r in session.get(Batch, issued_for_producer.id).ranges)
    assert audit_count(session, "batch.void") == 0

    fields = hidden_fields(html[html.index('id="confirm-form"') :])
    assert fields["confirmed"] == "1"
    done = client.post(f"{page}/void", data=fields, follow_redirects=True)
    assert done.request.path == page
    assert status_message(done.get_data(as_text=True)) == "10 stamps voided (50 to 59)."
    assert audit_count(session, "batch.void") == 1


def test_activating_needs_no_review_but_says_what_it_did(
    auth: Any, client: Any, session: Any, issued_for_producer: Batch
) -> None:
    page = f"/portal/batches/{issued_for_producer.id}"
    form = {"activate-first": "10", "activate-last": "29"}
    done = auth.post(f"{page}/activate", form, prefix="activate", form_page=page, follow_redirects=True)
    assert status_message(done.get_data(as_text=True)) == "20 stamps activated (10 to 29)."
