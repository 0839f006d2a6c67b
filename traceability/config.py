"""Configuration: defaults plus environment overrides. The only module that reads os.environ."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from traceability.errors import ConfigurationError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# In the instance folder: the random key used when SECRET_KEY is not set outside production.
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
MIN_SECRET_KEY_CHARS = 32

# Environment variables read here, with what they set. README's configuration table mirrors this
# mapping and a test keeps the two in step.
ENVIRONMENT: dict[str, str] = {
    "TRACEABILITY_ENV": "ENV",
    "DATABASE_URL": "DATABASE_URL",
    "KEYS_DIR": "KEYS_DIR",
    "KEYS_PASSPHRASE": "KEYS_PASSPHRASE",
    "PUBLIC_BASE_URL": "PUBLIC_BASE_URL",
    "SECRET_KEY": "SECRET_KEY",
    "RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
    "SCAN_SALT_SECRET": "SCAN_SALT_SECRET",
    "PRINT_DIR": "PRINT_DIR",
    "PROXY_HOPS": "PROXY_HOPS",
    "STAMP_URL_PREFIXES": "STAMP_URL_PREFIXES",
}


def defaults(instance_path: str) -> dict[str, Any]:
    """Return the built-in defaults for an app whose instance folder is instance_path."""
    return {
        "ENV": "development",
        "DATABASE_URL": "sqlite:///" + os.path.join(instance_path, "traceability.sqlite3"),
        "KEYS_DIR": str(PROJECT_ROOT / "keys"),
        "KEYS_PASSPHRASE": None,
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
        "SECRET_KEY": None,  # production: required; elsewhere a random key kept in the instance folder
        "PROXY_HOPS": 0,  # reverse proxies in front of the app whose X-Forwarded-For/-Proto to trust
        # Former public base URLs still printed on shelves (a moved domain); PUBLIC_BASE_URL always counts.
        # A stamp URL under any other prefix reads "suspicious": its QR may have been replaced.
        "STAMP_URL_PREFIXES": [],
        # The largest request body anywhere; the report photo and the registry import fit under it.
        "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SCAN_SALT_SECRET": None,
        "PRINT_DIR": os.path.join(instance_path, "prints"),
        "PRINT_WORKERS": 2,  # processes encoding sheets; traceability/printing
        "PRINT_JOB_STALE_SECONDS": 300,  # a running print job silent this long belongs to a dead process
        # A certificate's validity and the re-evaluation window (domain.md: 36 months, filed 180-120 days
        # before expiry, grace of at most 180 days after expiry while re-evaluation is pending).
        "CERTIFICATE_WARNING_DAYS": 180,
        "MAX_BATCH_QUANTITY": 100_000,
        # Public verification (traceability/verification): clone-flag thresholds (notice, then warning:
        # only a warning makes the verdict "suspicious"), the fingerprint salt period, rate limits per
        # client, the revocation bundle's lifetime and the largest photo a report may carry.
        "CLONE_DEVICES_NOTICE": 4,
        "CLONE_DEVICES_WARNING": 10,
        "CLONE_PROVINCES_NOTICE": 2,
        "CLONE_PROVINCES_WARNING": 3,
        "CLONE_TRAVEL_KMH": 500,
        "CLONE_TRAVEL_SLACK_KM": 100,
        "CLONE_BEFORE_ACTIVATION_NOTICE": 1,
        "CLONE_BEFORE_ACTIVATION_WARNING": 3,
        # Typed serials feed clone detection too: devices for a notice, networks for a warning.
        "CLONE_TYPED_SERIAL_NOTICE": 2,
        "CLONE_TYPED_SERIAL_WARNING": 4,
        "SCAN_SALT_DAYS": 7,
        "RATELIMIT_VERIFY": "30 per minute;300 per hour",
        "RATELIMIT_SERIAL": "10 per minute;60 per hour",
        "RATELIMIT_REPORT": "3 per hour;10 per day",
        "RATELIMIT_PLACE": "10 per hour",
        "REVOCATIONS_MAX_AGE_SECONDS": 2 * 24 * 3600,
        "REPORT_PHOTO_MAX_BYTES": 5 * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "LANGUAGES": ("vi", "en"),
        # Accounts: argon2id cost (RFC 9106's second recommendation; the cheapest profile under TESTING),
        # lockout after repeated failed logins, and the longest a login lasts.
        "PASSWORD_HASH_TIME_COST": 3,
        "PASSWORD_HASH_MEMORY_KIB": 65_536,
        "PASSWORD_HASH_PARALLELISM": 4,
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_LOCKOUT_MINUTES": 15,
        "LOGIN_RATE_LIMIT": "20 per minute",
        "SESSION_MAX_HOURS": 12,
        "REGISTRY_IMPORT_MAX_BYTES": 5_000_000,
    }


def load(instance_path: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build the configuration: defaults, then the environment, then explicit overrides (tests)."""
    config = defaults(instance_path)
    for env_name, key in ENVIRONMENT.items():
        value = os.environ.get(env_name)
        if value:
            config[key] = value
    if overrides:
        config.update(overrides)
    config["PUBLIC_BASE_URL"] = normalise_base_url(str(config["PUBLIC_BASE_URL"]))
    try:
        config["PROXY_HOPS"] = int(config["PROXY_HOPS"])
    except (TypeError, ValueError) as error:
        raise ConfigurationError("PROXY_HOPS must be a whole number (0 when no reverse proxy)") from error
    if not config.get("SECRET_KEY") and config["ENV"] != "production":
        config["SECRET_KEY"] = instance_secret_key(instance_path)
    config["SESSION_COOKIE_SECURE"] = config["PUBLIC_BASE_URL"].startswith("https://")
    if isinstance(config["STAMP_URL_PREFIXES"], str):  # from the environment: comma-separated
        config["STAMP_URL_PREFIXES"] = [p.strip() for p in config["STAMP_URL_PREFIXES"].split(",") if p.strip()]
    for prefix in config["STAMP_URL_PREFIXES"]:
        normalise_base_url(str(prefix))  # refuse a malformed one at start-up, not at the first scan
    check(config)
    return config


