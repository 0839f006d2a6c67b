"""Logging in and out: hashing, cookies, CSRF, lockout, sessions that end on reset or disable."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, csrf_token
from traceability.accounts import passwords
from traceability.accounts.models import User
from traceability.audit.models import AuditEntry

pytestmark = pytest.mark.usefixtures("english")  # these tests read the English msgids


def test_passwords_are_argon2id_hashes(auth: Any, factory: Any) -> None:
    user = auth.user("administrator")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_production_cost_is_memory_hard() -> None:
    from traceability.config import load

    hasher = passwords.hasher(load("/tmp"))
    assert (hasher.memory_cost, hasher.time_cost) == (65_536, 3)


def test_login_sets_a_safe_cookie_and_lands_by_role(auth: Any, client: Any, factory: Any) -> None:
    producer_user = auth.user("producer", producer=factory.producer())
    response = auth.login(producer_user.email)
    assert response.status_code == 302 and response.headers["Location"].endswith("/portal/")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" in cookie  # PUBLIC_BASE_URL is https in the tests
    assert client.get("/portal/").status_code == 200
    auth.logout()
    assert client.get("/portal/").status_code == 403

    admin = auth.user("administrator")
    assert auth.login(admin.email).headers["Location"].endswith("/office/")


def test_login_redirects_only_to_local_pages(auth: Any, client: Any) -> None:
    admin = auth.user("administrator")
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": admin.email, "password": PASSWORD, "next": "//evil.example/", "csrf_token": token}
    )
    assert response.headers["Location"] == "/office/"


def test_a_post_without_the_csrf_token_is_refused(auth: Any, client: Any) -> None:
    admin = auth.user("administrator")
    response = client.post("/login", data={"email": admin.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert client.get("/office/").status_code == 403


@pytest.mark.parametrize(
    ("email", "password"),
    [("nobody@ocop.example", PASSWORD), ("admin1@ocop.example", "wrong password!"), ("", ""), ("x", PASSWORD)],
)
def test_wrong_credentials_get_one_message(auth: Any, client: Any, email: str, password: str) -> None:
    auth.user("administrator", email="admin1@ocop.example")
    response = auth.login(email, password)
    assert response.status_code in (401, 422)
    if response.status_code == 401:
        assert "Wrong email or password" in response.get_data(as_text=True)


def test_five_failures_lock_the_account_even_for_the_right_password(auth: Any, client: Any, session: Any) -> None:
    user = auth.user("inspector")
    for _ in range(5):
        assert auth.login(user.email, "not the password").status_code == 401
    session.expire_all()
    locked = session.get(User, user.id)
    assert locked.locked_until is not None and locked.failed_logins == 0
    assert auth.login(user.email).status_code == 401  # locked: the right password does not help
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "user.lock")) is not None


def test_reset_password_lifts_the_lock_and_ends_sessions(auth: Any, client: Any, runner: Any, session: Any) -> None:
    user = auth.user("inspector")
    assert auth.login(user.email).status_code == 302
    assert client.get("/office/").status_code == 200
    result = runner.invoke(
        args=["users", "reset-password", "--email", user.email, "--password-stdin"], input="new password 2026\n"
    )
    assert result.exit_code == 0, result.output
    assert client.get("/office/").status_code == 403  # the old session ended
    assert auth.login(user.email, "new password 2026").status_code == 302


def test_disabled_users_cannot_log_in(auth: Any, client: Any, runner: Any) -> None:
    user = auth.user("inspector")
    assert runner.invoke(args=["users", "disable", "--email", user.email]).exit_code == 0
    assert auth.login(user.email).status_code == 401
    assert runner.invoke(args=["users", "enable", "--email", user.email]).exit_code == 0
    assert auth.login(user.email).status_code == 302


def test_anonymous_pages_link_to_the_login(client: Any) -> None:
    response = client.get("/portal/")
    assert response.status_code == 403
    assert "/login?next=/portal/" in response.get_data(as_text=True)
    assert client.get("/office/", headers={"Accept": "application/json"}).get_json()["error"] == "login_required"


def test_a_producer_cannot_enter_the_office_and_the_office_not_the_portal(auth: Any, client: Any, factory: Any) -> None:
    producer_user = auth.user("producer", producer=factory.producer())
    auth.login(producer_user.email)
    assert client.get("/office/").status_code == 403
    auth.logout()
    auth.login(auth.user("administrator").email)
    assert client.get("/portal/").status_code == 403


def test_logout_ends_the_session_even_for_a_copied_cookie(auth: Any, client: Any, app: Any) -> None:
    user = auth.user("inspector")
    assert auth.login(user.email).status_code == 302
    copied = client.get_cookie("session").value
    assert auth.logout().status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/office/").status_code == 403


def test_a_correct_password_does_not_lift_a_lock_set_meanwhile(auth: Any, session: Any, app: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from traceability.accounts import services

    user = auth.user("inspector")
    now = datetime.now(UTC)
    # What a parallel burst of wrong guesses does while this login's slow hash check runs.
    session.execute(services.update(User).where(User.id == user.id).values(locked_until=now + timedelta(minutes=15)))
    assert services.authenticate(session, app.config, user.email, "correct horse battery staple", now) is None
    session.expire_all()
    assert session.get(User, user.id).locked_until is not None
