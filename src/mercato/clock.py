"""Time as a swappable edge: the one place that reads the system clock.

Services are handed a ``Clock`` (or the date and time it gave) through ``mercato.services.Services``; tests and
demos swap in a ``FixedClock`` to move through quote validity, refund windows, grace periods and dunning. A lint
rule (ruff's banned-api) refuses ``date.today()`` and ``datetime.now()`` everywhere else.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def today(self) -> date: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().date()


class FixedClock:
    """A clock that only moves when told to (tests, demos of expiry and refund windows)."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return self._now.date()

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)


def utcnow() -> datetime:
    """Wall-clock time for row timestamps that record when a row was written (``created_at`` defaults).
    Rules never read it: they take their time from the ``Clock`` they are handed."""
    return datetime.now(UTC)


def noon_of(day: date) -> datetime:
    """A moment on ``day`` for commands run "as of" a date (``--today``): midday UTC."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
