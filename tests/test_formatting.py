"""What a person reads: Vietnam time, dd/mm/yyyy dates, numbers in the reader's language, stamps from 1."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale

from traceability import formatting


@pytest.fixture
def plain_app() -> Flask:
    """Return a bare app with the project's Babel settings (no database needed to format)."""
    from traceability.web import babel

    app = Flask(__name__)
    app.config.update(BABEL_DEFAULT_LOCALE="vi", BABEL_DEFAULT_TIMEZONE="Asia/Ho_Chi_Minh")
    babel.init_app(app)
    return app


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2027, 10, 2, 6, 23), "13:23 02/10/2027"),  # stored naive: UTC
        (datetime(2027, 10, 2, 6, 23, tzinfo=UTC), "13:23 02/10/2027"),
        (datetime(2027, 10, 2, 20, 5), "03:05 03/10/2027"),  # the evening in UTC is the next day in Vietnam
        ("2027-10-02T06:23:00Z", "13:23 02/10/2027"),  # signed documents carry RFC 3339 text
        (None, ""),
    ],
)
def test_times_are_vietnam_time(plain_app: Flask, value: Any, expected: str) -> None:
    with plain_app.test_request_context():
        assert formatting.local_datetime(value) == expected


def test_the_audit_log_keeps_seconds(plain_app: Flask) -> None:
    with plain_app.test_request_context():
        assert formatting.local_datetime(datetime(2027, 10, 2, 6, 23, 9), seconds=True) == "13:23:09 02/10/2027"


@pytest.mark.parametrize("language", ["vi", "en"])
def test_dates_read_day_first_in_both_languages(plain_app: Flask, language: str) -> None:
    with plain_app.test_request_context(), force_locale(language):
        assert formatting.local_date(date(2027, 10, 2)) == "02/10/2027"
        assert formatting.local_date("2027-10-02") == "02/10/2027"
        assert formatting.local_date(None) == ""


@pytest.mark.parametrize(
    ("language", "value", "expected"),
    [("vi", Decimal("25"), "25,00"), ("en", Decimal("25"), "25.00"), ("vi", 1234.5, "1.234,50"), ("en", None, "")],
)
def test_decimals_follow_the_language(plain_app: Flask, language: str, value: Any, expected: str) -> None:
    with plain_app.test_request_context(), force_locale(language):
        assert formatting.decimal(value) == expected


def test_stamps_are_counted_from_one() -> None:
    assert formatting.stamp_label(0) == 1 and formatting.stamp_label(199) == 200


def test_pages_use_the_filters(client: Any, english: None) -> None:
    """Every template that writes a time, date or number goes through these filters, never strftime."""
    from traceability.config import PROJECT_ROOT

    raw = [
        f"{path.relative_to(PROJECT_ROOT)}: {marker}"
        for path in (PROJECT_ROOT / "templates").rglob("*.html")
        for marker in ("strftime", ".isoformat()", "size_ha|string", "%.2f", " UTC")
        if marker in path.read_text(encoding="utf-8")
    ]
    assert not raw, raw
