"""How pages write times, dates, numbers and stamp numbers for a person: Vietnam time, the reader's language.

Times are stored in UTC (naive or aware); Flask-Babel moves them to BABEL_DEFAULT_TIMEZONE (Asia/Ho_Chi_Minh)
before writing them. Dates follow the Vietnamese convention in both languages (02/10/2027, as the public pages
and the printed stamps write them: Babel's short English form 10/2/27 would be read the other way round here);
numbers follow the language (25,00 ha in Vietnamese, 25.00 ha in English).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal

DATE_PATTERN = "dd/MM/yyyy"
DATETIME_PATTERN = "HH:mm dd/MM/yyyy"
PRECISE_PATTERN = "HH:mm:ss dd/MM/yyyy"


def _as_datetime(value: datetime | str) -> datetime:
    # Signed documents (the revocation bundle) carry RFC 3339 text: "2027-10-02T06:23:00Z".
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def local_datetime(value: datetime | str | None, seconds: bool = False) -> str:
    """Write a UTC time as Vietnam time, 13:23 02/10/2027 (with seconds for the audit log); None as ''."""
    if value is None or value == "":
        return ""
    return str(format_datetime(_as_datetime(value), PRECISE_PATTERN if seconds else DATETIME_PATTERN))


def local_date(value: date | datetime | str | None) -> str:
    """Write a date as 02/10/2027 (a time first becomes Vietnam time, so its day is Vietnam's); None as ''."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = _as_datetime(value) if "T" in value else date.fromisoformat(value)
    return str(format_date(value, DATE_PATTERN))


def decimal(value: Decimal | float | int | None, places: int = 2) -> str:
    """Write a decimal in the reader's language with fixed places: 25,00 (vi), 1,234.50 (en); None as ''."""
    if value is None:
        return ""
    return str(format_decimal(value, format="#,##0." + "0" * places if places else "#,##0"))


def stamp_label(sequence: int) -> int:
    """Return a stored stamp number (0-based, as in the serial) as people count it, from 1."""
    return sequence + 1


def init_app(app: Flask) -> None:
    """Register the filters: {{ at|datetime }}, {{ day|date }}, {{ size|decimal }}, {{ seq|stamp }}."""
    app.jinja_env.filters["datetime"] = local_datetime
    app.jinja_env.filters["date"] = local_date
    app.jinja_env.filters["decimal"] = decimal
    app.jinja_env.filters["stamp"] = stamp_label
