"""Every irreversible action asks first: a post without `confirmed` changes nothing and shows what would happen.

Revoking a batch, revoking a range, rejecting a request (voiding: tests/portal/test_confirm_void.py). The review page
names the count, the product, the producer and what shoppers will see; the confirmed post acts, and the next
page says so in a status message.
"""

from __future__ import annotations

import html as html_module
import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.office.analytics_support import Stamped
from traceability.audit.models import AuditEntry
from traceability.stamps import batches
from traceability.stamps.batches import BatchOptions
from traceability.stamps.models import Batch, BatchStatus

pytestmark = pytest.mark.usefixtures("english")

TODAY = date.today()


def status_message(html: str) -> str:
    """Return the text of the page's status region (role="status"), tags removed."""
    match = re.search(r'<div class="status-messages" role="status"[^>]*>(.*?)</div>', html, re.S)
    assert match, "the page has no status region"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def hidden_fields(html: str) -> dict[str, str]:
    """Return the hidden inputs of a form (prefixed names included: revoke-reason, revoke-csrf_token)."""
    fields = {}
    for tag in re.findall(r'<input[^>]*type="hidden"[^>]*>', html):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = html_module.unescape(value.group(1)) if value else ""
    return fields


def audit_count(session: Any, action: str) -> int:
    return session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == action))


@pytest.fixture
def requested(session: Any, factory: Any) -> Batch:
    producer = factory.producer("NT-HTX09", name="Hợp tác xã Gừng Quế", short_name="HTX Gừng Quế")
    product = factory.product("NT-MUT", producer=producer, name="Mứt gừng")
    batch = batches.new_request(
        session, product, 2000, BatchOptions(lot="L9"), actor="user:p@x.vn", maximum=100_000, today=TODAY
    )
    session.commit()
    return batch


def test_revoking_a_batch_shows_the_review_first_and_changes_nothing(
    auth: Any, client: Any, session: Any, stamped: Stamped
) -> None:
    auth.login(auth.user("inspector").email)
    page = f"/office/batches/{stamped.batch.id}"
    review = auth.post(f"{page}/revoke", {"revoke-reason": "counterfeit ring"}, prefix="revoke", form_page=page)
    assert review.status_code == 200
    html = review.get_data(as_text=True)
    summary = html[html.index('id="confirm-summary"') : html.index('id="confirm-form"')]
    assert "All 30 stamps" in summary and "Nho xanh Ninh Thuận" in summary and "Hợp tác xã Nho Phước Thuận" in summary
    assert "“revoked”" in summary and "counterfeit ring" in summary
    fields = hidden_fields(html[html.index('id="confirm-form"') :])
    assert fields["confirmed"] == "1" and fields["revoke-reason"] == "counterfeit ring"
    session.expire_all()
    assert session.get(Batch, stamped.batch.id).status is BatchStatus.ISSUED
    assert audit_count(session, "batch.revoke") == 0

    done = client.post(f"{page}/revoke", data=fields, follow_redirects=True)
    assert done.status_code == 200 and done.request.path == page
    said = f"Batch {stamped.batch.id} revoked: its 30 stamps now read as revoked."
    assert status_message(done.get_data(as_text=True)) == said
    session.expire_all()
    assert session.get(Batch, stamped.batch.id).status is BatchStatus.REVOKED
    assert audit_count(session, "batch.revoke") == 1
    again = client.get(page).get_data(as_text=True)
    assert "revoked: its 30 stamps" not in again  # said once, not on every later page


def test_a_review_appears_only_for_what_would_succeed(auth: Any, client: Any, session: Any, stamped: Stamped) -> None:
    auth.login(auth.user("inspector").email)
    page = f"/office/batches/{stamped.batch.id}"
    too_long = auth.post(f"{page}/revoke", {"revoke-reason": "x" * 2001}, prefix="revoke", form_page=page)
    assert too_long.status_code == 422 and 'id="confirm-form"' not in too_long.get_data(as_text=True)
    batches.revoke(session, stamped.batch, actor="test", reason="gone")
    session.commit()
    late = auth.post(f"{page}/revoke", {"revoke-reason": "again"}, prefix="revoke", form_page=page)
    assert late.status_code == 422 and "only an issued batch can be revoked" in late.get_data(as_text=True)


def test_rejecting_a_request_is_reviewed_then_confirmed(auth: Any, client: Any, session: Any, requested: Batch) -> None:
    auth.login(auth.user("administrator").email)
    page = f"/office/batches/{requested.id}"
    review = auth.post(f"{page}/reject", {"reject-reason": "Hồ sơ thiếu"}, prefix="reject", form_page=page)
    html = review.get_data(as_text=True)
    assert review.status_code == 200 and "Confirm: reject batch" in html
    summary = html[html.index('id="confirm-summary"') : html.index('id="confirm-form"')]
    assert "2,000 stamps of Mứt gừng from Hợp tác xã Gừng Quế" in summary and "Hồ sơ thiếu" in summary
    assert "shoppers see nothing" in summary
    session.expire_all()
    assert session.get(Batch, requested.id).status is BatchStatus.REQUESTED

    fields = hidden_fields(html[html.index('id="confirm-form"') :])
    done = client.post(f"{page}/reject", data=fields, follow_redirects=True)
    assert done.request.path == "/office/"
    assert status_message(done.get_data(as_text=True)) == (
        f"Batch {requested.id} rejected. The producer sees your reason."
    )
    session.expire_all()
    assert session.get(Batch, requested.id).status is BatchStatus.REJECTED


def test_the_confirmation_still_needs_the_csrf_token(auth: Any, client: Any, session: Any, stamped: Stamped) -> None:
    auth.login(auth.user("inspector").email)
    page = f"/office/batches/{stamped.batch.id}"
    forged = client.post(f"{page}/revoke", data={"revoke-reason": "x", "confirmed": "1"})
    assert forged.status_code in (400, 422)
    session.expire_all()
    assert session.get(Batch, stamped.batch.id).status is BatchStatus.ISSUED


def test_revoking_a_range_names_the_producer_and_says_it_is_done(
    auth: Any, client: Any, session: Any, stamped: Stamped
) -> None:
    auth.login(auth.user("inspector").email)
    page = f"/office/analytics/batches/{stamped.batch.id}/revoke-stamps"
    review = auth.post(page, {"range-first": "3", "range-last": "5", "range-reason": "copied"}, prefix="range")
    html = review.get_data(as_text=True)
    summary = html[html.index('id="confirm-summary"') : html.index('id="confirm-form"')]
    assert "Hợp tác xã Nho Phước Thuận" in summary and "Nho xanh Ninh Thuận" in summary and "revoked" in summary
    assert audit_count(session, "batch.revoke_range") == 0
    fields = hidden_fields(html[html.index('id="confirm-form"') :])
    done = client.post(page, data=fields, follow_redirects=True)
    assert f"of batch {stamped.batch.id} revoked." in status_message(done.get_data(as_text=True))
    assert audit_count(session, "batch.revoke_range") == 1
