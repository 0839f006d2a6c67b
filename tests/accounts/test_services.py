"""Account services refuse with named errors: weak passwords, a taken email, a user who is not there."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from traceability.accounts import passwords, services
from traceability.accounts.passwords import WeakPassword

EMAIL = "someone@ocop.example"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "the password needs at least 10 characters"),
        ("x" * 1025 + "abc", "the password is longer than 1024 characters"),
        ("aaaaaaaaaaaaaa", "the password is too easy to guess"),
        ("ababababcdcdcd", None),
        (EMAIL.upper(), "the password is too easy to guess"),
    ],
)
def test_new_passwords(password: str, message: str | None) -> None:
    if message is None:
        assert passwords.check_new_password(password, EMAIL) == password
        return
    with pytest.raises(WeakPassword) as refused:
        passwords.check_new_password(password, EMAIL)
    assert (refused.value.message, refused.value.field, refused.value.status) == (message, "password", 422)


def test_a_weak_password_is_explained_in_vietnamese(app: Flask) -> None:
    with app.test_request_context("/"):
        with pytest.raises(WeakPassword) as refused:
            passwords.check_new_password("short", EMAIL)
        assert refused.value.localized() == "mật khẩu cần ít nhất 10 ký tự"


def test_one_email_one_user_and_missing_users(app: Flask, session: Any) -> None:
    services.create_user(session, app.config, email=EMAIL, role="inspector", password="a long passphrase", actor="t")
    with pytest.raises(services.DuplicateEmail, match="already exists") as taken:
        services.create_user(
            session, app.config, email=EMAIL.upper(), role="inspector", password="a long passphrase", actor="t"
        )
    assert taken.value.status == 409
    with pytest.raises(services.UserNotFound, match="there is no user 999"):
        services.user_or_404(session, 999)
    with pytest.raises(services.UserNotFound, match="no user has the email"):
        services.user_by_email_or_404(session, "nobody@ocop.example")


def test_nobody_enables_or_disables_their_own_account(app: Flask, session: Any) -> None:
    admin = services.create_user(
        session, app.config, email=EMAIL, role="administrator", password="a long passphrase", actor="t"
    )
    with pytest.raises(services.OwnAccount) as refused:
        services.set_active(session, admin, False, actor="t", by=admin)
    assert refused.value.status == 409 and admin.is_active
