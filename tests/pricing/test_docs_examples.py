"""The worked examples in docs/pricing.md are what the code says, to the cent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from mercato.pricing import (
    BillingCycle,
    Channel,
    HostContext,
    Hosting,
    LicenseType,
    Listing,
    PricedItems,
    PricingError,
    RevenueShareSchedule,
    Tier,
    price_cloud_subscription,
    price_cloud_user_increase,
    price_co_term,
    price_evaluation,
    price_new_purchase,
    price_renewal,
    price_renewal_at_tier,
    price_upgrade,
    reverse_revenue_split,
    split_revenue,
)

DOC = (Path(__file__).parents[2] / "docs" / "pricing.md").read_text(encoding="utf-8")
QUOTED = {line.removeprefix("> ").strip() for line in DOC.splitlines() if line.startswith("> ")}
TODAY = date(2026, 3, 1)
MARKETPLACE, DIRECT = Channel.MARKETPLACE, Channel.DIRECT
COMMERCIAL = LicenseType.COMMERCIAL


def site(users: int, cycle: BillingCycle, next_billing_date: date | None = None) -> HostContext:
    return HostContext(
        Hosting.CLOUD, cloud_users=users, billing_cycle=cycle, next_billing_date=next_billing_date
    )


def server(tier: Tier, license_type: LicenseType = COMMERCIAL) -> HostContext:
    return HostContext(Hosting.SERVER, tier=tier, license_type=license_type, product_name="wiki")


def test_every_documented_line_is_what_the_code_explains(
    mockups: Listing, mockups_dc: Listing, mockups_cloud: Listing
) -> None:
    academic, community = LicenseType.ACADEMIC, LicenseType.COMMUNITY
    starter = LicenseType.STARTER
    dc_host = HostContext(Hosting.DATACENTER, tier=Tier(800))
    marketplace_sale = price_new_purchase(
        mockups, Tier(100), MARKETPLACE, server(Tier(100)), COMMERCIAL, TODAY
    )
    monthly_250 = price_cloud_subscription(mockups_cloud, site(250, BillingCycle.MONTHLY), TODAY)
    server_split = split_revenue(marketplace_sale, RevenueShareSchedule.default(), TODAY)
    cloud_split = split_revenue(monthly_250, RevenueShareSchedule.default(), TODAY)
    assert server_split is not None and cloud_split is not None
    lines = [
        marketplace_sale.explanation,
        price_new_purchase(mockups_dc, Tier(1000), MARKETPLACE, dc_host, COMMERCIAL, TODAY).explanation,
        price_new_purchase(mockups, Tier(10), DIRECT, server(Tier(100)), COMMERCIAL, TODAY).explanation,
        price_new_purchase(
            mockups, Tier(100), MARKETPLACE, server(Tier(100), academic), academic, TODAY
        ).explanation,
        price_new_purchase(
            mockups, Tier(100), MARKETPLACE, server(Tier(100), community), community, TODAY
        ).explanation,
        price_new_purchase(
            mockups, Tier(10), MARKETPLACE, server(Tier(10), starter), starter, TODAY
        ).explanation,
        price_renewal(
            mockups, Tier(100), MARKETPLACE, COMMERCIAL, date(2027, 3, 1), 2, date(2027, 2, 1)
        ).explanation,
        price_renewal(mockups, Tier(100), MARKETPLACE, COMMERCIAL, date(2025, 6, 15), 1, TODAY).explanation,
        price_renewal(mockups_dc, Tier(500), MARKETPLACE, COMMERCIAL, TODAY, 1, TODAY).explanation,
        price_new_purchase(
            mockups, Tier(100), MARKETPLACE, server(Tier(100)), COMMERCIAL, TODAY, years=3
        ).explanation,
        price_new_purchase(
            mockups_dc, Tier(1000), MARKETPLACE, dc_host, COMMERCIAL, TODAY, years=2
        ).explanation,
        price_renewal_at_tier(
            mockups,
            Tier(100),
            Tier(250),
            MARKETPLACE,
            COMMERCIAL,
            date(2026, 9, 1),
            1,
            TODAY,
            host=server(Tier(250)),
        ).explanation,
        price_renewal_at_tier(
            mockups_dc, Tier(500), Tier(1000), MARKETPLACE, COMMERCIAL, date(2026, 6, 30), 1, TODAY
        ).explanation,
        price_upgrade(
            mockups, Tier(100), Tier(250), MARKETPLACE, COMMERCIAL, date(2026, 9, 1), TODAY
        ).explanation,
        price_upgrade(
            mockups_dc, Tier(500), Tier(1000), MARKETPLACE, COMMERCIAL, date(2026, 6, 30), TODAY
        ).explanation,
        price_evaluation(mockups, server(Tier(100)), TODAY).explanation,
        monthly_250.explanation,
        price_cloud_subscription(mockups_cloud, site(90, BillingCycle.ANNUAL), TODAY).explanation,
        price_cloud_subscription(
            mockups_cloud, site(250, BillingCycle.MONTHLY, date(2026, 4, 1)), date(2026, 3, 20)
        ).explanation,
        price_cloud_subscription(
            mockups_cloud, site(90, BillingCycle.ANNUAL, date(2026, 4, 1)), date(2025, 10, 1)
        ).explanation,
        price_cloud_user_increase(
            mockups_cloud, BillingCycle.MONTHLY, 100, 150, date(2026, 3, 22), date(2026, 4, 1)
        ).explanation,
        price_cloud_user_increase(
            mockups_cloud, BillingCycle.ANNUAL, 80, 120, date(2026, 4, 1), date(2026, 10, 1)
        ).explanation,
        price_cloud_user_increase(
            mockups_cloud, BillingCycle.MONTHLY, 150, 100, date(2026, 3, 22), date(2026, 4, 1)
        ).explanation,
        server_split.explanation,
        cloud_split.explanation,
        reverse_revenue_split(server_split).explanation,
    ]
    missing = [line for line in lines if line not in QUOTED]
    assert not missing


def test_documented_co_term_quote(mockups: Listing, mockups_dc: Listing) -> None:
    quoted_on = date(2027, 2, 1)
    wiki_app = price_co_term(
        mockups, Tier(100), MARKETPLACE, COMMERCIAL, date(2027, 3, 1), date(2027, 6, 1), quoted_on
    )
    dc_app = price_co_term(
        mockups_dc, Tier(500), MARKETPLACE, COMMERCIAL, date(2027, 4, 15), date(2027, 6, 1), quoted_on
    )
    assert {wiki_app.explanation, dc_app.explanation} <= QUOTED
    total = PricedItems.of([wiki_app, dc_app]).total("USD")
    assert f"A quote holding both lines totals USD {total:,}" in DOC


@pytest.mark.parametrize(
    ("price", "sentence_start"),
    [
        (
            lambda listing: price_renewal(listing, Tier(100), DIRECT, COMMERCIAL, TODAY, 2, TODAY),
            "Maintenance can be bought at most 12 months ahead on the direct channel, so it may run until "
            "2027-05-30",
        ),
        (
            lambda listing: price_new_purchase(
                listing, Tier(10), DIRECT, server(Tier(100)), COMMERCIAL, TODAY, years=2
            ),
            "Maintenance can be bought at most 12 months ahead on the direct channel, so it may run until "
            "2027-05-30 at the latest, not 2028-03-01. You can buy at most 1 year now.",
        ),
        (
            lambda listing: price_new_purchase(
                listing, Tier(10), MARKETPLACE, server(Tier(100)), COMMERCIAL, TODAY
            ),
            "Mockups for Wiki must be licensed for at least 100 users on the marketplace",
        ),
    ],
)
def test_documented_refusals(
    mockups: Listing, price: Callable[[Listing], object], sentence_start: str
) -> None:
    with pytest.raises(PricingError) as raised:
        price(mockups)
    sentence = str(raised.value)
    assert sentence.startswith(sentence_start)
    assert " ".join(sentence.split()[:12]) in " ".join(DOC.split())
