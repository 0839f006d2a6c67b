"""`traceability users ...`: passwords from stdin only, clear refusals, audited, demo accounts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from traceability.audit.models import AuditEntry


def test_create_reads_the_password_from_stdin_and_is_audited(runner: Any, factory: Any, session: Any) -> None:
    producer = factory.producer("NT-HTX01")
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--role",
            "producer",
            "--producer",
            "nt-htx01",
            "--email",
            "An@Example.VN",
            "--password-stdin",
        ],
        input="a long enough secret\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created producer an@example.vn for producer NT-HTX01" in result.output
    listed = [json.loads(line) for line in runner.invoke(args=["users", "list", "--json"]).output.splitlines()]
    assert listed == [
        {
            "email": "an@example.vn",
            "role": "producer",
            "producer": producer.code,
            "active": True,
            "locked_until": None,
            "last_login_at": None,
        }
    ]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "user.create"))
    assert entry.actor.startswith("cli:") and entry.after["email"] == "an@example.vn"
    assert "secret" not in json.dumps(entry.after)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--role", "producer"], "a long enough secret\n", "needs the code of their producer"),
        (["--role", "producer", "--producer", "NOPE"], "a long enough secret\n", "no producer has the code 'NOPE'"),
        (["--role", "inspector", "--producer", "P001"], "a long enough secret\n", "only producer users belong"),
        (["--role", "inspector"], "short\n", "at least 10 characters"),
        (["--role", "inspector"], "aaaaaaaaaaaaaa\n", "too easy to guess"),
        (["--role", "inspector"], "\n", "standard input held no password"),
        (["--role", "boss"], "a long enough secret\n", "Invalid value for '--role'"),
    ],
)
def test_create_refuses_bad_input_clearly(runner: Any, factory: Any, args: list[str], stdin: str, message: str) -> None:
    factory.producer("P001")
    result = runner.invoke(
        args=["users", "create", *args, "--email", "x@ocop.example", "--password-stdin"], input=stdin
    )
    assert result.exit_code != 0
    assert message in result.output
    assert runner.invoke(args=["users", "list"]).output == ""


def test_duplicate_email_and_bad_email(runner: Any) -> None:
    create = ["users", "create", "--role", "inspector", "--password-stdin", "--email"]
    assert runner.invoke(args=[*create, "i@ocop.example"], input="a long enough secret\n").exit_code == 0
    again = runner.invoke(args=[*create, "I@OCOP.example"], input="a long enough secret\n")
    assert again.exit_code == 1 and "already exists" in again.output
    bad = runner.invoke(args=[*create, "not-an-email"], input="a long enough secret\n")
    assert bad.exit_code == 1 and "is not an email address" in bad.output


def test_without_password_stdin_and_no_terminal_it_refuses(runner: Any) -> None:
    result = runner.invoke(args=["users", "create", "--role", "inspector", "--email", "i@ocop.example"], input="")
    assert result.exit_code == 1 and "--password-stdin" in result.output


def test_reset_password_of_unknown_user(runner: Any) -> None:
    result = runner.invoke(
        args=["users", "reset-password", "--email", "ghost@ocop.example", "--password-stdin"],
        input="a long enough secret\n",
    )
    assert result.exit_code == 1 and "no user has the email" in result.output


def test_demo_accounts_get_random_passwords_once(runner: Any, auth: Any) -> None:
    assert runner.invoke(args=["demo"]).exit_code == 0
    first = runner.invoke(args=["users", "demo"])
    assert first.exit_code == 0, first.output
    lines = [line for line in first.output.splitlines() if "password:" in line]
    assert len(lines) == 3
    passwords = [line.rsplit("password: ", 1)[1] for line in lines]
    assert len(set(passwords)) == 3 and all(len(p) >= 16 for p in passwords)
    admin_email = next(line.split()[1] for line in lines if line.startswith("administrator"))
    assert auth.login(admin_email, passwords[0]).status_code == 302
    second = runner.invoke(args=["users", "demo"])
    assert "password:" not in second.output and "exists already" in second.output


def test_demo_accounts_are_refused_in_production(app: Any) -> None:
    app.config["ENV"] = "production"
    result = app.test_cli_runner().invoke(args=["users", "demo"])
    assert result.exit_code == 1 and "refused" in result.output
