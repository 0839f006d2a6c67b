"""A login sends the browser back to a page of this site and nowhere else, whatever `next` says."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PASSWORD, csrf_token
from traceability.accounts.redirects import safe_next

HOSTILE = [
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/%5Cevil.example",
    "/%5cevil.example",
    "/%2F/evil.example",
    "https://evil.example/",
    "http:evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,x",
    "evil.example",
    "/\t/evil.example",
    "/%09/evil.example",
    "/\n/x",
    "/%0a/x",
    "/\r/x",
    "/%0d/x",
    "/%0D%0ASet-Cookie:x=1",
    "/ /evil.example",
    "/%20/evil.example",
    "/\x00/x",
    "/\x7f/x",
    "/\u00a0/evil.example",
    "/\u2028/evil.example",
    "/\u3000/evil.example",
    "/\ufeff/evil.example",
    "/%E2%80%A8/evil.example",
    "",
    None,
]


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_targets_are_refused(target: str | None) -> None:
    assert safe_next(target) is None


@pytest.mark.parametrize("target", ["/", "/portal/", "/office/batches/3", "/portal/?tab=1&x=%2Fy", "/v/abc?seen=1"])
def test_paths_of_this_site_are_kept(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.parametrize("query", ["/%09/evil.example", "/%0a/x", "/%0d/x", "//evil", "/%5Cevil", "/%E3%80%80/evil"])
def test_login_page_never_redirects_elsewhere_nor_fails(auth: Any, client: Any, query: str) -> None:
    admin = auth.user("administrator")
    auth.login(admin.email)
    response = client.get("/login?next=" + query)
    assert response.status_code == 302
    assert response.headers["Location"] == "/office/"


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\n/x", "/\r/x", "https://evil.example"])
def test_login_post_never_redirects_elsewhere_nor_fails(auth: Any, client: Any, target: str) -> None:
    admin = auth.user("administrator")
    token = csrf_token(client, "/login")
    data = {"email": admin.email, "password": PASSWORD, "next": target, "csrf_token": token}
    response = client.post("/login", data=data)
    assert response.status_code == 302
    assert response.headers["Location"] == "/office/"
