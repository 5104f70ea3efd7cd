"""How many SQL statements a billing run costs, counted with an engine event. Due work is found by indexed
queries and done in batches, so a run's statements do not grow with its due items (the scale benchmark,
``benchmarks/billing_scale.py``, shows the time per item staying flat too). docs/performance.md has the
figures."""

from __future__ import annotations

import collections
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from commerce.test_seed_scenarios import MOCKUPS, buy
from mercato.accounts.models import HostInstance
from mercato.billing.service import BillingReport, BillingRun
from mercato.clock import FixedClock
from mercato.database import new_id
from mercato.licenses.models import License, LicenseState
from mercato.services import Services
from support.licenses import SECRET
from support.statements import counted
from support.world import World

RUN_DAY = date(2026, 12, 10)  # the cloud site's billing date
PER_DUE_ITEM_AT_MOST = 4
"""The bound on a run's statements per due item (measured: see the figures in docs/performance.md)."""
ROW_BY_ROW_ON_SQLITE = (
    "INSERT INTO license_transactions",
    "INSERT INTO quote_lines",
    "INSERT INTO invoice_lines",
)


def _copy(row: Any, **changes: Any) -> Any:
    """A new row of the same model with the same columns, but a new id and ``changes``."""
    columns = {attr.key: getattr(row, attr.key) for attr in inspect(type(row)).column_attrs}
    return type(row)(**(columns | {"id": new_id()} | changes))


def seed_due_work(session: Session, world: World, model: dict[str, License], copies: int, tag: str) -> int:
    """``copies`` of each kind of due work, cloned from licenses bought through the API: cloud sites renewing
    today with their subscription, ended evaluations, and server licenses whose maintenance ended. Returns how
    many items are due."""
    site = session.get(HostInstance, world.wiki_cloud.id)
    assert site is not None
    for n in range(copies):
        copy = _copy(site, server_id=f"copy{tag}{n}.acme-test.wiki.example", next_billing_date=RUN_DAY)
        session.add(copy)
        session.flush()
        cloud = {"host_instance_id": copy.id, "host_binding": copy.server_id, "term_end": RUN_DAY}
        session.add(_copy(model["cloud"], entitlement_number=f"SEN-C{tag}{n:05d}", **cloud))
        session.add(
            _copy(model["evaluation"], entitlement_number=f"SEN-E{tag}{n:05d}", status=LicenseState.ACTIVE)
        )
        session.add(
            _copy(
                model["server"], entitlement_number=f"SEN-S{tag}{n:05d}", maintenance_lapse_recorded_for=None
            )
        )
    return 3 * copies


def run_day(session_factory: sessionmaker[Session]) -> BillingReport:
    services = Services(secret_key=SECRET, clock=FixedClock(datetime(2026, 12, 10, 12, tzinfo=UTC)))
    with session_factory() as session, session.begin():
        billing = BillingRun(session, services)
        report = billing.renew_all_due(24)
        report.merge(billing.sweep_licenses())
    return report


@pytest.fixture
def models(shop: TestClient, world: World, session_factory: sessionmaker[Session]) -> dict[str, str]:
    """One of each kind of due license bought through the API, then dated due on the run day."""
    cloud = buy(shop, world, [{"action": "new", "product_key": MOCKUPS}], instance="wiki_cloud")
    evaluation = buy(shop, world, [{"action": "evaluation", "product_key": "com.gatekeeper.sso.wiki"}])
    server = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    numbers = {
        "cloud": cloud["lines"][0]["license"],
        "evaluation": evaluation["lines"][0]["license"],
        "server": server["lines"][0]["license"],
    }
    with session_factory() as session, session.begin():
        for kind, number in numbers.items():
            license = session.query(License).filter_by(entitlement_number=number).one()
            if kind == "evaluation":
                license.term_end = RUN_DAY - timedelta(days=1)
            if kind == "server":
                license.maintenance_end = RUN_DAY - timedelta(days=1)
    return numbers


def test_a_billing_run_costs_no_more_statements_for_more_due_items(
    world: World, models: dict[str, str], engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session, session.begin():
        licenses = {
            kind: session.query(License).filter_by(entitlement_number=number).one()
            for kind, number in models.items()
        }
        few = seed_due_work(session, world, licenses, 3, "A")
    with counted(engine) as first:
        report = run_day(session_factory)
    assert (
        len(report.renewal_invoices) == 4 and len(report.expired) == 4 and len(report.maintenance_lapsed) == 4
    )
    with session_factory() as session, session.begin():
        many = seed_due_work(session, world, licenses, 30, "B")
    with counted(engine) as second:
        report = run_day(session_factory)
    assert len(report.renewal_invoices) == 30 and len(report.expired) == 30
    assert len(report.maintenance_lapsed) == 30
    print(f"\n{few + 3} due items: {len(first)} statements; {many} due items: {len(second)} statements")
    assert len(second) / many <= PER_DUE_ITEM_AT_MOST
    # Ten times the work, no more statements: every batch reads once and writes one statement per table. On
    # SQLite the rows of tables with integer ids are inserted one by one (SQLAlchemy batches them only where
    # the database returns the new ids in order), which is why the bound per item is what holds there.
    one_by_one = ROW_BY_ROW_ON_SQLITE if engine.dialect.name == "sqlite" else ()
    repeated = [
        sql for sql, n in collections.Counter(second).items() if n > 2 and not sql.startswith(one_by_one)
    ]
    assert repeated == []
    if engine.dialect.name == "postgresql":
        assert len(second) <= len(first) + 3, second
    with counted(engine) as third:
        assert run_day(session_factory) == BillingReport()  # nothing due any more: nothing done
    print(f"nothing due: {len(third)} statements")
    assert len(third) <= 8, third
