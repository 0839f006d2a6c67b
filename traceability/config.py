"""Configuration: defaults, then an instance TOML file, then the environment. The only reader of os.environ."""

from __future__ import annotations

import difflib
import math
import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from limits import parse_many

from traceability.errors import ConfigurationError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# In the instance folder: the random key used when SECRET_KEY is not set outside production.
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
MIN_SECRET_KEY_CHARS = 32
CONFIG_FILE = "config.toml"  # in the instance folder, unless TRACEABILITY_CONFIG names another file
CONFIG_FILE_VARIABLE = "TRACEABILITY_CONFIG"

Kind = Literal["int", "float", "bool", "str", "list", "limit"]
KINDS: tuple[tuple[type, Kind], ...] = ((bool, "bool"), (int, "int"), (float, "float"), (list, "list"))  # bool first


@dataclass(frozen=True)
class Setting:
    """One setting: its name, default and meaning, and how a file or the environment spells its value."""

    name: str
    default: Any  # a value, or a function of the instance folder
    meaning: str
    kind: Kind | None = None  # None: the default's type (a None or computed default is text)
    minimum: float = 0  # numbers only: nothing here makes sense negative
    shown: str | None = None  # README's default where the value depends on the machine

    @property
    def type(self) -> Kind:
        """Return how values of this setting are read."""
        if self.kind:
            return self.kind
        for python_type, kind in KINDS:
            if isinstance(self.default, python_type):
                return kind
        return "str"

    def readme_default(self) -> str:
        """Return the default as README's table shows it."""
        value = self.default
        if self.shown is not None:
            return self.shown
        if value is None or value == []:
            return "none"
        if isinstance(value, bool):
            return f"`{str(value).lower()}`"
        if isinstance(value, int):
            return f"`{value:_}`"
        return f"`{value}`"


