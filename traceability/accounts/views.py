"""Log in and log out."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from traceability.accounts import guards, services
from traceability.accounts.forms import LoginForm
from traceability.accounts.models import Role, User
from traceability.accounts.redirects import safe_next
from traceability.db import get_session, utcnow
from traceability.web import limiter

bp = Blueprint("accounts", __name__)


def home_for(user: User) -> str:
    """Return the page a user lands on after logging in."""
    if user.role is Role.PRODUCER:
        return url_for("portal.dashboard")
    return url_for("office.queue")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: str(current_app.config["LOGIN_RATE_LIMIT"]), methods=["POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
        user = guards.current_user()
        if user is not None:
            return redirect(safe_next(form.next.data) or home_for(user))
        return render_template("accounts/login.html", form=form)
    if not form.validate_on_submit():
        return render_template("accounts/login.html", form=form), 422
    session = get_session()
    user = services.authenticate(session, current_app.config, form.email.data or "", form.password.data or "", utcnow())
    session.commit()  # a failure is counted even though the login is refused
    if user is None:
        form.password.errors = [
            _(
                "Wrong email or password. After %(count)d failed attempts an account is locked for "
                "%(minutes)d minutes.",
                count=current_app.config["LOGIN_MAX_FAILURES"],
                minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"],
            )
        ]
        return render_template("accounts/login.html", form=form), 401
    guards.start_session(user)
    return redirect(safe_next(form.next.data) or home_for(user))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    user = guards.current_user()
    if user is not None:
        session = get_session()
        services.end_sessions(session, user)
        session.commit()
    guards.end_session()
    return redirect(url_for("accounts.login"))


@bp.app_context_processor
def account_helpers() -> dict[str, object]:
    return {"current_user": guards.current_user, "home_for": home_for}
