"""The producer's photo pages: upload through the form, clear refusals, CSRF, and no one else's products."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import csrf_token
from tests.registry.photo_support import HTML, SVG, camera_jpeg, noise_png, png_claiming
from traceability.registry.models import PhotoStatus, ProductPhoto

pytestmark = pytest.mark.usefixtures("english")  # these tests read the English msgids


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "PRODUCT_PHOTO_MAX_BYTES": 300_000}


def product_page(user: Any) -> str:
    return f"/portal/photos/products/{user.producer.products[0].id}"


def send(client: FlaskClient, page: str, data: bytes, filename: str = "photo.jpg", **extra: Any) -> Any:
    token = csrf_token(client, page)
    form = {"csrf_token": token, "photo": (io.BytesIO(data), filename), **extra}
    return client.post(page, data=form, content_type="multipart/form-data")


def count(session: Session) -> int:
    session.rollback()
    return session.scalar(select(func.count(ProductPhoto.id))) or 0


def test_the_producer_uploads_a_photo_for_review(client: FlaskClient, producer_user: Any, session: Session) -> None:
    page = product_page(producer_user)
    listing = client.get("/portal/photos/").get_data(as_text=True)
    assert "Rượu nho Thái An" in listing and page in listing and "none yet" in listing
    response = send(client, page, camera_jpeg())
    assert response.status_code == 302 and response.headers["Location"].endswith(page + "?sent=1")
    html = client.get(page + "?sent=1").get_data(as_text=True)
    assert "Thank you: the photo was sent" in html and "waiting for review" in html
    photo = session.scalars(select(ProductPhoto)).one()
    assert photo.status is PhotoStatus.PENDING and photo.uploaded_by.endswith(producer_user.email)
    # The producer sees their own pending photo; the public address does not serve it yet.
    own = client.get(f"/portal/photos/{photo.id}/image?size=thumbnail")
    assert own.status_code == 200 and own.mimetype == "image/webp"
    assert own.headers["Cache-Control"] == "private, no-store"
    assert client.get(f"/photos/{photo.digest}.webp").status_code == 404


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"hello", "photo.jpg", "send the photo as JPEG, PNG or WebP"),
        (SVG, "photo.svg", "send the photo as JPEG, PNG or WebP"),
        (SVG, "photo.jpg", "send the photo as JPEG, PNG or WebP"),
        (HTML, "photo.png", "send the photo as JPEG, PNG or WebP"),
        (png_claiming(100_000, 100_000), "bomb.png", "the photo has too many pixels"),
        (png_claiming(6000, 5000), "big.png", "the photo has too many pixels"),
        # Under 500 KB: werkzeug's test client spools larger bodies to a file it never closes.
        (noise_png((360, 360)), "large.png", "the photo is larger than 0.3 MB"),
        (camera_jpeg((200, 150)), "small.jpg", "the photo is too small"),
    ],
    ids=["text", "svg", "svg as jpg", "html as png", "bomb", "30 MP", "too large", "too small"],
)
def test_bad_uploads_are_refused_on_the_form(
    client: FlaskClient, producer_user: Any, session: Session, data: bytes, filename: str, message: str
) -> None:
    response = send(client, product_page(producer_user), data, filename)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'id="upload-form"' in html
    assert count(session) == 0


def test_the_refusal_is_in_vietnamese_by_default(client: FlaskClient, producer_user: Any, session: Session) -> None:
    client.set_cookie("lang", "vi")
    response = send(client, product_page(producer_user), SVG, "photo.svg")
    assert response.status_code == 422 and "hãy gửi ảnh" in response.get_data(as_text=True).lower()


def test_no_file_is_a_form_error(client: FlaskClient, producer_user: Any, session: Session) -> None:
    page = product_page(producer_user)
    response = client.post(page, data={"csrf_token": csrf_token(client, page)}, content_type="multipart/form-data")
    assert response.status_code == 422 and "This field is required." in response.get_data(as_text=True)


def test_an_upload_needs_the_forms_csrf_token(client: FlaskClient, producer_user: Any, session: Session) -> None:
    page = product_page(producer_user)
    response = client.post(
        page, data={"photo": (io.BytesIO(camera_jpeg()), "a.jpg")}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert count(session) == 0


def test_a_fourth_waiting_photo_is_refused(client: FlaskClient, producer_user: Any, session: Session) -> None:
    page = product_page(producer_user)
    for _ in range(3):
        assert send(client, page, camera_jpeg()).status_code == 302
    response = send(client, page, camera_jpeg())
    assert response.status_code == 409 and "already waiting for the office" in response.get_data(as_text=True)
    assert count(session) == 3


def test_another_producer_cannot_see_or_upload_to_a_product(
    app: Any, client: FlaskClient, producer_user: Any, auth: Any, factory: Any, session: Session
) -> None:
    page = product_page(producer_user)
    assert send(client, page, camera_jpeg()).status_code == 302
    photo_id = session.scalars(select(ProductPhoto.id)).one()

    other = app.test_client()
    intruder = auth.user("producer", producer=factory.producer("OTHER-HTX"))
    auth.login(intruder.email, client=other)
    assert other.get(page).status_code == 404
    assert other.get(f"/portal/photos/{photo_id}/image").status_code == 404
    token = csrf_token(other, "/portal/photos/")
    sneaky = other.post(
        page,
        data={"csrf_token": token, "photo": (io.BytesIO(camera_jpeg()), "a.jpg")},
        content_type="multipart/form-data",
    )
    assert sneaky.status_code == 404
    assert "Rượu nho Thái An" not in other.get("/portal/photos/").get_data(as_text=True)
    assert count(session) == 1

    anonymous = app.test_client()
    assert anonymous.get(page).status_code == 403
    assert anonymous.get(f"/portal/photos/{photo_id}/image").status_code == 403


def test_the_office_cannot_use_the_producers_pages(app: Any, producer_user: Any, auth: Any, session: Session) -> None:
    office = app.test_client()
    auth.login(auth.user("administrator").email, client=office)
    assert office.get(product_page(producer_user)).status_code == 403


def test_the_navigation_links_the_photo_pages(client: FlaskClient, producer_user: Any) -> None:
    html = client.get("/portal/").get_data(as_text=True)
    assert re.search(r'<a href="/portal/photos/">Product photos</a>', html)
