"""`traceability users ...`: create users, reset passwords, list, enable/disable, demo accounts.

Passwords come from standard input or a hidden prompt, never from the command line, where they would
end up in shell history and the process list.
"""

from __future__ import annotations

import secrets
import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from traceability.accounts import services
from traceability.accounts.models import Role
from traceability.console import echo_json, fail, operator
from traceability.db import get_session, transaction
from traceability.errors import DomainError
from traceability.registry.models import Product


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            fail("--password-stdin: standard input held no password (one line expected)")
        return password
    if not sys.stdin.isatty():
        fail("give the password on standard input with --password-stdin (never as an argument)")
    typed: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return typed


@click.group("users")
def users_group() -> None:
    """Manage accounts: administrators, inspectors and producer users."""


@users_group.command("create")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="What the user may do.")
@click.option("--producer", "producer_code", help="Producer code (required for, and only for, --role producer).")
@click.option("--email", required=True, help="Login name; stored lowercased.")
@click.option("--password-stdin", "password_stdin", is_flag=True, help="Read the password from the first stdin line.")
@with_appcontext
def create_command(role: str, producer_code: str | None, email: str, password_stdin: bool) -> None:
    """Create a user."""
    password = _read_password(password_stdin)
    try:
        with transaction() as session:
            user = services.create_user(
                session,
                current_app.config,
                email=email,
                role=role,
                password=password,
                producer_code=producer_code,
                actor=operator(),
            )
    except DomainError as error:
        fail(error)
    bound = f" for producer {user.producer.code}" if user.producer else ""
    click.echo(f"Created {user.role.value} {user.email}{bound}.")


@users_group.command("reset-password")
@click.option("--email", required=True)
@click.option("--password-stdin", "password_stdin", is_flag=True, help="Read the password from the first stdin line.")
@with_appcontext
def reset_password_command(email: str, password_stdin: bool) -> None:
    """Set a new password; lifts a lockout and logs the user out everywhere."""
    password = _read_password(password_stdin)
    try:
        with transaction() as session:
            user = services.user_by_email_or_404(session, email)
            services.reset_password(session, current_app.config, user, password, actor=operator())
    except DomainError as error:
        fail(error)
    click.echo(f"Password of {user.email} is reset; their sessions have ended.")


def _set_active_command(name: str, active: bool, help_text: str) -> None:
    @users_group.command(name, help=help_text)
    @click.option("--email", required=True)
    @with_appcontext
    def command(email: str) -> None:
        try:
            with transaction() as session:
                user = services.user_by_email_or_404(session, email)
                services.set_active(session, user, active, actor=operator())
        except DomainError as error:
            fail(error)
        click.echo(f"{user.email} is {'enabled' if active else 'disabled'}.")


_set_active_command("enable", True, "Let a disabled user log in again.")
_set_active_command("disable", False, "Stop a user from logging in (ends their sessions; the account is kept).")


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@with_appcontext
def list_command(as_json: bool) -> None:
    """List users with role, producer and state."""
    for user in services.list_users(get_session()):
        row = {
            "email": user.email,
            "role": user.role.value,
            "producer": user.producer.code if user.producer else None,
            "active": user.is_active,
            "locked_until": user.locked_until.isoformat() if user.locked_until else None,
            "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
        }
        if as_json:
            echo_json(row)
        else:
            state = "active" if user.is_active else "disabled"
            click.echo(f"{user.email:<40} {user.role.value:<14} {row['producer'] or '-':<10} {state}")


DEMO_DOMAIN = "ocop.example"


@users_group.command("demo")
@with_appcontext
def demo_command() -> None:
    """Create demo accounts with random passwords, printed once (refused in production)."""
    if current_app.config["ENV"] == "production":
        fail("demo accounts are refused when TRACEABILITY_ENV=production; use 'traceability users create'")
    session = get_session()
    product = session.scalar(select(Product).where(Product.is_demo.is_(True)).order_by(Product.code))
    if product is None:
        fail("load the demo registry first: traceability demo")
    wanted = [
        ("admin@" + DEMO_DOMAIN, Role.ADMINISTRATOR.value, None),
        ("inspector@" + DEMO_DOMAIN, Role.INSPECTOR.value, None),
        (f"{product.producer.code.lower()}@{DEMO_DOMAIN}", Role.PRODUCER.value, product.producer.code),
    ]
    created = []
    try:
        with transaction() as session:
            for email, role, producer_code in wanted:
                if services.user_by_email(session, email) is not None:
                    click.echo(f"{email} exists already (reset it with 'traceability users reset-password').")
                    continue
                password = secrets.token_urlsafe(12)
                services.create_user(
                    session,
                    current_app.config,
                    email=email,
                    role=role,
                    password=password,
                    producer_code=producer_code,
                    actor=operator(),
                )
                created.append((email, role, password))
    except DomainError as error:
        fail(error)
    for email, role, password in created:
        click.echo(f"{role:<14} {email:<32} password: {password}")
    if created:
        click.echo("These passwords are shown once; they are stored only as argon2id hashes.")
