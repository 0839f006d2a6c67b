"""Configuration: defaults < instance file < environment < test mapping, typed and checked, documented in README;
safe refusals; migrations that match the models."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask

from traceability import config, create_app
from traceability.db import make_engine
from traceability.errors import ConfigurationError
from traceability.models import Base


def test_production_refuses_to_start_without_a_secret(tmp_path: Any) -> None:
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app(
            {
                "ENV": "production",
                "SECRET_KEY": "too-short",
                "PUBLIC_BASE_URL": "https://ocop.gov.vn",
                "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
            }
        )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://ocop.gov.vn", r"an http\(s\) URL"),
        ("http://ocop.gov.vn", "https in production"),
        ("https://truy-xuat-nguon-goc.ocop.gov.vn", "too long"),
    ],
)
def test_public_base_url_is_checked(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        config.load("/tmp", {"ENV": "production", "SECRET_KEY": "s" * 40, "PUBLIC_BASE_URL": url})


def test_base_url_is_lowercased_for_phone_cameras() -> None:
    assert config.load("/tmp", {"PUBLIC_BASE_URL": "HTTPS://OCOP.Gov.VN/"})["PUBLIC_BASE_URL"] == "https://ocop.gov.vn"


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://tem.ocop.vn")
    monkeypatch.setenv("KEYS_DIR", "/srv/keys")
    loaded = config.load("/tmp")
    assert (loaded["PUBLIC_BASE_URL"], loaded["KEYS_DIR"]) == ("https://tem.ocop.vn", "/srv/keys")


def test_migrations_match_the_models(app: Any, database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_without_secret_key_a_private_random_one_is_kept(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import stat

    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = config.load(str(tmp_path))["SECRET_KEY"]
    assert len(first) >= config.MIN_SECRET_KEY_CHARS
    assert stat.S_IMODE(os.stat(tmp_path / config.SECRET_KEY_FILE).st_mode) == 0o600
    assert config.load(str(tmp_path))["SECRET_KEY"] == first  # sessions survive a restart
    assert config.load(str(tmp_path / "other"))["SECRET_KEY"] != first


def test_production_needs_a_shared_rate_limit_store() -> None:
    settings = {
        "ENV": "production",
        "SECRET_KEY": "s" * 40,
        "PUBLIC_BASE_URL": "https://ocop.gov.vn",
        "QUEUE_URL": "redis://127.0.0.1:6379/1",
    }
    with pytest.raises(ConfigurationError, match="RATELIMIT_STORAGE_URI"):
        config.load("/tmp", settings)
    config.load("/tmp", {**settings, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379"})


def test_production_needs_the_print_queue() -> None:
    settings = {
        "ENV": "production",
        "SECRET_KEY": "s" * 40,
        "PUBLIC_BASE_URL": "https://ocop.gov.vn",
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
    }
    with pytest.raises(ConfigurationError, match="QUEUE_URL must be set in production"):
        config.load("/tmp", settings)
    assert config.load("/tmp", {**settings, "QUEUE_URL": "redis://127.0.0.1:6379/1"})["QUEUE_URL"]


def test_oversized_requests_are_refused_before_reading(client: Any) -> None:
    response = client.post("/login", data=b"x" * (9 * 1024 * 1024), content_type="application/octet-stream")
    assert response.status_code == 413


def test_proxy_hops_trust_forwarded_address(app_config: dict[str, Any]) -> None:
    from flask import request

    application = create_app({**app_config, "PROXY_HOPS": 1})

    @application.get("/_whoami")
    def whoami() -> str:
        return f"{request.remote_addr} {request.scheme}"

    reply = application.test_client().get(
        "/_whoami", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    )
    assert reply.get_data(as_text=True) == "203.0.113.9 https"
    application.extensions["db_engine"].dispose()


# --- Every setting configurable without a code edit: README's table, types, the instance file, precedence. ---


def _readme_rows() -> dict[str, tuple[str, str]]:
    readme = (config.PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z_]+)` \| (.*?) \| (.*) \|$", section, flags=re.MULTILINE)
    return {name: (default, meaning) for name, default, meaning in rows}


def test_readme_table_is_the_settings_table() -> None:
    documented = _readme_rows()
    assert sorted(documented) == sorted(config.SETTING), "README's Configuration table and SETTINGS name other keys"
    wrong = {s.name: documented[s.name][0] for s in config.SETTINGS if documented[s.name][0] != s.readme_default()}
    assert not wrong, f"README shows other defaults than config.py: {wrong}"
    stale = [s.name for s in config.SETTINGS if documented[s.name][1] != s.meaning]
    assert not stale, f"README's meanings differ from config.SETTINGS (paste config.readme_table()): {stale}"


def test_every_default_is_a_setting_or_fixed() -> None:
    assert set(config.defaults("/srv")) == set(config.SETTING) | set(config.FIXED)
    assert config.defaults("/srv")["PRINT_FONT"] is None  # found through fontconfig unless a TTF is named


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("int", "42", 42),
        ("int", " 100_000 ", 100_000),
        ("float", "12.5", 12.5),
        ("float", "450", 450.0),
        ("bool", "true", True),
        ("bool", "YES", True),
        ("bool", "1", True),
        ("bool", "False", False),
        ("bool", "no", False),
        ("bool", "0", False),
        ("str", "redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
        ("list", "https://a.vn, https://b.vn,", ["https://a.vn", "https://b.vn"]),
        ("list", " , ", []),
        ("limit", "1 per minute", "1 per minute"),
    ],
)
def test_text_is_read_by_the_type_of_the_setting(kind: config.Kind, text: str, expected: Any) -> None:
    value = config.parse_text(config.Setting("X", None, "", kind=kind), text)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("MAX_BATCH_QUANTITY", "int"),
        ("CLONE_TRAVEL_KMH", "float"),
        ("STAMP_URL_PREFIXES", "list"),
        ("SECRET_KEY", "str"),  # None default: a text that may be absent
        ("DATABASE_URL", "str"),  # computed from the instance folder
        ("RATELIMIT_VERIFY", "limit"),
    ],
)
def test_a_settings_type_is_its_defaults(name: str, kind: str) -> None:
    assert config.SETTING[name].type == kind
    assert config.Setting("X", False, "").type == "bool"


def test_every_default_reads_back_from_its_environment_text(tmp_path: Path) -> None:
    plain = [s for s in config.SETTINGS if s.default is not None and not callable(s.default)]
    environ = {
        config.environment_name(s.name): ",".join(s.default) if isinstance(s.default, list) else str(s.default)
        for s in plain
    }
    environ["STAMP_URL_PREFIXES"] = "https://old.ocop.vn"  # an empty variable would count as unset
    read = config.read_environment(environ)
    assert read.pop("STAMP_URL_PREFIXES") == ["https://old.ocop.vn"]
    assert read == {s.name: s.default for s in plain if s.name != "STAMP_URL_PREFIXES"}


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("MAX_BATCH_QUANTITY", "lots", "MAX_BATCH_QUANTITY must be a whole number, got 'lots'"),
        ("MAX_BATCH_QUANTITY", "5.5", "MAX_BATCH_QUANTITY must be a whole number, got '5.5'"),
        ("CLONE_TRAVEL_KMH", "fast", "CLONE_TRAVEL_KMH must be a number, got 'fast'"),
        ("CLONE_TRAVEL_KMH", "nan", "CLONE_TRAVEL_KMH must be a number, got 'nan'"),
        ("PRINT_WORKERS", "0", "PRINT_WORKERS must be at least 1, got 0"),
        ("PROXY_HOPS", "-1", "PROXY_HOPS must be at least 0, got -1"),
        ("RATELIMIT_VERIFY", "30 per minit", "RATELIMIT_VERIFY must be rate limits such as"),
        ("LOGIN_RATE_LIMIT", "twenty a minute", "LOGIN_RATE_LIMIT must be rate limits such as"),
        ("STAMP_URL_PREFIXES", "ftp://old.ocop.vn", "PUBLIC_BASE_URL must be an http(s) URL"),
        ("PRINT_FONT", "/nowhere/font.ttf", "PRINT_FONT names '/nowhere/font.ttf', which is not a file"),
        ("TRACEABILITY_ENV", "staging", "TRACEABILITY_ENV must be development, testing or production"),
    ],
)
def test_a_bad_environment_value_names_the_setting(tmp_path: Path, name: str, text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        config.load(str(tmp_path), environ={name: text})


def test_a_bad_yes_or_no_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=re.escape("X must be true or false (also 1/0, yes/no), got 'si'")):
        config.parse_text(config.Setting("X", False, ""), "si")


def test_the_instance_file_is_read_with_its_types(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        'MAX_BATCH_QUANTITY = 5_000\nCLONE_TRAVEL_KMH = 450\nRATELIMIT_VERIFY = "1 per minute"\n'
        'STAMP_URL_PREFIXES = ["HTTPS://Old.ocop.vn/"]\nKEYS_PASSPHRASE = "correct horse"\n',
        encoding="utf-8",
    )
    loaded = config.load(str(tmp_path), environ={})
    assert loaded["MAX_BATCH_QUANTITY"] == 5_000 and loaded["CLONE_TRAVEL_KMH"] == 450.0
    assert loaded["RATELIMIT_VERIFY"] == "1 per minute" and loaded["KEYS_PASSPHRASE"] == "correct horse"
    assert loaded["STAMP_URL_PREFIXES"] == ["HTTPS://Old.ocop.vn/"]


def test_traceability_config_moves_the_file(tmp_path: Path) -> None:
    moved = tmp_path / "etc" / "ocop.toml"
    moved.parent.mkdir()
    moved.write_text("PRINT_WORKERS = 6\n", encoding="utf-8")
    (tmp_path / "config.toml").write_text("PRINT_WORKERS = 3\n", encoding="utf-8")
    assert config.load(str(tmp_path), environ={"TRACEABILITY_CONFIG": str(moved)})["PRINT_WORKERS"] == 6
    with pytest.raises(ConfigurationError, match=r"TRACEABILITY_CONFIG names .*missing\.toml', which is not a file"):
        config.load(str(tmp_path), environ={"TRACEABILITY_CONFIG": str(tmp_path / "missing.toml")})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("MAX_BATCH_QUANTITIY = 5", "MAX_BATCH_QUANTITIY (did you mean MAX_BATCH_QUANTITY?)"),
        ("max_batch_quantity = 5", "max_batch_quantity (did you mean MAX_BATCH_QUANTITY?)"),
        ('TRACEABILITY_ENV = "production"', "TRACEABILITY_ENV (did you mean ENV?)"),
        ('LANGUAGES = ["vi"]', "LANGUAGES (fixed: not a setting)"),
        ("COLOUR = 3", "unknown settings (see README, Configuration): COLOUR"),
    ],
)
def test_an_unknown_file_key_is_refused(tmp_path: Path, line: str, message: str) -> None:
    (tmp_path / "config.toml").write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        config.load(str(tmp_path), environ={})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('MAX_BATCH_QUANTITY = "5"', "MAX_BATCH_QUANTITY must be a whole number, got '5'"),
        ("MAX_BATCH_QUANTITY = true", "MAX_BATCH_QUANTITY must be a whole number, got True"),
        ("MAX_BATCH_QUANTITY = 0", "MAX_BATCH_QUANTITY must be at least 1, got 0"),
        ('STAMP_URL_PREFIXES = "https://a.vn"', "STAMP_URL_PREFIXES must be a list of text"),
        ("SECRET_KEY = 5", "SECRET_KEY must be text, got 5"),
        ('RATELIMIT_REPORT = "3 per fortnight"', "RATELIMIT_REPORT must be rate limits such as"),
        ("PRINT_WORKERS = ", "is not valid TOML"),
    ],
)
def test_a_mistyped_file_value_is_refused(tmp_path: Path, line: str, message: str) -> None:
    (tmp_path / "config.toml").write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        config.load(str(tmp_path), environ={})


def test_precedence_defaults_file_environment_mapping(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        "PRINT_WORKERS = 3\nSESSION_MAX_HOURS = 8\nLOGIN_MAX_FAILURES = 7\n", encoding="utf-8"
    )
    environ = {"SESSION_MAX_HOURS": "4", "LOGIN_MAX_FAILURES": "6", "MAX_BATCH_QUANTITY": ""}
    loaded = config.load(str(tmp_path), {"LOGIN_MAX_FAILURES": 9}, environ=environ)
    assert (loaded["PRINT_WORKERS"], loaded["SESSION_MAX_HOURS"], loaded["LOGIN_MAX_FAILURES"]) == (3, 4, 9)
    assert loaded["MAX_BATCH_QUANTITY"] == 100_000  # an empty variable counts as unset


def test_a_mapping_may_spell_numbers_and_lists_as_text(tmp_path: Path) -> None:
    loaded = config.load(str(tmp_path), {"PROXY_HOPS": "1", "STAMP_URL_PREFIXES": "https://a.vn, https://b.vn"}, {})
    assert (loaded["PROXY_HOPS"], loaded["STAMP_URL_PREFIXES"]) == (1, ["https://a.vn", "https://b.vn"])


def test_production_checks_see_the_file_and_the_environment_together(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        'ENV = "production"\nPUBLIC_BASE_URL = "https://ocop.gov.vn"\n', encoding="utf-8"
    )
    environ = {"SECRET_KEY": "s" * 40, "QUEUE_URL": "redis://127.0.0.1:6379/1"}
    with pytest.raises(ConfigurationError, match="RATELIMIT_STORAGE_URI must be a shared store"):
        config.load(str(tmp_path), environ=environ)
    loaded = config.load(str(tmp_path), environ={**environ, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379"})
    assert loaded["ENV"] == "production" and loaded["SESSION_COOKIE_SECURE"] is True


# --- End to end: a setting changed outside the code changes what the service does. ---


@pytest.fixture
def make_app(app_config: dict[str, Any], database_url: str) -> Iterator[Callable[..., Flask]]:
    """Return a factory of apps built after the test has set the environment, all torn down afterwards."""
    from tests.conftest import _wipe
    from traceability.printing import jobs

    made: list[Flask] = []

    def make(**settings: Any) -> Flask:
        made.append(create_app({**app_config, **settings}))
        return made[-1]

    yield make
    for application in made:
        jobs.runner(application).shutdown(wait=True)
        application.extensions["db_engine"].dispose()
    _wipe(database_url)


def _two_lookups(application: Flask) -> list[int]:
    client = application.test_client()
    return [client.get("/v/1").status_code for _ in range(2)]


def test_a_rate_limit_from_the_environment_applies(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATELIMIT_VERIFY", "1 per minute")
    assert _two_lookups(make_app(RATELIMIT_ENABLED=True)) == [200, 429]


def test_a_rate_limit_from_the_instance_file_applies(
    make_app: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "ocop.toml").write_text('RATELIMIT_VERIFY = "1 per minute"\n', encoding="utf-8")
    monkeypatch.setenv("TRACEABILITY_CONFIG", str(tmp_path / "ocop.toml"))
    assert _two_lookups(make_app(RATELIMIT_ENABLED=True)) == [200, 429]


def test_the_default_rate_limit_allows_a_second_lookup(make_app: Any) -> None:
    assert _two_lookups(make_app(RATELIMIT_ENABLED=True)) == [200, 200]


def test_max_batch_quantity_from_the_environment_refuses_a_larger_batch(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import Factory
    from traceability.db import get_session

    monkeypatch.setenv("MAX_BATCH_QUANTITY", "5")
    application = make_app()
    with application.app_context():
        product = Factory(get_session()).product()
    result = application.test_cli_runner().invoke(args=["batch", "issue", "--product", product.code, "--quantity", "6"])
    assert result.exit_code != 0
    assert "quantity 6 is above the limit of 5 a batch" in result.output
