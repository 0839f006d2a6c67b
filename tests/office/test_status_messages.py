"""After every action the next page says what happened, once, in a status region; errors come first.

WCAG 2.1 success criterion 4.1.3: the message sits in role="status" (a failure in role="alert"), so a screen
reader announces it. A form error is summarised at the top of the page with a link to its field, and the
field keeps what was typed.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from tests.office.test_confirmations import status_message
from traceability.stamps import batches
from traceability.stamps.batches import BatchOptions
from traceability.stamps.models import Batch

pytestmark = pytest.mark.usefixtures("english")

TODAY = date.today()


@pytest.fixture
def requested(session: Any, factory: Any) -> Batch:
    product = factory.product("NT-SP01", stars=4)
    batch = batches.new_request(
        session, product, 300, BatchOptions(lot="L7"), actor="user:p@x.vn", maximum=100_000, today=TODAY
    )
    session.commit()
    return batch


def test_approving_says_so_once(auth: Any, client: Any, signing_key: Any, requested: Batch) -> None:
    auth.login(auth.user("administrator").email)
    page = f"/office/batches/{requested.id}"
    done = auth.post(f"{page}/approve", prefix="approve", form_page=page, follow_redirects=True)
    assert done.request.path == page
    said = f"Batch {requested.id} approved: 300 stamps issued and signed."
    assert status_message(done.get_data(as_text=True)) == said
    assert status_message(client.get(page).get_data(as_text=True)) == ""


def test_user_edits_say_what_they_did(auth: Any, client: Any, factory: Any) -> None:
    factory.producer("NT-HTX01")
    auth.login(auth.user("administrator").email)
    form = {"email": "ba@htx.vn", "role": "producer", "producer": "NT-HTX01", "password": "nho thai an 2026"}
    created = auth.post("/office/users/new", form, follow_redirects=True)
    assert created.request.path == "/office/users"
    assert status_message(created.get_data(as_text=True)) == "Account ba@htx.vn created."
    users = created.get_data(as_text=True)
    user_id = re.search(r'ba@htx\.vn</td>.*?action="/office/users/(\d+)/disable"', users, re.S)
    assert user_id
    disabled = auth.post(f"/office/users/{user_id.group(1)}/disable", form_page="/office/users", follow_redirects=True)
    said = "Account ba@htx.vn disabled: it is logged out and cannot log in."
    assert status_message(disabled.get_data(as_text=True)) == said
    enabled = auth.post(f"/office/users/{user_id.group(1)}/enable", form_page="/office/users", follow_redirects=True)
    assert status_message(enabled.get_data(as_text=True)) == "Account ba@htx.vn enabled: it can log in again."


def test_saving_a_producer_says_so(auth: Any, client: Any, factory: Any) -> None:
    factory.producer("NT-HTX01")
    auth.login(auth.user("administrator").email)
    page = "/office/registry/producers/NT-HTX01/edit"
    html = client.get(page).get_data(as_text=True)
    fields = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', html))
    fields.update(
        name="Hợp tác xã Nho Thái An",
        type="cooperative",
        address_scheme="pre2025",
        address_as_of="2024-03-01",
    )
    fields.pop("csrf_token", None)
    done = auth.post(page, fields, follow_redirects=True)
    assert done.request.path == "/office/registry/"
    assert status_message(done.get_data(as_text=True)) == "Producer NT-HTX01 saved."


def test_a_form_error_is_summarised_at_the_top_with_a_link_and_the_typed_value_kept(
    auth: Any, producer_user: Any
) -> None:
    product = producer_user.producer.products[0]
    form = {"product": product.id, "quantity": "many", "lot": "Lô mùa thu", "layout": "a4-30mm"}
    response = auth.post("/portal/batches/new", form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    summary_at = html.index('class="error-summary"')
    assert summary_at < html.index('action="/portal/batches/new"') and summary_at < html.index('id="quantity"')
    summary = html[summary_at : html.index("</div>", summary_at)]
    assert 'role="alert"' in summary and '<a href="#quantity">' in summary and "Not a valid integer" in summary
    quantity = re.search(r'<input[^>]*id="quantity"[^>]*>', html)
    assert quantity
    assert 'aria-invalid="true"' in quantity.group(0) and 'aria-describedby="quantity-error"' in quantity.group(0)
    assert 'value="many"' in quantity.group(0)
    assert 'value="Lô mùa thu"' in html  # the other fields keep what was typed too


def test_the_void_reason_error_is_a_sentence(
    auth: Any, session: Any, store: Any, signing_key: Any, producer_user: Any
) -> None:
    product = producer_user.producer.products[0]
    batch = batches.new_request(
        session, product, 100, BatchOptions(lot="L1"), actor="user:p", maximum=100_000, today=TODAY
    )
    batches.issue(session, store, batch, actor="user:admin", today=TODAY)
    session.commit()
    page = f"/portal/batches/{batch.id}"
    response = auth.post(f"{page}/void", {"void-first": "50", "void-last": "59"}, prefix="void", form_page=page)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<a href="#void-reason">' in html and "Say why the stamps are void (damaged, lost...)." in html


@pytest.mark.parametrize(
    ("role", "path", "home"),
    [
        ("producer", "/office/", "/portal/"),
        ("inspector", "/portal/", "/office/"),
        ("inspector", "/office/users", "/office/"),
    ],
)
def test_the_forbidden_page_leads_back_to_ones_own_start_page(
    auth: Any, client: Any, factory: Any, role: str, path: str, home: str
) -> None:
    user = auth.user(role, producer=factory.producer() if role == "producer" else None)
    auth.login(user.email)
    response = client.get(path)
    assert response.status_code == 403
    assert f'<a class="button" href="{home}">Back to my start page</a>' in response.get_data(as_text=True)


def test_an_anonymous_error_page_leads_to_the_public_home(client: Any) -> None:
    html = client.get("/no-such-page").get_data(as_text=True)
    assert '<a class="button" href="/">Back to the home page</a>' in html
