"""Public endpoints are rate-limited per client, so the page cannot be used to walk the registry."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from traceability import create_app


@pytest.fixture
def limited_app(app_config: dict[str, Any], database_url: str) -> Iterator[Flask]:
    """Return an app with rate limiting on (the suite's default app has it off), emptied afterwards."""
    from tests.conftest import _wipe

    application = create_app({**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_SERIAL": "3 per minute"})
    yield application
    application.extensions["db_engine"].dispose()
    _wipe(database_url)


def test_serial_guessing_is_limited_per_client(limited_app: Flask) -> None:
    client = limited_app.test_client()
    statuses = [client.get("/serial", query_string={"s": f"1-{n:05d}-ABCDE"}).status_code for n in range(4)]
    assert statuses == [404, 404, 404, 429]
    page = client.get("/serial", query_string={"s": "1-00009-ABCDE"}, headers={"Accept-Language": "en"})
    assert page.status_code == 429 and "Too many checks" in page.get_data(as_text=True)
    other = client.get("/serial", query_string={"s": "1-00001-ABCDE"}, environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert other.status_code == 404  # another client has its own budget


def test_page_and_api_share_one_budget(limited_app: Flask) -> None:
    limited_app.config["RATELIMIT_VERIFY"] = "4 per minute"
    client = limited_app.test_client()
    statuses = [client.get("/v/1").status_code for _ in range(2)]
    statuses += [client.get("/api/v1/verify", query_string={"code": "1"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 200, 200, 429]
    limited = client.get("/api/v1/verify", query_string={"code": "1"})
    assert limited.is_json and limited.get_json()["message"]
    assert "Retry-After" in limited.headers


def test_telling_a_province_has_its_own_budget(limited_app: Flask) -> None:
    limited_app.config["RATELIMIT_PLACE"] = "4 per hour"
    client = limited_app.test_client()
    page = client.get("/v/1").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match is not None
    token = match.group(1)
    place = {"csrf_token": token, "ref": "expired", "code": "1", "province": "79"}
    assert [client.post("/place", data=place).status_code for _ in range(5)] == [422, 422, 422, 422, 429]
    report = {"csrf_token": token, "code": "1", "kind": "token", "shop_name": "Shop", "place": "Market"}
    assert client.post("/report", data=report).status_code == 201