# fmt: off
# Every setting an operator may change, in README's order. README's table is this table; a test keeps them equal.
SETTINGS: tuple[Setting, ...] = (
    Setting("ENV", "development", "`development`, `testing` or `production` (environment: `TRACEABILITY_ENV`); "
            "production refuses unsafe settings"),
    Setting("DATABASE_URL", lambda instance: "sqlite:///" + os.path.join(instance, "traceability.sqlite3"),
            "SQLAlchemy URL, e.g. `postgresql+psycopg://user@host/ocop`", shown="SQLite file in `instance/`"),
    Setting("KEYS_DIR", str(PROJECT_ROOT / "keys"), "where private signing keys live (files mode 0600)",
            shown="`keys/`"),
    Setting("KEYS_PASSPHRASE", None, "encrypts new private key files and decrypts existing ones"),
    Setting("PUBLIC_BASE_URL", "http://127.0.0.1:5000", "scheme and host printed into every stamp; lowercased; in "
            "production https and at most 24 characters with `/v/`, so the QR stays at version 6"),
    Setting("SECRET_KEY", None, "session and CSRF secret; **required in production** (32+ characters)",
            shown="random, kept in `instance/secret_key` (0600)"),
    Setting("STAMP_URL_PREFIXES", [], "former base URLs still printed on stamps (after a domain move; "
            "comma-separated in the environment); a stamp URL under any other prefix than these and "
            "`PUBLIC_BASE_URL` reads `suspicious` (its QR may have been replaced)"),
    Setting("PROXY_HOPS", 0, "number of reverse proxies in front of the app whose `X-Forwarded-For`/`-Proto` are "
            "trusted (rate limits, device hashes and HSTS need the client's address and scheme)"),
    Setting("LOG_FORMAT", "text", "`text`, or `json` (one object per line on stderr, as the `deploy/` units set); "
            "every line of a request carries its `X-Request-ID`"),
    Setting("LOG_LEVEL", "INFO", "the service's own log level: `DEBUG`, `INFO`, `WARNING`, `ERROR` or `CRITICAL` "
            "(libraries log warnings and worse)"),
    Setting("MAX_CONTENT_LENGTH", 8 * 1024 * 1024, "largest request body in bytes; the report photo and the "
            "registry import must fit under it", minimum=1),
    Setting("RATELIMIT_ENABLED", True, "apply the per-client rate limits below; turn off only for a load test on "
            "a private network (production refuses `false`)"),
    Setting("RATELIMIT_STORAGE_URI", "memory://", "rate-limit store; production requires a shared one, "
            "e.g. `redis://127.0.0.1:6379`"),
    Setting("RATELIMIT_VERIFY", "30 per minute;300 per hour", "stamp look-ups, page and API together, per client",
            kind="limit"),
    Setting("RATELIMIT_SERIAL", "10 per minute;60 per hour", "typed-serial look-ups per client", kind="limit"),
    Setting("RATELIMIT_REPORT", "3 per hour;10 per day", "reports of a suspicious stamp per client", kind="limit"),
    Setting("RATELIMIT_PLACE", "10 per hour", "answers to the province question per client", kind="limit"),
    Setting("RATELIMIT_CLAIM", "5 per minute;20 per day", "scratch-off codes typed per client", kind="limit"),
    Setting("SCRATCH_FAILURES_PER_DAY", 10, "wrong scratch-off codes one stamp accepts in 24 hours before it "
            "refuses every attempt until the next day", minimum=1),
    Setting("LOGIN_RATE_LIMIT", "20 per minute", "login attempts per client", kind="limit"),
    Setting("SCAN_SALT_SECRET", None, "secret for the rotating salt of scan fingerprints",
            shown="derived from `SECRET_KEY`"),
    Setting("SCAN_SALT_DAYS", 7, "days one fingerprint salt lasts (scans compare only within one period)", minimum=1),
    Setting("SCAN_RETENTION_DAYS", 730, "days raw scans are kept; `traceability scans purge` counts older ones into "
            "daily aggregates and removes them (at least 90: the analytics look back that far)", minimum=90),
    Setting("SCAN_PARTITIONS_AHEAD", 3, "months of scan partitions `traceability scans partitions` creates ahead "
            "(PostgreSQL)", minimum=1),
    # Clone flags, evidence for inspectors (never the public verdict): a notice, then a stronger warning.
    Setting("CLONE_DEVICES_NOTICE", 4, "devices scanning one stamp for a clone notice", minimum=1),
    Setting("CLONE_DEVICES_WARNING", 10, "devices scanning one stamp for a clone warning", minimum=1),
    Setting("CLONE_PROVINCES_NOTICE", 2, "provinces one stamp is scanned in for a notice", minimum=1),
    Setting("CLONE_PROVINCES_WARNING", 3, "provinces one stamp is scanned in for a warning", minimum=1),
    Setting("CLONE_TRAVEL_KMH", 500.0, "km/h between two scans' provinces (after the slack) above which the "
            "stamp was copied, not carried", minimum=1),
    Setting("CLONE_TRAVEL_SLACK_KM", 100.0, "km forgiven before the travel speed is judged"),
    Setting("CLONE_BEFORE_ACTIVATION_NOTICE", 1, "devices scanning a stamp before it was applied to goods, "
            "for a notice", minimum=1),
    Setting("CLONE_BEFORE_ACTIVATION_WARNING", 3, "the same, for a warning", minimum=1),
    Setting("CLONE_TYPED_SERIAL_NOTICE", 2, "devices typing one stamp's serial for a notice", minimum=1),
    Setting("CLONE_TYPED_SERIAL_WARNING", 4, "networks typing one stamp's serial for a warning", minimum=1),
    Setting("VERIFY_CACHE_SECONDS", 30, "how long a web worker keeps the signing keys and a product's registry "
            "facts it verifies against; a change made in another process shows within this many seconds, one "
            "made in the same process at once; 0 reads them for every look-up"),
    Setting("REVOCATIONS_MAX_AGE_SECONDS", 2 * 24 * 3600, "lifetime of the signed revocation bundle; offline "
            "checks call an older one stale", minimum=1),
    Setting("LEDGER_ORIGIN", None, "origin line of the batch ledger's checkpoints and name of its key; fixed by "
            "the ledger's first entry (verifiers pin it)", shown="`<host of PUBLIC_BASE_URL>/ocop-ledger`"),
    Setting("REPORT_PHOTO_MAX_BYTES", 5 * 1024 * 1024, "largest photo a report may carry", minimum=1),
    Setting("PRODUCT_PHOTO_MAX_BYTES", 6 * 1024 * 1024, "largest product photo a producer may upload", minimum=1),
    Setting("MAX_BATCH_QUANTITY", 100_000, "most stamps in one batch", minimum=1),
    Setting("MAX_PENDING_REQUESTS", 5, "batch requests one producer may have waiting for a decision", minimum=1),
    # domain.md: a certificate lasts 36 months; re-evaluation is filed 180-120 days before expiry.
    Setting("CERTIFICATE_WARNING_DAYS", 180, "days before a certificate expires that the portal warns"),
    Setting("PRINT_DIR", lambda instance: os.path.join(instance, "prints"), "where print files are kept once "
            "produced", shown="`instance/prints`"),
    Setting("PRINT_FONT", None, "TrueType font file for the printed text", shown="found through fontconfig"),
    Setting("PRINT_WORKERS", 2, "processes encoding print sheets", minimum=1),
    Setting("PRINT_JOB_STALE_SECONDS", 300, "a running print job silent this long belongs to a dead process "
            "and is run again", minimum=1),
    Setting("PRINT_JOB_ATTEMPTS", 3, "runs a print job gets when its process keeps dying before it fails", minimum=1),
    Setting("QUEUE_URL", None, "Redis URL of the print-job queue, e.g. `redis://127.0.0.1:6379/1`: web processes "
            "only enqueue and `traceability worker` prints; unset, each web process prints on a thread of its own"),
    # RFC 9106's second recommendation.
    Setting("PASSWORD_HASH_TIME_COST", 3, "argon2id passes (under `TESTING` the cheapest profile instead)", minimum=1),
    Setting("PASSWORD_HASH_MEMORY_KIB", 65_536, "argon2id memory in KiB", minimum=8),
    Setting("PASSWORD_HASH_PARALLELISM", 4, "argon2id lanes", minimum=1),
    Setting("LOGIN_MAX_FAILURES", 5, "failed logins in a row that lock an account", minimum=1),
    Setting("LOGIN_LOCKOUT_MINUTES", 15, "how long a locked account stays locked"),
    Setting("SESSION_MAX_HOURS", 12, "the longest a login lasts", minimum=1),
    Setting("REGISTRY_IMPORT_MAX_BYTES", 5_000_000, "largest registry CSV import", minimum=1),
)
# fmt: on
SETTING: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}
# A bare ENV in the environment is too generic a name (shells and CI set it); the rest use their own names.
ENVIRONMENT_NAMES: dict[str, str] = {"ENV": "TRACEABILITY_ENV"}

