"""Commerce tests run through HTTP on SQLite and PostgreSQL, at a fixed date that tests can move."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mercato.clock import FixedClock
from support.shop import shop as shop
from support.shop import world as world

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)
