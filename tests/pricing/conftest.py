"""An example catalog shared by the pricing tests: the numbers docs/pricing.md uses too."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from mercato.pricing import (
    DEFAULT_SERVER_TIERS,
    BillingCycle,
    ChannelPolicy,
    CloudBracket,
    CloudPriceTable,
    HostContext,
    Hosting,
    Listing,
    Tier,
    TierPriceTable,
)

SERVER_PRICES = ("120", "600", "1100", "2200", "4000", "6500", "12000", "20000", "30000")


def server_table(currency: str = "USD", prices: tuple[str, ...] = SERVER_PRICES) -> TierPriceTable:
    return TierPriceTable(currency, dict(zip(DEFAULT_SERVER_TIERS, map(Decimal, prices), strict=True)))


def server_listing(
    currency: str = "USD", prices: tuple[str, ...] = SERVER_PRICES, **overrides: object
) -> Listing:
    fields: dict[str, object] = {
        "app_key": "com.example.mockups",
        "name": "Mockups for Wiki",
        "hosting": Hosting.SERVER,
        "price_table": server_table(currency, prices),
        "policy": ChannelPolicy.default_for(Hosting.SERVER),
    }
    fields.update(overrides)
    return Listing(**fields)


def datacenter_listing() -> Listing:
    prices = {
        Tier(500): Decimal("9000"),
        Tier(1000): Decimal("15000"),
        Tier(2000): Decimal("24000"),
        Tier.UNLIMITED: Decimal("60000"),
    }
    return Listing(
        "com.example.mockups",
        "Mockups for Wiki Data Center",
        Hosting.DATACENTER,
        TierPriceTable("USD", prices),
        ChannelPolicy.default_for(Hosting.DATACENTER),
    )


def cloud_price_table(currency: str = "USD") -> CloudPriceTable:
    return CloudPriceTable(
        currency,
        flat_monthly=Decimal("10"),
        brackets=(
            CloudBracket(100, Decimal("4.00")),
            CloudBracket(250, Decimal("3.00")),
            CloudBracket(1000, Decimal("1.50")),
            CloudBracket(None, Decimal("0.75")),
        ),
        annual_tiers=tuple(Tier(users) for users in (10, 25, 50, 100, 250, 500, 1000)),
    )


def cloud_listing() -> Listing:
    return Listing(
        "com.example.mockups.cloud",
        "Mockups for Wiki Cloud",
        Hosting.CLOUD,
        cloud_price_table(),
        ChannelPolicy.default_for(Hosting.CLOUD),
    )


def wiki_server(users: int | None = 100, **overrides: object) -> HostContext:
    fields: dict[str, object] = {"hosting": Hosting.SERVER, "tier": Tier(users), "product_name": "wiki"}
    fields.update(overrides)
    return HostContext(**fields)


def wiki_site(users: int, cycle: BillingCycle, next_billing_date: date | None) -> HostContext:
    return HostContext(
        Hosting.CLOUD,
        cloud_users=users,
        billing_cycle=cycle,
        next_billing_date=next_billing_date,
        product_name="wiki",
    )


# Listings and hosts are frozen, so one instance can serve the whole session (and hypothesis tests).
@pytest.fixture(scope="session")
def mockups() -> Listing:
    """The server app: USD 120 / 600 / 1,100 / 2,200 / 4,000 / 6,500 / 12,000 / 20,000 / 30,000."""
    return server_listing()


@pytest.fixture(scope="session")
def mockups_dc() -> Listing:
    return datacenter_listing()


@pytest.fixture(scope="session")
def mockups_cloud() -> Listing:
    return cloud_listing()


@pytest.fixture(scope="session")
def make_server_listing() -> Callable[..., Listing]:
    return server_listing


@pytest.fixture(scope="session")
def make_wiki_server() -> Callable[..., HostContext]:
    return wiki_server


@pytest.fixture(scope="session")
def make_wiki_site() -> Callable[..., HostContext]:
    return wiki_site
