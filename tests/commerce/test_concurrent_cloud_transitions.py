"""Eight cloud transitions of the same offering at once, through a real server on SQLite and PostgreSQL: each
direct cloud customer gets exactly one migration invoice, and there is one transition row."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from mercato.clock import SystemClock
from mercato.cloud_transitions.models import CloudTransition
from mercato.commerce.models import LineAction, QuoteLine
from mercato.database import make_session_factory
from mercato.pricing import add_months

from .test_cloud_transition import MOCKUPS, direct_cloud_customer
from .test_concurrent_accepts import LiveShop, live_shop

__all__ = ["live_shop"]


def test_concurrent_transitions_invoice_each_customer_once(live_shop: LiveShop) -> None:
    world, factory = live_shop.world, make_session_factory(live_shop.engine)
    # The server runs on the system's clock: a prepaid year around the day the test runs.
    start = SystemClock().today() - timedelta(days=100)
    for organisation, site in (("acme", "acme-direct.wiki.example"), ("globex", "globex.wiki.example")):
        direct_cloud_customer(
            factory,
            world,
            organisation=organisation,
            site=site,
            users=40,
            cycle="annual",
            start=start,
            end=add_months(start, 12),
            prepaid="600.00",
        )
    url = f"{live_shop.base_url}/api/v1/vendors/example-mockups/cloud-transitions"

    def run(attempt: int) -> httpx.Response:
        body = {"from_app": MOCKUPS, "to_app": MOCKUPS}
        return httpx.post(url, json=body, headers=world.auth("mockups_vendor"), timeout=60)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(run, range(8)))
    assert [answer.status_code for answer in answers] == [200] * 8, [
        a.text for a in answers if a.status_code != 200
    ]
    made = [move for answer in answers for move in answer.json()["licenses"] if move["state"] == "invoiced"]
    assert len(made) == 2 and len({move["entitlement_number"] for move in made}) == 2
    with factory() as session:
        lines = session.scalar(
            select(func.count()).select_from(QuoteLine).where(QuoteLine.action == LineAction.MIGRATION)
        )
        assert lines == 2
        transition = session.scalars(select(CloudTransition)).one()
        assert (transition.runs, transition.invoiced) == (8, 2)