# Flask's own keys kept fixed: the cookie flags are security invariants, not tuning, and the languages and
# time zone are those of the shipped catalogs and of the programme (Vietnam), so no deployment changes them.
FIXED: dict[str, Any] = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "BABEL_DEFAULT_LOCALE": "vi",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
    "LANGUAGES": ("vi", "en"),
}

# Messages for the operator starting the service: English only, never shown on a page, so not in the catalog.
EXPECTED: dict[Kind, str] = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false (also 1/0, yes/no)",
    "str": "text",
    "list": "a list of text (comma-separated in the environment)",
    "limit": "rate limits such as '30 per minute;300 per hour'",
}
TRUE_WORDS, FALSE_WORDS = ("true", "1", "yes"), ("false", "0", "no")


def environment_name(name: str) -> str:
    """Return the environment variable that sets the setting name."""
    return ENVIRONMENT_NAMES.get(name, name)


def defaults(instance_path: str) -> dict[str, Any]:
    """Return the built-in defaults for an app whose instance folder is instance_path."""
    values = {s.name: s.default(instance_path) if callable(s.default) else s.default for s in SETTINGS}
    values = {name: list(value) if isinstance(value, list) else value for name, value in values.items()}
    return {**values, **FIXED}  # each app its own lists


def load(
    instance_path: str, overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Build the configuration: defaults, the instance file, the environment, then explicit overrides (tests)."""
    environ = os.environ if environ is None else environ
    config = defaults(instance_path)
    config.update(read_file(config_file(instance_path, environ)))
    config.update(read_environment(environ))
    if overrides:
        config.update(overrides)
    config["PUBLIC_BASE_URL"] = normalise_base_url(str(config["PUBLIC_BASE_URL"]))
    if not config.get("SECRET_KEY") and config["ENV"] != "production":
        config["SECRET_KEY"] = instance_secret_key(instance_path)
    config["SESSION_COOKIE_SECURE"] = config["PUBLIC_BASE_URL"].startswith("https://")
    for setting in SETTINGS:  # an override may still spell a number or a list as text, as the environment does
        if setting.type not in ("str", "limit") and isinstance(config[setting.name], str):
            config[setting.name] = parse_text(setting, config[setting.name])
    validate(config)
    check(config)
    return config


def config_file(instance_path: str, environ: Mapping[str, str]) -> Path | None:
    """Return the instance file to read: TRACEABILITY_CONFIG (which must exist), else instance/config.toml if any."""
    named = environ.get(CONFIG_FILE_VARIABLE)
    if named:
        if not os.path.isfile(named):
            raise ConfigurationError(
                "%(variable)s names %(path)r, which is not a file",
                params={"variable": CONFIG_FILE_VARIABLE, "path": named},
            )
        return Path(named)
    default = Path(instance_path) / CONFIG_FILE
    return default if default.is_file() else None


def read_file(path: Path | None) -> dict[str, Any]:
    """Return the settings of a TOML instance file, checked: unknown keys and mistyped values are refused."""
    if path is None:
        return {}
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(
            "%(path)s is not valid TOML: %(error)s", params={"path": path, "error": error}
        ) from error
    unknown = [name for name in document if name not in SETTING]
    if unknown:
        hints = "; ".join(f"{name}{_suggestion(name)}" for name in unknown)
        raise ConfigurationError(
            "%(path)s: unknown settings (see README, Configuration): %(hints)s", params={"path": path, "hints": hints}
        )
    return {name: check_value(SETTING[name], value) for name, value in document.items()}


def _suggestion(name: str) -> str:
    """Return ' (did you mean X?)' for a misspelt setting name, or nothing."""
    if name in FIXED:
        return " (fixed: not a setting)"
    aliases = {variable: key for key, variable in ENVIRONMENT_NAMES.items()}
    close = [aliases[name]] if name in aliases else difflib.get_close_matches(name.upper(), SETTING, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def read_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Return the settings given in the environment, parsed; an empty variable counts as unset."""
    return {s.name: parse_text(s, text) for s in SETTINGS if (text := environ.get(environment_name(s.name)))}


def _refuse(setting: Setting, value: Any) -> ConfigurationError:
    return ConfigurationError(
        "%(name)s must be %(expected)s, got %(value)r",
        params={"name": setting.name, "expected": EXPECTED[setting.type], "value": value},
    )


def parse_text(setting: Setting, text: str) -> Any:
    """Return the value the text spells for the setting (the environment's form)."""
    kind, word = setting.type, text.strip()
    try:
        if kind == "int":
            return int(word)
        if kind == "float":
            number = float(word)
            if math.isfinite(number):
                return number
        elif kind == "bool" and word.lower() in (*TRUE_WORDS, *FALSE_WORDS):
            return word.lower() in TRUE_WORDS
        elif kind == "list":
            return [item.strip() for item in text.split(",") if item.strip()]
        elif kind in ("str", "limit"):
            return text
    except ValueError:
        pass
    raise _refuse(setting, text)


def check_value(setting: Setting, value: Any) -> Any:
    """Return a TOML value if its type suits the setting (an int is a fine float); refuse it otherwise."""
    kind = setting.type
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "int" and number and isinstance(value, int):
        return value
    if kind == "float" and number and math.isfinite(value):
        return float(value)
    if (kind == "bool" and isinstance(value, bool)) or (kind in ("str", "limit") and isinstance(value, str)):
        return value
    if kind == "list" and isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise _refuse(setting, value)


def validate(config: Mapping[str, Any]) -> None:
    """Refuse values no deployment can mean, whatever their source: a malformed rate limit, a negative count."""
    for setting in SETTINGS:
        value = config.get(setting.name)
        if setting.type == "limit":
            try:
                parse_many(str(value))
            except ValueError as error:
                raise _refuse(setting, value) from error
        elif setting.type in ("int", "float") and isinstance(value, int | float) and value < setting.minimum:
            raise ConfigurationError(
                "%(name)s must be at least %(minimum)s, got %(value)r",
                params={"name": setting.name, "minimum": setting.minimum, "value": value},
            )
    for prefix in config["STAMP_URL_PREFIXES"]:
        normalise_base_url(str(prefix))  # refuse a malformed one at start-up, not at the first scan
    queue = config["QUEUE_URL"]
    if queue and urlsplit(str(queue)).scheme not in ("redis", "rediss", "unix"):
        raise ConfigurationError(
            "QUEUE_URL must be a redis://, rediss:// or unix:// URL, got %(url)r", params={"url": queue}
        )
    font = config["PRINT_FONT"]
    if font and not os.path.isfile(font):
        raise ConfigurationError("PRINT_FONT names %(path)r, which is not a file", params={"path": font})


def readme_table() -> str:
    """Return README's configuration table, generated from SETTINGS."""
    rows = [f"| `{s.name}` | {s.readme_default()} | {s.meaning} |" for s in SETTINGS]
    return "\n".join(["| setting | default | meaning |", "|---|---|---|", *rows])


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
        raise ConfigurationError("PUBLIC_BASE_URL must be an http(s) URL with a host, got %(url)r", params={"url": url})
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
        if not config.get("RATELIMIT_ENABLED", True):
            # Without limits one client could enumerate typed serials and flood the scan log.
            raise ConfigurationError("RATELIMIT_ENABLED must stay true in production")
        if not config.get("QUEUE_URL"):
            # Without a queue each gunicorn worker would print on a thread of its own, beside the scans it serves.
            raise ConfigurationError(
                "QUEUE_URL must be set in production (e.g. redis://127.0.0.1:6379/1): print jobs run in "
                "`traceability worker`, never in the web processes"
            )
