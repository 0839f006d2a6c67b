"""Who is asking: the logged-in user of the request, and the checks each page makes on them."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, request, session

from traceability.accounts.models import Role, User
from traceability.db import get_session
from traceability.errors import Forbidden
from traceability.i18n import N_

F = TypeVar("F", bound=Callable[..., Any])

SESSION_USER, SESSION_EPOCH, SESSION_SINCE = "uid", "epoch", "since"
OFFICE_ROLES = (Role.ADMINISTRATOR, Role.INSPECTOR)


class LoginRequired(Forbidden):
    """Anonymous requests to a page that needs an account (403, with a link to the login page)."""

    code = "login_required"
    page = "accounts/login_required.html"

    def page_context(self) -> dict[str, Any]:
        """Return the page to come back to after logging in (a GET only: a form post cannot be replayed)."""
        return {"next": request.full_path.rstrip("?") if request.method == "GET" else None}


class RoleNotAllowed(Forbidden):
    """A logged-in user whose role may not use the page or action."""


def start_session(user: User) -> None:
    """Bind the browser session to the user (a fresh session: nothing carried over from before login)."""
    session.clear()
    session[SESSION_USER] = user.id
    session[SESSION_EPOCH] = user.session_epoch
    session[SESSION_SINCE] = int(time.time())
    g.user = user


def end_session() -> None:
    """Forget the logged-in user."""
    session.clear()
    g.user = None


def current_user() -> User | None:
    """Return the logged-in user, or None; a disabled user, a reset password or an old login ends it."""
    if "user" in g:
        return cast(User | None, g.user)
    user = None
    user_id, epoch, since = session.get(SESSION_USER), session.get(SESSION_EPOCH), session.get(SESSION_SINCE)
    max_age = int(current_app.config["SESSION_MAX_HOURS"]) * 3600
    if isinstance(user_id, int) and isinstance(since, int) and time.time() - since < max_age:
        found = get_session().get(User, user_id)
        if found is not None and found.is_active and found.session_epoch == epoch:
            user = found
    if user is None and user_id is not None:
        session.clear()
    g.user = user
    return user


def require_user() -> User:
    """Return the logged-in user or raise LoginRequired."""
    user = current_user()
    if user is None:
        raise LoginRequired(N_("Log in to see this page."))
    return user


def require_role(*roles: Role) -> User:
    """Return the logged-in user if they hold one of roles, else raise LoginRequired or RoleNotAllowed."""
    user = require_user()
    if user.role not in roles:
        raise RoleNotAllowed(N_("Your account may not do this."))
    return user


def require_office() -> None:
    """Let only administrators and inspectors through: the before_request of every office blueprint."""
    require_role(*OFFICE_ROLES)


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Decorate a view so only the given roles reach it."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            require_role(*roles)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorate


def actor() -> str:
    """Return the logged-in user as the actor of an audited action."""
    return require_user().label
