"""A scheduled price change through HTTP and the billing run: quotes keep the prices they were made at, cloud
renewals bill with the prices of their billing date, and the pricing preview shows what an item will cost
once the change takes effect."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commerce.conftest import START
from commerce.test_seed_scenarios import MOCKUPS, buy, quote
from mercato.billing.service import BillingRun
from mercato.clock import FixedClock
from mercato.commerce.models import Invoice
from mercato.services import Services
from support.prices import schedule
from support.secrets import COMMAND_SECRET
from support.world import World, add_second_wiki_server

TODAY = START.date()  # 2026-11-26
CLOUD_SITE_BILLS = date(2026, 12, 10)  # the world's cloud site: 40 users, monthly


def preview(shop: TestClient, items: list[dict[str, Any]], host: dict[str, Any]) -> Any:
    response = shop.post(
        "/api/v1/pricing/preview", json={"date": TODAY.isoformat(), "host": host, "items": items}
    )
    assert response.status_code == 200, response.text
    return response.json()


SERVER_HOST = {"product": "wiki", "hosting": "server", "user_tier": "100", "maintenance_end": "2027-06-30"}
CLOUD_HOST = {"product": "wiki", "hosting": "cloud", "users": 40, "billing_cycle": "monthly"}


def test_a_quote_keeps_the_price_it_was_made_at_and_a_new_quote_gets_the_new_one(
    shop: TestClient, world: World, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    item = {"action": "new", "product_key": MOCKUPS, "tier": "100"}
    made = quote(shop, world, [item])
    assert made.status_code == 201, made.text
    assert made.json()["total"] == "1100.00"
    schedule(session_factory, MOCKUPS, "server", TODAY + timedelta(days=5))  # twice the price

    clock.advance(days=10)  # the change took effect five days ago; the quote is valid for 30 days
    accepted = shop.post(f"/api/v1/quotes/{made.json()['id']}/accept", headers=world.auth("acme_admin"))
    assert accepted.status_code == 201, accepted.text
    invoice = accepted.json()["invoice"]
    assert invoice["total"] == "1100.00"
    assert [line["amount"] for line in invoice["lines"]] == ["1100.00"]

    with session_factory() as session, session.begin():
        add_second_wiki_server(session, world)  # the first host has the app now (licensed once per host)
    again = quote(shop, world, [item], instance="wiki_lab")
    assert again.status_code == 201, again.text
    assert again.json()["total"] == "2200.00"


@pytest.mark.parametrize(
    ("effective_from", "factor"),
    [(CLOUD_SITE_BILLS, 2), (CLOUD_SITE_BILLS + timedelta(days=1), 1)],
    ids=["change-on-the-billing-date", "change-the-day-after"],
)
def test_a_cloud_renewal_bills_with_the_prices_of_its_billing_date(
    shop: TestClient,
    world: World,
    session_factory: sessionmaker[Session],
    effective_from: date,
    factor: int,
) -> None:
    full_month_before = Decimal(
        preview(shop, [{"action": "cloud_subscription", "product_key": MOCKUPS}], CLOUD_HOST)["lines"][0][
            "amount"
        ]
    )
    assert full_month_before == Decimal("55.00")  # USD 10 for 10 users + 30 × USD 1.50
    buy(shop, world, [{"action": "new", "product_key": MOCKUPS}], instance="wiki_cloud")
    schedule(session_factory, MOCKUPS, "cloud", effective_from)

    services = Services(
        secret_key=COMMAND_SECRET,
        clock=FixedClock(datetime.combine(CLOUD_SITE_BILLS, datetime.min.time(), UTC).replace(hour=12)),
    )
    with session_factory() as session, session.begin():
        report = BillingRun(session, services).renew_due_site(world.wiki_cloud.id)
        assert report is not None and len(report.renewal_invoices) == 1
        renewal = session.scalars(select(Invoice).where(Invoice.number == report.renewal_invoices[0])).one()
        assert renewal.total_minor == int(full_month_before * factor * 100)


def test_the_preview_shows_what_an_item_costs_once_a_scheduled_change_takes_effect(
    shop: TestClient, session_factory: sessionmaker[Session]
) -> None:
    effective = TODAY + timedelta(days=40)
    schedule(session_factory, MOCKUPS, "server", effective)
    result = preview(
        shop,
        [
            {"action": "new", "product_key": MOCKUPS, "tier": "100"},
            {"action": "renewal", "product_key": MOCKUPS, "tier": "100", "maintenance_end": "2027-01-15"},
            {"action": "new", "product_key": "com.diagramly.diagrams.wiki", "tier": "100"},
        ],
        SERVER_HOST,
    )
    new, renewal, unchanged = result["lines"]
    assert (new["amount"], new["price_change"]) == (
        "1100.00",
        {"effective_from": effective.isoformat(), "amount_after": "2200.00"},
    )
    assert (renewal["amount"], renewal["price_change"]["amount_after"]) == ("550.00", "1100.00")
    assert unchanged["price_change"] is None  # nothing scheduled for this listing
    assert result["totals"] == [{"currency": "USD", "amount": "2600.00"}]  # today's prices only

    # Previewed on the day of the change, the new prices are the prices; nothing more is scheduled.
    on_the_day = shop.post(
        "/api/v1/pricing/preview",
        json={
            "date": effective.isoformat(),
            "host": SERVER_HOST,
            "items": [{"action": "new", "product_key": MOCKUPS, "tier": "100"}],
        },
    ).json()["lines"][0]
    assert (on_the_day["amount"], on_the_day["price_change"]) == ("2200.00", None)


def test_a_cloud_preview_prices_the_change_with_the_site_as_it_will_be_on_that_day(
    shop: TestClient, session_factory: sessionmaker[Session]
) -> None:
    effective = date(2027, 1, 10)
    schedule(session_factory, MOCKUPS, "cloud", effective)
    site = {**CLOUD_HOST, "next_billing_date": "2026-12-10"}
    line = preview(shop, [{"action": "cloud_subscription", "product_key": MOCKUPS}], site)["lines"][0]
    # Now: 14 of the current cycle's 30 days; on 2027-01-10 the site starts a new cycle: a full month at
    # the new prices.
    assert line["amount"] == str((Decimal("55.00") * 14 / 30).quantize(Decimal("0.01")))
    assert line["price_change"] == {"effective_from": "2027-01-10", "amount_after": "110.00"}


def test_the_preview_documents_the_price_change_with_an_example(shop: TestClient) -> None:
    schema = shop.get("/api/v1/openapi.json").json()["components"]["schemas"]
    line = schema["PricedLineOut"]["properties"]["price_change"]
    assert line["examples"] == [{"effective_from": "2027-01-01", "amount_after": "1320.00"}]
    assert set(schema["ComingPriceOut"]["properties"]) == {"effective_from", "amount_after"}


def test_a_listing_s_first_prices_are_no_change_even_before_they_took_effect(shop: TestClient) -> None:
    # The demo's prices took effect on 2025-01-01; a day before that is priced with them all the same.
    response = shop.post(
        "/api/v1/pricing/preview",
        json={
            "date": "2024-06-01",
            "host": SERVER_HOST,
            "items": [{"action": "new", "product_key": MOCKUPS, "tier": "100"}],
        },
    )
    assert response.status_code == 200, response.text
    assert (response.json()["lines"][0]["amount"], response.json()["lines"][0]["price_change"]) == (
        "1100.00",
        None,
    )