def instance_secret_key(instance_path: str) -> str:
    """Return the instance's own random secret, creating it (mode 0600) on first use.

    A key written in the source would let anyone who reads it sign an administrator's session cookie
    on any server started without SECRET_KEY; a per-instance random key keeps development safe too.
    """
    path = os.path.join(instance_path, SECRET_KEY_FILE)
    try:
        with open(path, encoding="ascii") as handle:
            existing = handle.read().strip()
        if len(existing) >= MIN_SECRET_KEY_CHARS:
            return existing
    except FileNotFoundError:
        pass
    os.makedirs(instance_path, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secret + "\n")
    return secret


def normalise_base_url(url: str) -> str:
    """Lowercase scheme and host and drop a trailing slash: several phone cameras reject HTTPS://."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"PUBLIC_BASE_URL must be an http(s) URL with a host, got {url!r}")
    if parts.query or parts.fragment:
        raise ConfigurationError("PUBLIC_BASE_URL must not have a query or fragment")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def check(config: Mapping[str, Any]) -> None:
    """Refuse settings that are unsafe outside development."""
    if config["ENV"] not in ("development", "testing", "production"):
        raise ConfigurationError("TRACEABILITY_ENV must be development, testing or production")
    if config["ENV"] == "production":
        if len(str(config.get("SECRET_KEY") or "")) < MIN_SECRET_KEY_CHARS:
            raise ConfigurationError(
                f"SECRET_KEY must be set in production: a random string of at least {MIN_SECRET_KEY_CHARS} characters"
            )
        if not str(config["PUBLIC_BASE_URL"]).startswith("https://"):
            raise ConfigurationError("PUBLIC_BASE_URL must be https in production")
        if len(str(config["PUBLIC_BASE_URL"]) + "/v/") > 24:
            # Longer prefixes push the stamp QR from version 6 (16.2 mm) to 7 (17.5 mm) or more.
            raise ConfigurationError(
                "PUBLIC_BASE_URL is too long for version-6 stamps: scheme and host plus '/v/' must be at most "
                "24 characters (e.g. https://ocop.gov.vn)"
            )
        if str(config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory://"):
            # Each worker process would keep its own counters, multiplying every limit by the worker count.
            raise ConfigurationError("RATELIMIT_STORAGE_URI must be a shared store in production, e.g. redis://…")
