"""The service's idea of 'today': the calendar day in Vietnam, where certificates are dated."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def today() -> date:
    """Return today's date in Vietnam."""
    return datetime.now(VIETNAM).date()
