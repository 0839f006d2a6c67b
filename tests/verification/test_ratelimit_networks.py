"""Rate limits count IPv6 clients by /64 network and IPv4 clients by address."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from traceability import create_app
from traceability.web import client_key


@pytest.fixture
def limited_app(app_config: dict[str, Any], database_url: str) -> Iterator[Flask]:
    from tests.conftest import _wipe

    application = create_app({**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_SERIAL": "3 per minute"})
    yield application
    application.extensions["db_engine"].dispose()
    _wipe(database_url)


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:0:0:0:7", "2001:db8:1:2::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("::1", "::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("192.0.2.7", "192.0.2.7"),
        ("127.0.0.1", "127.0.0.1"),
        ("not an address", "not an address"),
    ],
)
def test_the_key_of_a_client(app: Flask, address: str, key: str) -> None:
    with app.test_request_context(environ_base={"REMOTE_ADDR": address}):
        assert client_key() == key


def test_ipv6_addresses_in_one_64_share_a_budget(limited_app: Flask) -> None:
    client = limited_app.test_client()
    statuses = [
        client.get(
            "/serial", query_string={"s": f"1-{n:05d}-ABCDE"}, environ_base={"REMOTE_ADDR": f"2001:db8:0:7::{n + 1:x}"}
        ).status_code
        for n in range(5)
    ]
    assert statuses == [404, 404, 404, 429, 429]
    elsewhere = client.get(
        "/serial", query_string={"s": "1-00001-ABCDE"}, environ_base={"REMOTE_ADDR": "2001:db8:0:8::1"}
    )
    assert elsewhere.status_code == 404  # the next /64 is another subscriber


def test_ipv4_addresses_keep_their_own_budget(limited_app: Flask) -> None:
    client = limited_app.test_client()
    for n in range(1, 6):
        for _ in range(3):
            response = client.get(
                "/serial", query_string={"s": "1-00001-ABCDE"}, environ_base={"REMOTE_ADDR": f"192.0.2.{n}"}
            )
            assert response.status_code == 404
    over = client.get("/serial", query_string={"s": "1-00001-ABCDE"}, environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert over.status_code == 429
