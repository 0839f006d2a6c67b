"""RATELIMIT_ENABLED: a documented setting, on by default, off from the environment, never off in production."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.conftest import _wipe
from traceability import config, create_app
from traceability.errors import ConfigurationError

PRODUCTION = {
    "ENV": "production",
    "SECRET_KEY": "s" * 40,
    "PUBLIC_BASE_URL": "https://ocop.gov.vn",
    "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/4",
    "QUEUE_URL": "redis://127.0.0.1:6379/1",
}


def test_rate_limits_are_on_by_default() -> None:
    assert config.load("/tmp", environ={})["RATELIMIT_ENABLED"] is True


@pytest.mark.parametrize(("text", "value"), [("false", False), ("0", False), ("true", True)])
def test_the_environment_turns_rate_limits_off_or_on(text: str, value: bool) -> None:
    assert config.load("/tmp", environ={"RATELIMIT_ENABLED": text})["RATELIMIT_ENABLED"] is value


def test_production_refuses_to_run_without_rate_limits() -> None:
    assert config.load("/tmp", PRODUCTION, environ={})["RATELIMIT_ENABLED"] is True
    with pytest.raises(ConfigurationError, match="RATELIMIT_ENABLED must stay true in production"):
        config.load("/tmp", PRODUCTION, environ={"RATELIMIT_ENABLED": "false"})


@pytest.fixture
def limited_app(app_config: dict[str, Any], database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Build apps with the tests' configuration minus their RATELIMIT_ENABLED, so the environment decides."""
    from traceability.printing import jobs

    made: list[Flask] = []
    settings = {name: value for name, value in app_config.items() if name != "RATELIMIT_ENABLED"}

    def make(enabled: str) -> Flask:
        monkeypatch.setenv("RATELIMIT_ENABLED", enabled)
        monkeypatch.setenv("RATELIMIT_VERIFY", "1 per minute")
        made.append(create_app(settings))
        return made[-1]

    yield make
    for application in made:
        jobs.runner(application).shutdown(wait=True)
        application.extensions["db_engine"].dispose()
    _wipe(database_url)


@pytest.mark.parametrize(("enabled", "statuses"), [("true", [200, 429]), ("false", [200, 200])])
def test_the_setting_decides_whether_a_second_lookup_is_limited(
    limited_app: Any, enabled: str, statuses: list[int]
) -> None:
    client = limited_app(enabled).test_client()
    assert [client.get("/v/1").status_code for _ in range(2)] == statuses
