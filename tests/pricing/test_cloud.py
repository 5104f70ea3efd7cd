from datetime import date
from decimal import Decimal

import pytest

from mercato.pricing import (
    BillingCycle,
    Channel,
    ChannelNotAllowed,
    ChannelPolicy,
    CloudBracket,
    CloudPriceTable,
    DatesOutOfOrder,
    HostContext,
    Hosting,
    HostingMismatch,
    InvalidUserCount,
    LicenseType,
    LineKind,
    Listing,
    Tier,
    TierMismatch,
    TierNotSold,
    price_cloud_subscription,
    price_cloud_user_increase,
)

MONTHLY, ANNUAL = BillingCycle.MONTHLY, BillingCycle.ANNUAL


def site(
    users: int,
    cycle: BillingCycle = MONTHLY,
    next_billing_date: date | None = None,
    license_type: LicenseType = LicenseType.COMMERCIAL,
) -> HostContext:
    return HostContext(
        Hosting.CLOUD,
        cloud_users=users,
        billing_cycle=cycle,
        next_billing_date=next_billing_date,
        license_type=license_type,
        product_name="wiki",
    )


def test_cloud_monthly_is_the_bracketed_price_for_a_full_cycle(mockups_cloud: Listing) -> None:
    line = price_cloud_subscription(mockups_cloud, site(250), date(2026, 3, 1))
    assert line.kind is LineKind.CLOUD_MONTHLY
    assert line.amount == Decimal("820.00")  # 10 + 90 × 4.00 + 150 × 3.00
    assert line.users == 250
    assert (line.period_start, line.period_end) == (date(2026, 3, 1), date(2026, 4, 1))
    assert line.explanation == (
        "Cloud monthly for 250 users: flat USD 10.00 for the first 10 users + 90 users × USD 4.00 + "
        "150 users × USD 3.00 = USD 820.00, 2026-03-01 → 2026-04-01"
    )


def test_cloud_ten_users_or_fewer_pay_the_flat_price(mockups_cloud: Listing) -> None:
    assert price_cloud_subscription(mockups_cloud, site(3), date(2026, 3, 1)).amount == Decimal("10.00")


def test_cloud_monthly_co_terms_with_the_sites_billing_date(mockups_cloud: Listing) -> None:
    line = price_cloud_subscription(
        mockups_cloud, site(250, next_billing_date=date(2026, 4, 1)), date(2026, 3, 20)
    )
    assert line.amount == Decimal("317.42")  # 820 × 12/31 = 317.419...
    assert line.period_end == date(2026, 4, 1)
    assert "× 12/31 days to the site's next billing date" in line.explanation


def test_cloud_subscription_starting_on_the_billing_date_is_a_full_cycle(mockups_cloud: Listing) -> None:
    line = price_cloud_subscription(
        mockups_cloud, site(250, next_billing_date=date(2026, 4, 1)), date(2026, 4, 1)
    )
    assert line.amount == Decimal("820.00")
    assert line.period_end == date(2026, 5, 1)


def test_cloud_annual_is_ten_times_monthly(mockups_cloud: Listing) -> None:
    monthly = price_cloud_subscription(mockups_cloud, site(100), date(2026, 3, 1))
    annual = price_cloud_subscription(mockups_cloud, site(100, ANNUAL), date(2026, 3, 1))
    assert annual.kind is LineKind.CLOUD_ANNUAL
    assert annual.amount == 10 * monthly.amount == Decimal("3700.00")
    assert annual.period_end == date(2027, 3, 1)


def test_cloud_annual_bills_the_smallest_tier_covering_the_site(mockups_cloud: Listing) -> None:
    line = price_cloud_subscription(mockups_cloud, site(90, ANNUAL), date(2026, 3, 1))
    assert line.tier == Tier(100)
    assert line.amount == Decimal("3700.00")


def test_cloud_annual_may_choose_a_larger_tier(mockups_cloud: Listing) -> None:
    line = price_cloud_subscription(mockups_cloud, site(90, ANNUAL), date(2026, 3, 1), tier=Tier(250))
    assert line.amount == Decimal("8200.00")


def test_cloud_annual_tier_below_the_site_is_refused(mockups_cloud: Listing) -> None:
    with pytest.raises(TierMismatch) as raised:
        price_cloud_subscription(mockups_cloud, site(90, ANNUAL), date(2026, 3, 1), tier=Tier(50))
    assert raised.value.details["suggested_tier"] == "100 users"
    assert raised.value.details["suggested_price"] == "USD 3,700.00"


def test_cloud_annual_is_prorated_to_the_sites_billing_date(mockups_cloud: Listing) -> None:
    line = price_cloud_subscription(mockups_cloud, site(90, ANNUAL, date(2026, 4, 1)), date(2025, 10, 1))
    assert line.amount == Decimal("1844.93")  # 3,700 × 182/365 = 1,844.931...


