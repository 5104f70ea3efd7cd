"""Calendar arithmetic for maintenance periods and billing cycles."""

from __future__ import annotations

import calendar
from datetime import date


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later (or earlier), clamped to the month's last day.

    2026-01-31 + 1 month is 2026-02-28; 2024-02-29 + 12 months is 2025-02-28. Multi-year periods are
    computed with one call from their start, never by chaining, so a period does not drift day by day.
    """
    month_index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last_day))


def days_between(start: date, end: date) -> int:
    """Calendar days from ``start`` to ``end`` (``end`` excluded), negative when ``end`` comes first."""
    return (end - start).days
