"""The scale benchmarks (benchmarks/scale_data.py, billing_scale.py, lists_scale.py) at 200 licenses, so that
they cannot rot: the generator's data is what the billing run finds due, and both benchmarks run to the end.
They need PostgreSQL (the generator writes with COPY)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from mercato.billing.service import BillingRun
from mercato.clock import FixedClock, noon_of
from mercato.database import make_engine, make_session_factory
from mercato.services import Services

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import billing_scale  # noqa: E402  (scripts beside the package, not a package)
import scale_data  # noqa: E402
from conftest import REQUIRE_POSTGRES  # noqa: E402

pytestmark = pytest.mark.postgres

LICENSES = 200


@pytest.fixture
def generated() -> Iterator[scale_data.ScaleData]:
    try:
        url, name = scale_data.create_database("mercato_test_scale")
    except OperationalError as error:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required (MERCATO_REQUIRE_POSTGRES=1) but unavailable: {error}")
        pytest.skip(f"PostgreSQL unavailable: {str(error).splitlines()[0]}")
    try:
        yield scale_data.prepare(url, LICENSES)
    finally:
        scale_data.drop_database(name)


def test_a_tenth_of_the_generated_licenses_is_due_and_both_benchmarks_run_to_the_end(
    generated: scale_data.ScaleData,
) -> None:
    """One database for all of it (migrating a second one would double the test's time): first what the
    billing run would do, rehearsed and rolled back; then the list benchmark; then the billing benchmark, whose
    run really bills the day."""
    assert generated.due_licenses == LICENSES // 10
    engine = make_engine(generated.url)
    try:
        assert len(billing_scale.due_licenses(engine)) == LICENSES // 10
        with make_session_factory(engine)() as session:
            session.begin()
            clock = FixedClock(noon_of(scale_data.DAY))
            report = BillingRun(session, Services(secret_key=scale_data.SECRET, clock=clock)).whole_day(24)
            renewed = session.scalar(
                text(
                    "SELECT count(*) FROM quote_lines JOIN quotes ON quotes.id = quote_lines.quote_id "
                    "WHERE quotes.priced_on = :day"
                ),
                {"day": scale_data.DAY},
            )
            session.rollback()
    finally:
        engine.dispose()
    assert renewed == generated.due["renewal"]
    assert len(report.renewal_invoices) == generated.due["renewal"] // 2  # two subscriptions a site
    assert len(report.suspended) == generated.due["suspension"]
    assert len(report.unlicensed) == generated.due["unlicensed"]
    assert len(report.expired) == generated.due["expiry"]
    assert len(report.maintenance_lapsed) == generated.due["lapse"]
    assert report.renewal_reminders == []  # nothing else is due: every other end is more than 90 days away

    lists = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "lists_scale.py"),
            "--url",
            generated.url,
            "--requests",
            "1",
            "--rounds",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert lists.returncode == 0, lists.stderr
    assert "licenses, deep page ?offset=" in lists.stdout
    billing = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "billing_scale.py"),
            "--url",
            generated.url,
            "--timeout",
            "120",
            "--floor-rounds",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert billing.returncode == 0, billing.stdout + billing.stderr
    assert "20 due on" in billing.stdout
    assert "changed nothing" in billing.stdout
