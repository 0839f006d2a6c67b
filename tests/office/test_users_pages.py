"""User management in the browser, and the login rate limit."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, csrf_token
from traceability import create_app
from traceability.accounts.models import Role, User
from traceability.audit.models import AuditEntry


@pytest.mark.usefixtures("english")  # reads the English domain-error messages
def test_admin_creates_and_disables_users_but_not_themselves(
    auth: Any, client: Any, session: Any, factory: Any
) -> None:
    factory.producer("NT-HTX01")
    admin = auth.user("administrator")
    auth.login(admin.email)
    form = {"email": "ba@htx.vn", "role": "producer", "producer": "NT-HTX01", "password": "nho thai an 2026"}
    assert auth.post("/office/users/new", form).status_code == 302
    created = session.scalar(select(User).where(User.email == "ba@htx.vn"))
    assert created.role is Role.PRODUCER and created.producer.code == "NT-HTX01"
    bad = auth.post("/office/users/new", {**form, "email": "c@htx.vn", "producer": ""})
    assert bad.status_code == 422 and "needs the code of their producer" in bad.get_data(as_text=True)
    assert auth.post(f"/office/users/{created.id}/disable", form_page="/office/users").status_code == 302
    session.expire_all()
    assert not session.get(User, created.id).is_active
    assert auth.post(f"/office/users/{admin.id}/disable", form_page="/office/users").status_code == 409
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.actor == admin.label)).all()
    assert actions == ["user.create", "user.disable"]


def test_the_new_user_form_preselects_no_role_and_asks_for_one(auth: Any, client: Any, session: Any) -> None:
    auth.login(auth.user("administrator").email)
    page = client.get("/office/users/new").get_data(as_text=True)
    role = page[page.index('name="role"') : page.index("</select>", page.index('name="role"'))]
    first = role.split("<option", 2)[1]
    assert 'value=""' in first and "selected" not in role  # a browser shows the first option: not administrator
    form = {"email": "an@ocop.vn", "role": "", "password": "mot mat khau dai 2026"}
    answer = auth.post("/office/users/new", form)
    assert answer.status_code == 422 and "an@ocop.vn" in answer.get_data(as_text=True)  # what was typed stays
    assert session.scalar(select(User).where(User.email == "an@ocop.vn")) is None


def test_logout_is_a_post(client: Any) -> None:
    assert client.get("/logout").status_code == 405


def test_login_is_rate_limited_per_address(app_config: dict[str, Any]) -> None:
    app = create_app({**app_config, "RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "2 per minute"})
    try:
        client = app.test_client()
        statuses = []
        for _ in range(3):
            token = csrf_token(client, "/login")
            statuses.append(
                client.post(
                    "/login", data={"email": "x@ocop.example", "password": PASSWORD, "csrf_token": token}
                ).status_code
            )
        assert statuses == [401, 401, 429]
    finally:
        app.extensions["db_engine"].dispose()
