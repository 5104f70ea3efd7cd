"""Opening a direct store from several requests at once makes one key ring with one key and one invoice series.

The race needs real commits from several connections, so the test builds its own database by migration, on
SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from mercato.catalog.vendors import VendorProfile, VendorService
from mercato.clock import FixedClock
from mercato.commerce.models import InvoiceSeries
from mercato.database import make_engine, make_session_factory, transaction
from mercato.keys.models import SigningKey
from mercato.migrations import upgrade_to_head

RACERS = 6
CLOCK = FixedClock(datetime(2026, 11, 26, 12, tzinfo=UTC))


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_racing_requests_open_the_direct_store_once(
    backend: str, fresh_database_url: Callable[[str], str]
) -> None:
    engine = make_engine(fresh_database_url(backend))
    upgrade_to_head(engine)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        VendorService(session, "test-secret-key", CLOCK).create(
            "racers", VendorProfile("Racers", "r@racers.example"), members=["r@racers.example"]
        )
    start = threading.Barrier(RACERS)

    def racer() -> str | None:
        start.wait()
        with transaction(factory) as session:
            service = VendorService(session, "test-secret-key", CLOCK)
            return service.set_direct_store(service.vendor("racers"), True).signing_kid

    with ThreadPoolExecutor(RACERS) as pool:
        kids = [future.result(timeout=60) for future in [pool.submit(racer) for _ in range(RACERS)]]
    with factory() as session:
        keys = session.scalar(select(func.count()).where(SigningKey.issuer == "vendor:racers"))
        series = session.scalar(select(func.count()).where(InvoiceSeries.seller == "vendor:racers"))
    engine.dispose()
    assert len(set(kids)) == 1 and None not in kids
    assert (keys, series) == (1, 1)
