"""The office's photo review: the queue, approve and reject with a reason, withdraw; audited; office only."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import csrf_token
from tests.registry.photo_support import camera_jpeg
from traceability.audit.models import AuditEntry
from traceability.db import utcnow
from traceability.registry import photos
from traceability.registry.models import PhotoStatus, ProductPhoto

pytestmark = pytest.mark.usefixtures("english")  # these tests read the English msgids


@pytest.fixture
def pending(session: Session, factory: Any) -> ProductPhoto:
    product = factory.product("NT-SP09", name="Mật ong hoa nhãn")
    photo = photos.upload_photo(
        session, product, camera_jpeg(), actor="user:producer@example", at=utcnow(), max_bytes=10**7
    )
    session.commit()
    return photo


@pytest.fixture
def inspector(auth: Any) -> Any:
    user = auth.user("inspector")
    auth.login(user.email)
    return user


def status_of(session: Session, photo: ProductPhoto) -> PhotoStatus:
    session.rollback()
    found = session.get(ProductPhoto, photo.id)
    assert found is not None
    session.refresh(found)
    return found.status


def test_the_queue_shows_waiting_photos(client: FlaskClient, inspector: Any, pending: ProductPhoto) -> None:
    html = client.get("/office/photos/").get_data(as_text=True)
    assert "Mật ong hoa nhãn" in html and f"/office/photos/{pending.id}/image?size=thumbnail" in html
    assert '<a href="/office/photos/">Product photos</a>' in html  # in the office's navigation
    image = client.get(f"/office/photos/{pending.id}/image")
    assert image.status_code == 200 and image.mimetype == "image/webp"


def test_approving_shows_the_photo_and_is_audited(
    client: FlaskClient, auth: Any, inspector: Any, pending: ProductPhoto, session: Session
) -> None:
    response = auth.post(
        f"/office/photos/{pending.id}/approve", prefix=f"approve-{pending.id}", form_page="/office/photos/"
    )
    assert response.status_code == 302
    assert status_of(session, pending) is PhotoStatus.APPROVED
    assert client.get(f"/photos/{pending.digest}.webp").status_code == 200
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "photo.approve")).one()
    assert entry.actor.endswith(inspector.email) and entry.target == "product:NT-SP09"
    assert "No photo is waiting for review." in client.get("/office/photos/").get_data(as_text=True)


def test_rejecting_needs_a_reason_the_producer_then_reads(
    client: FlaskClient, auth: Any, inspector: Any, pending: ProductPhoto, session: Session
) -> None:
    path, prefix = f"/office/photos/{pending.id}/reject", f"reject-{pending.id}"
    empty = auth.post(path, {f"{prefix}-reason": ""}, prefix=prefix, form_page="/office/photos/")
    assert empty.status_code == 422 and "This field is required." in empty.get_data(as_text=True)
    assert status_of(session, pending) is PhotoStatus.PENDING
    done = auth.post(path, {f"{prefix}-reason": "Ảnh là sản phẩm khác"}, prefix=prefix, form_page="/office/photos/")
    assert done.status_code == 302
    assert status_of(session, pending) is PhotoStatus.REJECTED
    assert client.get(f"/photos/{pending.digest}.webp").status_code == 404
    again = auth.post(
        f"/office/photos/{pending.id}/approve", prefix=f"approve-{pending.id}", form_page="/office/photos/"
    )
    assert again.status_code == 409 and "already reviewed" in again.get_data(as_text=True)
    assert status_of(session, pending) is PhotoStatus.REJECTED
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "photo.reject")).one()
    assert entry.after["reason"] == "Ảnh là sản phẩm khác"


def test_an_approved_photo_can_be_withdrawn(
    client: FlaskClient, auth: Any, inspector: Any, pending: ProductPhoto, session: Session
) -> None:
    photos.approve_photo(session, pending, actor="user:admin", at=utcnow())
    session.commit()
    page = f"/office/photos/products/{pending.product_id}"
    assert "shown to shoppers" in client.get(page).get_data(as_text=True)
    prefix = f"reject-{pending.id}"
    response = auth.post(
        f"/office/photos/{pending.id}/reject",
        {f"{prefix}-reason": "Bao bì đã đổi", "back": "product"},
        prefix=prefix,
        form_page=page,
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(page)
    assert status_of(session, pending) is PhotoStatus.REJECTED
    assert client.get(f"/photos/{pending.digest}.webp").status_code == 404


def test_decisions_need_the_forms_csrf_token(
    client: FlaskClient, inspector: Any, pending: ProductPhoto, session: Session
) -> None:
    assert client.post(f"/office/photos/{pending.id}/approve").status_code == 400
    assert (
        client.post(f"/office/photos/{pending.id}/reject", data={f"reject-{pending.id}-reason": "x"}).status_code == 400
    )
    assert status_of(session, pending) is PhotoStatus.PENDING


def test_producers_and_anonymous_visitors_are_kept_out(
    app: Any, auth: Any, factory: Any, pending: ProductPhoto, session: Session
) -> None:
    anonymous = app.test_client()
    producer = app.test_client()
    auth.login(auth.user("producer", producer=pending.product.producer).email, client=producer)
    token = csrf_token(producer, "/portal/")
    for visitor in (anonymous, producer):
        assert visitor.get("/office/photos/").status_code == 403
        assert visitor.get(f"/office/photos/{pending.id}/image").status_code == 403
        assert visitor.get(f"/office/photos/products/{pending.product_id}").status_code == 403
        approve = visitor.post(f"/office/photos/{pending.id}/approve", data={f"approve-{pending.id}-csrf_token": token})
        assert approve.status_code in (400, 403)
    assert status_of(session, pending) is PhotoStatus.PENDING
