"""Account services: create users, reset passwords, log in with a lockout after repeated failures.

Every function takes the session first and never commits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from traceability.accounts import passwords
from traceability.accounts.models import Role, User
from traceability.audit import services as audit
from traceability.errors import Conflict, NotFound, ValidationError
from traceability.i18n import N_
from traceability.registry.models import Producer
from traceability.registry.services import producer_by_code

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


class UserNotFound(NotFound):
    """No user has this id or email."""

    code = "user_not_found"


class DuplicateEmail(Conflict):
    """Another user already has this email: emails name accounts."""

    code = "duplicate_email"


class OwnAccount(Conflict):
    """An administrator may not disable or enable their own account (they could lock the office out)."""

    code = "own_account"


def normalise_email(email: str) -> str:
    """Return the email lowercased and stripped, or raise ValidationError."""
    value = (email or "").strip().lower()
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise ValidationError(N_("'%(email)s' is not an email address"), field="email", params={"email": email})
    return value


def parse_role(value: str) -> Role:
    """Return the role named value, or raise ValidationError listing the choices."""
    try:
        return Role(value)
    except ValueError as error:
        choices = ", ".join(r.value for r in Role)
        raise ValidationError(
            N_("role must be one of: %(choices)s"), field="role", params={"choices": choices}
        ) from error


def snapshot(user: User) -> dict[str, Any]:
    """Return what the audit log keeps of a user (never the password hash)."""
    return {
        "email": user.email,
        "role": user.role.value,
        "producer": user.producer.code if user.producer else None,
        "is_active": user.is_active,
    }


def user_by_email(session: Session, email: str) -> User | None:
    """Return the user with this email, if any."""
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def user_or_404(session: Session, user_id: int) -> User:
    """Return the user or raise NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound(N_("there is no user %(user)s"), params={"user": user_id})
    return user


def user_by_email_or_404(session: Session, email: str) -> User:
    """Return the user with this email or raise NotFound."""
    user = user_by_email(session, email)
    if user is None:
        raise UserNotFound(N_("no user has the email '%(email)s'"), params={"email": email})
    return user


def list_users(session: Session) -> Sequence[User]:
    """Return every user, administrators first."""
    return session.scalars(select(User).options(selectinload(User.producer)).order_by(User.role, User.email)).all()


def _producer_for(session: Session, role: Role, producer_code: str | None) -> Producer | None:
    if role is Role.PRODUCER:
        if not producer_code:
            raise ValidationError(N_("a producer user needs the code of their producer"), field="producer")
        producer = producer_by_code(session, producer_code)
        if producer is None:
            raise ValidationError(
                N_("no producer has the code '%(code)s'"), field="producer", params={"code": producer_code}
            )
        return producer
    if producer_code:
        raise ValidationError(
            N_("only producer users belong to a producer, not %(role)ss"), field="producer", params={"role": role.value}
        )
    return None


def create_user(
    session: Session,
    config: Mapping[str, Any],
    *,
    email: str,
    role: str,
    password: str,
    producer_code: str | None = None,
    actor: str,
) -> User:
    """Create a user with a hashed password and record who did it."""
    address = normalise_email(email)
    parsed_role = parse_role(role)
    producer = _producer_for(session, parsed_role, producer_code)
    if user_by_email(session, address) is not None:
        raise DuplicateEmail(
            N_("a user with the email %(email)s already exists"), field="email", params={"email": address}
        )
    passwords.check_new_password(password, address)
    user = User(
        email=address,
        role=parsed_role,
        producer=producer,
        password_hash=passwords.hash_password(config, password),
        is_active=True,
        failed_logins=0,
        session_epoch=0,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", f"user:{user.id}", after=snapshot(user))
    return user


def reset_password(session: Session, config: Mapping[str, Any], user: User, password: str, *, actor: str) -> User:
    """Set a new password, lift any lockout and end the user's existing sessions."""
    passwords.check_new_password(password, user.email)
    user.password_hash = passwords.hash_password(config, password)
    user.failed_logins, user.locked_until = 0, None
    user.session_epoch += 1
    session.flush()
    audit.record(session, actor, "user.reset_password", f"user:{user.id}", after={"email": user.email})
    return user


def end_sessions(session: Session, user: User) -> None:
    """End every session of the user: session cookies are signed, not stored, so a copied cookie
    stays valid until the epoch it carries no longer matches."""
    user.session_epoch += 1
    session.flush()


def set_active(session: Session, user: User, active: bool, *, actor: str, by: User | None = None) -> User:
    """Enable or disable a user (by: the user asking, never the same one); disabling ends their sessions at once."""
    if by is not None and by.id == user.id:
        raise OwnAccount(N_("You cannot disable or enable your own account."))
    before = snapshot(user)
    if user.is_active != active:
        user.is_active = active
        user.session_epoch += 1
        session.flush()
        audit.record(
            session,
            actor,
            "user.enable" if active else "user.disable",
            f"user:{user.id}",
            before=before,
            after=snapshot(user),
        )
    return user


@cache
def _dummy_hash(parameters: tuple[Any, ...]) -> str:
    return passwords.hash_password(dict(parameters), "not-a-real-password")


def authenticate(session: Session, config: Mapping[str, Any], email: str, password: str, now: datetime) -> User | None:
    """Return the user if the email and password match and the account is neither disabled nor locked.

    A failure counts against the account; reaching LOGIN_MAX_FAILURES locks it for LOGIN_LOCKOUT_MINUTES.
    The caller commits either way, so failures are remembered. Unknown emails cost the same hash check,
    so timing does not reveal which accounts exist.
    """
    user = user_by_email(session, email) if email else None
    if user is None or not user.is_active:
        keys = ("TESTING", "PASSWORD_HASH_TIME_COST", "PASSWORD_HASH_MEMORY_KIB", "PASSWORD_HASH_PARALLELISM")
        passwords.verify_password(config, _dummy_hash(tuple((k, config.get(k)) for k in keys)), password)
        return None
    matches = passwords.verify_password(config, user.password_hash, password)
    # The hash check is slow on purpose; read the lock again after it, so a lock set meanwhile holds.
    session.refresh(user)
    if user.locked_until is not None and user.locked_until > now:
        return None
    if not matches:
        # Counted in the database in one statement, so parallel guesses cannot slip past the limit.
        failures = session.execute(
            update(User)
            .where(User.id == user.id)
            .values(failed_logins=User.failed_logins + 1)
            .returning(User.failed_logins)
            .execution_options(synchronize_session=False)
        ).scalar_one()
        if failures >= int(config["LOGIN_MAX_FAILURES"]):
            until = now + timedelta(minutes=int(config["LOGIN_LOCKOUT_MINUTES"]))
            session.execute(
                update(User)
                .where(User.id == user.id)
                .values(failed_logins=0, locked_until=until)
                .execution_options(synchronize_session=False)
            )
            audit.record(session, "system", "user.lock", f"user:{user.id}", after={"locked_until": until})
        session.expire(user)
        return None
    # Clear the failures only if no lock appeared since the refresh: a correct guess racing a burst of
    # wrong ones must not lift the lock they set (PostgreSQL runs these in parallel).
    cleared = session.execute(
        update(User)
        .where(User.id == user.id, or_(User.locked_until.is_(None), User.locked_until <= now))
        .values(failed_logins=0, locked_until=None, last_login_at=now)
        .returning(User.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    session.expire(user)
    if cleared is None:
        return None
    if passwords.needs_rehash(config, user.password_hash):
        user.password_hash = passwords.hash_password(config, password)
    session.flush()
    return user
