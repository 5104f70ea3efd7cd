from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from mercato.pricing import (
    BillingCycle,
    Channel,
    ChannelPolicy,
    HostContext,
    Hosting,
    InvalidPriceTable,
    InvalidRefund,
    LicenseType,
    Listing,
    PricedLine,
    RevenueShareNotConfigured,
    RevenueShareRate,
    RevenueShareSchedule,
    Tier,
    price_cloud_subscription,
    price_new_purchase,
    reverse_revenue_split,
    split_revenue,
)

TODAY = date(2026, 3, 1)
WIKI_100 = HostContext(Hosting.SERVER, tier=Tier(100))
DEFAULT = RevenueShareSchedule.default()


def marketplace_line(listing: Listing, tier: Tier = Tier(100)) -> PricedLine:
    return price_new_purchase(listing, tier, Channel.MARKETPLACE, WIKI_100, LicenseType.COMMERCIAL, TODAY)


def test_marketplace_server_line_gives_the_vendor_75_percent(mockups: Listing) -> None:
    split = split_revenue(marketplace_line(mockups), DEFAULT, TODAY)
    assert split is not None
    assert (split.vendor_amount, split.operator_amount) == (Decimal("1650.00"), Decimal("550.00"))
    assert split.vendor_share_rate == Decimal("0.75")
    assert split.explanation.startswith("Vendor share: 75% of USD 2,200.00 = USD 1,650.00")


def test_cloud_line_gives_the_vendor_85_percent(mockups_cloud: Listing) -> None:
    site = HostContext(Hosting.CLOUD, cloud_users=250, billing_cycle=BillingCycle.MONTHLY)
    line = price_cloud_subscription(mockups_cloud, site, TODAY)
    split = split_revenue(line, DEFAULT, TODAY)
    assert split is not None
    assert split.vendor_amount == Decimal("697.00")  # 85% of 820
    assert split.operator_amount == Decimal("123.00")


def test_vendor_share_is_rounded_once_half_even_and_the_operator_keeps_the_rest() -> None:
    from mercato.pricing.revenue import _shares

    assert _shares(Decimal("0.06"), Decimal("0.75"), "USD") == (Decimal("0.04"), Decimal("0.02"))  # 0.045
    assert _shares(Decimal("0.02"), Decimal("0.75"), "USD") == (Decimal("0.02"), Decimal("0.00"))  # 0.015
    assert _shares(Decimal("5"), Decimal("0.75"), "JPY") == (Decimal("4"), Decimal("1"))  # 3.75
    # Rounding both shares would give 0.02 + 0.02 here: the operator's remainder keeps the sum exact.
    assert _shares(Decimal("0.03"), Decimal("0.5"), "USD") == (Decimal("0.02"), Decimal("0.01"))


def test_rate_in_force_on_the_sale_date_applies(mockups: Listing) -> None:
    schedule = RevenueShareSchedule(
        (
            RevenueShareRate(date(2020, 1, 1), Hosting.SERVER, Decimal("0.70")),
            RevenueShareRate(date(2026, 4, 1), Hosting.SERVER, Decimal("0.80")),
        )
    )
    line = marketplace_line(mockups)
    before = split_revenue(line, schedule, date(2026, 3, 31))
    after = split_revenue(line, schedule, date(2026, 4, 1))
    assert before is not None and after is not None
    assert before.vendor_share_rate == Decimal("0.70")
    assert after.vendor_share_rate == Decimal("0.80")


def test_no_rate_in_force_is_an_error(mockups: Listing) -> None:
    schedule = RevenueShareSchedule((RevenueShareRate(date(2027, 1, 1), Hosting.SERVER, Decimal("0.75")),))
    with pytest.raises(RevenueShareNotConfigured):
        split_revenue(marketplace_line(mockups), schedule, TODAY)


def test_direct_lines_have_no_split(mockups: Listing) -> None:
    line = price_new_purchase(mockups, Tier(10), Channel.DIRECT, WIKI_100, LicenseType.COMMERCIAL, TODAY)
    assert split_revenue(line, DEFAULT, TODAY) is None


def test_host_product_lines_have_no_split(make_server_listing: Callable[..., Listing]) -> None:
    policy = ChannelPolicy(
        frozenset({Channel.MARKETPLACE}), {Channel.MARKETPLACE: False}, {Channel.MARKETPLACE: 36}
    )
    wiki = make_server_listing(app_key="wiki", name="Wiki", host_product=True, policy=policy)
    line = price_new_purchase(wiki, Tier(100), Channel.MARKETPLACE, None, LicenseType.COMMERCIAL, TODAY)
    assert split_revenue(line, DEFAULT, TODAY) is None


def test_zero_amount_lines_split_into_zeros(mockups: Listing) -> None:
    host = HostContext(Hosting.SERVER, tier=Tier(100), license_type=LicenseType.COMMUNITY)
    line = price_new_purchase(mockups, Tier(100), Channel.MARKETPLACE, host, LicenseType.COMMUNITY, TODAY)
    split = split_revenue(line, DEFAULT, TODAY)
    assert split is not None
    assert split.vendor_amount == split.operator_amount == 0
    assert reverse_revenue_split(split).line_amount == 0


def test_refund_reverses_the_split_at_the_original_rate(mockups: Listing) -> None:
    schedule = RevenueShareSchedule(
        (
            RevenueShareRate(date(2020, 1, 1), Hosting.SERVER, Decimal("0.75")),
            RevenueShareRate(date(2026, 3, 10), Hosting.SERVER, Decimal("0.80")),
        )
    )
    split = split_revenue(marketplace_line(mockups), schedule, TODAY)
    assert split is not None
    refund = reverse_revenue_split(split)  # refunded after the rate changed: the sale's rate still applies
    assert refund.vendor_share_rate == Decimal("0.75")
    assert (refund.line_amount, refund.vendor_amount, refund.operator_amount) == (
        -split.line_amount,
        -split.vendor_amount,
        -split.operator_amount,
    )
    assert refund.sale_date == TODAY


def test_partial_refund_sums_exactly(mockups: Listing) -> None:
    split = split_revenue(marketplace_line(mockups), DEFAULT, TODAY)
    assert split is not None
    refund = reverse_revenue_split(split, Decimal("100.02"))
    assert refund.line_amount == Decimal("-100.02")
    assert refund.vendor_amount + refund.operator_amount == refund.line_amount
    assert refund.vendor_amount == Decimal("-75.02")  # 75.015 to the even cent


@pytest.mark.parametrize("amount", ["2200.01", "-1", "0", "0.001"])
def test_refund_must_be_positive_and_at_most_the_line(mockups: Listing, amount: str) -> None:
    split = split_revenue(marketplace_line(mockups), DEFAULT, TODAY)
    assert split is not None
    with pytest.raises(InvalidRefund) as raised:
        reverse_revenue_split(split, Decimal(amount))
    assert raised.value.type == "invalid-refund"


def test_vendor_share_must_be_a_fraction() -> None:
    with pytest.raises(InvalidPriceTable):
        RevenueShareRate(TODAY, Hosting.CLOUD, Decimal("1.5"))
    with pytest.raises(InvalidPriceTable):
        RevenueShareSchedule(
            (
                RevenueShareRate(TODAY, Hosting.CLOUD, Decimal("0.5")),
                RevenueShareRate(TODAY, Hosting.CLOUD, Decimal("0.6")),
            )
        )
