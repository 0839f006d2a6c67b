"""An id in any URL beyond what the database holds is a 404, never a 500."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from flask import Flask
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, Rule

from traceability.stamps import batches
from traceability.stamps.batches import BatchOptions

HUGE = [
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999",
    "0",
    "-1",
    "+1",
    "1.0",
    "１",
    "²",
]


def id_routes(app: Flask) -> list[Rule]:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if any(isinstance(c, IntegerConverter) for c in rule._converters.values())
    ]


def test_the_walk_finds_the_id_routes(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in id_routes(app)}
    assert {"portal.batch", "office.batch", "office_analytics.batch", "office_analytics.report_photo"} <= endpoints


@pytest.mark.parametrize("value", HUGE)
def test_every_id_route_refuses_ids_out_of_range(app: Flask, value: str) -> None:
    adapter = app.url_map.bind("ocop.example.vn")
    for rule in id_routes(app):
        converters = rule._converters

        def fill(match: re.Match[str], converters: dict[str, Any] = converters) -> str:
            return value if isinstance(converters[match.group(1)], IntegerConverter) else "csv"

        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", fill, rule.rule)
        method = sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        with pytest.raises(NotFound):
            adapter.match(path, method=method)


def test_the_largest_id_still_routes(app: Flask) -> None:
    adapter = app.url_map.bind("ocop.example.vn")
    _endpoint, values = adapter.match("/portal/batches/2147483647")
    assert values == {"batch_id": 2**31 - 1}


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("producer", "/portal/batches/99999999999999999999"),
        ("producer", "/portal/batches/9223372036854775807"),
        ("producer", "/portal/batches/2147483647"),
        ("administrator", "/office/batches/99999999999999999999"),
        ("administrator", "/office/analytics/batches/99999999999999999999"),
        ("administrator", "/office/reports/99999999999999999999/photo"),
        ("administrator", "/office/reports/9223372036854775807/photo"),
        ("administrator", "/office/reports/2147483647/photo"),
    ],
)
def test_huge_ids_answer_404_over_http(
    auth: Any, client: Any, factory: Any, session: Any, role: str, path: str
) -> None:
    producer = factory.producer() if role == "producer" else None
    product = factory.product(producer=producer) if producer is not None else None
    if product is not None:
        batches.new_request(session, product, 5, BatchOptions(), actor="t", maximum=100, today=date.today())
        session.commit()
    user = auth.user(role, producer=producer)
    auth.login(user.email)
    assert client.get(path).status_code == 404
