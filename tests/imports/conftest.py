"""Import tests run through HTTP and the command on SQLite and PostgreSQL, at the tests' fixed date."""

from __future__ import annotations

import pytest

from mercato.clock import FixedClock
from support.imports import START
from support.shop import shop as shop
from support.shop import world as world


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)
