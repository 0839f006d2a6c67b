"""The one error handler: JSON for API clients, a page for people, the exception's status and headers kept."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from traceability.accounts.guards import LoginRequired
from traceability.errors import DomainError


def test_a_405_says_which_methods_are_allowed(client: Any) -> None:
    response = client.get("/logout")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}
    assert response.mimetype == "text/html"


def test_a_405_in_json_keeps_allow_too(client: Any) -> None:
    response = client.get("/logout", headers={"Accept": "application/json"})
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert response.get_json()["error"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("headers", "path"),
    [({"Accept": "application/json"}, "/portal/"), ({}, "/api/v1/anything"), ({}, "/.well-known/anything")],
)
def test_json_is_for_api_paths_and_clients_that_ask(app: Flask, headers: dict[str, str], path: str) -> None:
    with app.test_request_context(path, headers=headers):
        response = app.make_response(app.handle_user_exception(LoginRequired("Log in to see this page.")))
    assert response.status_code == 403
    assert response.get_json() == {"error": "login_required", "message": "Hãy đăng nhập để xem trang này."}


def test_login_required_is_rendered_by_the_one_handler_with_its_own_page(client: Any) -> None:
    page = client.get("/office/batches?status=issued")
    assert page.status_code == 403
    assert "/login?next=/office/batches?status%3Dissued" in page.get_data(as_text=True)


def test_login_required_after_a_form_post_links_to_the_login_page_alone(app: Flask) -> None:
    with app.test_request_context("/portal/batches/new", method="POST"):
        assert LoginRequired("Log in to see this page.").page_context() == {"next": None}
    with app.test_request_context("/portal/batches/new?x=1"):
        assert LoginRequired("Log in to see this page.").page_context() == {"next": "/portal/batches/new?x=1"}
    with app.test_request_context("/portal/"):
        assert LoginRequired("Log in to see this page.").page_context() == {"next": "/portal/"}


def test_every_error_page_but_login_uses_the_generic_page() -> None:
    assert DomainError.page == "error.html"
    assert LoginRequired.page == "accounts/login_required.html"
