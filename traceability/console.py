"""Output helpers shared by the command groups: errors as sentences, JSON one object a line."""

from __future__ import annotations

import getpass
import json
from typing import Any, NoReturn

import click

from traceability.errors import DomainError


def fail(error: DomainError | str) -> NoReturn:
    """Print an error as a person reads it and exit with status 1."""
    message = error.message if isinstance(error, DomainError) else error
    raise click.ClickException(message)


def echo_json(value: Any) -> None:
    """Print one JSON value on a line, keeping Vietnamese readable."""
    click.echo(json.dumps(value, ensure_ascii=False, default=str))


def operator() -> str:
    """Return who runs a command, as audit entries name them: cli:<login>."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (e.g. an unnamed uid in a container)
        return "cli:unknown"
