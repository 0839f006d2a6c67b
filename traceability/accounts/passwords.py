"""Password hashing with argon2id and the rules a new password must meet."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from traceability.errors import ValidationError
from traceability.i18n import N_

MIN_LENGTH = 10
MAX_LENGTH = 1024  # argon2 takes any length; this only bounds the work an attacker can ask for


class WeakPassword(ValidationError):
    """A new password too short, too long or too easy to guess."""

    code = "weak_password"


def hasher(config: Mapping[str, Any]) -> PasswordHasher:
    """Return the argon2id hasher the configuration asks for (the cheapest profile in tests)."""
    if config.get("TESTING"):
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher(
        time_cost=int(config["PASSWORD_HASH_TIME_COST"]),
        memory_cost=int(config["PASSWORD_HASH_MEMORY_KIB"]),
        parallelism=int(config["PASSWORD_HASH_PARALLELISM"]),
    )


def check_new_password(password: str, email: str) -> str:
    """Refuse a password too short, too long or trivially guessable; return it unchanged."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(
            N_("the password needs at least %(min_length)s characters"),
            field="password",
            params={"min_length": MIN_LENGTH},
        )
    if len(password) > MAX_LENGTH:
        raise WeakPassword(
            N_("the password is longer than %(max_length)s characters"),
            field="password",
            params={"max_length": MAX_LENGTH},
        )
    if len(set(password)) < 4 or password.strip().lower() == email.strip().lower():
        raise WeakPassword(N_("the password is too easy to guess"), field="password")
    return password


def hash_password(config: Mapping[str, Any], password: str) -> str:
    """Return the argon2id hash of a password (salted, memory-hard)."""
    return hasher(config).hash(password)


def verify_password(config: Mapping[str, Any], password_hash: str, password: str) -> bool:
    """Return whether the password matches the hash, never raising for a wrong or corrupt hash."""
    try:
        return hasher(config).verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(config: Mapping[str, Any], password_hash: str) -> bool:
    """Return whether a stored hash was made with other parameters than today's."""
    try:
        return hasher(config).check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
