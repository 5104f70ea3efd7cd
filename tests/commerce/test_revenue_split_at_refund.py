"""A refund reverses the revenue split of the sale, at the rate in force on the day of the sale, even when the
operator has changed the rate since."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from mercato.catalog.models import RevenueShareRate
from mercato.clock import FixedClock
from support.world import World

from .test_seed_scenarios import MOCKUPS, SSO, buy, license_detail


def test_a_refund_reverses_the_split_at_the_sales_rate_after_the_rate_changed(
    shop: TestClient, world: World, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    sale = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    [line] = sale["lines"]
    assert line["revenue_split"] == {
        "vendor_share_rate": "0.7500",
        "vendor_amount": "825.00",
        "operator_amount": "275.00",
    }
    with session_factory() as session, session.begin():
        session.add(
            RevenueShareRate(hosting="server", effective_from=date(2026, 12, 1), vendor_share=Decimal("0.60"))
        )
    clock.advance(days=10)  # 2026-12-06: server sales now pay vendors 60%
    later_sale = buy(shop, world, [{"action": "new", "product_key": SSO, "tier": "100"}])
    assert later_sale["lines"][0]["revenue_split"] == {
        "vendor_share_rate": "0.6000",
        "vendor_amount": "1140.00",
        "operator_amount": "760.00",
    }

    refunded = shop.post(
        f"/api/v1/invoices/{sale['id']}/lines/{line['id']}/refund",
        json={"reason": "bought by mistake"},
        headers=world.auth("operator"),
    )

    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["lines"][0]["revenue_split"] == line["revenue_split"]
    sold, refund = license_detail(shop, world, line["license"])["history"]
    assert (sold["kind"], sold["vendor_amount"], sold["operator_amount"]) == ("new", "825.00", "275.00")
    assert (refund["kind"], refund["amount"], refund["vendor_amount"], refund["operator_amount"]) == (
        "refund",
        "-1100.00",
        "-825.00",
        "-275.00",
    )