def test_cloud_in_the_direct_channel_is_refused(mockups_cloud: Listing) -> None:
    with pytest.raises(ChannelNotAllowed) as raised:
        price_cloud_subscription(mockups_cloud, site(10), date(2026, 3, 1), channel=Channel.DIRECT)
    assert raised.value.details["allowed_channels"] == ["marketplace"]
    with pytest.raises(ChannelNotAllowed):
        price_cloud_user_increase(
            mockups_cloud, MONTHLY, 10, 20, date(2026, 3, 5), date(2026, 4, 1), channel=Channel.DIRECT
        )


def test_cloud_prices_need_a_cloud_listing(mockups: Listing) -> None:
    with pytest.raises(HostingMismatch):
        price_cloud_subscription(mockups, site(10), date(2026, 3, 1))


def test_cloud_start_after_the_sites_billing_date_is_refused(mockups_cloud: Listing) -> None:
    with pytest.raises(DatesOutOfOrder) as raised:
        price_cloud_subscription(
            mockups_cloud, site(10, next_billing_date=date(2026, 4, 1)), date(2026, 4, 2)
        )
    assert raised.value.type == "dates-out-of-order"


def test_cloud_start_before_the_sites_current_cycle_is_refused(mockups_cloud: Listing) -> None:
    with pytest.raises(DatesOutOfOrder):
        price_cloud_subscription(
            mockups_cloud, site(10, next_billing_date=date(2026, 4, 1)), date(2026, 2, 20)
        )


def test_cloud_users_beyond_the_last_bracket_are_not_sold() -> None:
    table = CloudPriceTable("USD", Decimal("10"), (CloudBracket(100, Decimal("2")),), (Tier(100),))
    listing = Listing("x", "Small", Hosting.CLOUD, table, ChannelPolicy.default_for(Hosting.CLOUD))
    with pytest.raises(TierNotSold):
        price_cloud_subscription(listing, site(101), date(2026, 3, 1))
    with pytest.raises(TierNotSold):
        price_cloud_subscription(listing, site(101, ANNUAL), date(2026, 3, 1))


def test_cloud_academic_is_half_price(mockups_cloud: Listing) -> None:
    host = site(250, license_type=LicenseType.ACADEMIC)
    line = price_cloud_subscription(mockups_cloud, host, date(2026, 3, 1), license_type=LicenseType.ACADEMIC)
    assert line.amount == Decimal("410.00")


def test_cloud_site_with_no_users_is_refused() -> None:
    with pytest.raises(InvalidUserCount):
        site(0)


def test_cloud_user_increase_is_prorated_to_the_cycle_end(mockups_cloud: Listing) -> None:
    line = price_cloud_user_increase(mockups_cloud, MONTHLY, 100, 150, date(2026, 3, 22), date(2026, 4, 1))
    assert line.kind is LineKind.CLOUD_USER_INCREASE
    # (520 − 370) × 10/31 = 48.387...: 150 users cost 10 + 90 × 4.00 + 50 × 3.00 = 520 a month.
    assert line.amount == Decimal("48.39")
    assert (line.period_start, line.period_end) == (date(2026, 3, 22), date(2026, 4, 1))


def test_cloud_user_decrease_applies_at_the_next_cycle(mockups_cloud: Listing) -> None:
    line = price_cloud_user_increase(mockups_cloud, MONTHLY, 150, 100, date(2026, 3, 22), date(2026, 4, 1))
    assert line.kind is LineKind.CLOUD_USER_DECREASE
    assert line.amount == 0
    assert (line.period_start, line.period_end) == (date(2026, 4, 1), date(2026, 5, 1))
    assert "nothing is charged or credited now" in line.explanation


def test_cloud_annual_increase_within_the_tier_costs_nothing(mockups_cloud: Listing) -> None:
    line = price_cloud_user_increase(mockups_cloud, ANNUAL, 80, 95, date(2026, 3, 22), date(2026, 10, 1))
    assert line.amount == 0
    assert "stay within the 100-user annual tier" in line.explanation


def test_cloud_annual_increase_moves_to_the_next_tier_prorated(mockups_cloud: Listing) -> None:
    line = price_cloud_user_increase(mockups_cloud, ANNUAL, 80, 120, date(2026, 4, 1), date(2026, 10, 1))
    # (8,200 − 3,700) × 183/365 = 2,256.164...
    assert line.amount == Decimal("2256.16")
    assert line.tier == Tier(250)


def test_cloud_user_change_outside_the_cycle_is_refused(mockups_cloud: Listing) -> None:
    with pytest.raises(DatesOutOfOrder):
        price_cloud_user_increase(mockups_cloud, MONTHLY, 10, 20, date(2026, 4, 2), date(2026, 4, 1))
    with pytest.raises(DatesOutOfOrder):
        price_cloud_user_increase(mockups_cloud, MONTHLY, 10, 20, date(2026, 2, 28), date(2026, 4, 1))


def test_cloud_user_increase_refuses_negative_users(mockups_cloud: Listing) -> None:
    with pytest.raises(InvalidUserCount):
        price_cloud_user_increase(mockups_cloud, MONTHLY, -1, 20, date(2026, 3, 22), date(2026, 4, 1))
