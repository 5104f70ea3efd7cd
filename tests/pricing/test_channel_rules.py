"""New licenses with several years of maintenance at once, and renewals at the tier the host has grown into."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.pricing.test_properties import DATES, PAID_TYPES, oracle_round, server_listings

from mercato.pricing import (
    DEFAULT_SERVER_TIERS,
    Channel,
    HostContext,
    Hosting,
    InvalidRenewalYears,
    LicenseType,
    LineKind,
    Listing,
    MaintenanceCapExceeded,
    NotAnUpgrade,
    Tier,
    TierMismatch,
    TierPriceTable,
    add_months,
    price_new_purchase,
    price_renewal,
    price_renewal_at_tier,
    price_upgrade,
    renewal_tier,
    round_money,
)

TODAY = date(2026, 3, 1)
MARKETPLACE, DIRECT = Channel.MARKETPLACE, Channel.DIRECT
COMMERCIAL, ACADEMIC = LicenseType.COMMERCIAL, LicenseType.ACADEMIC
CHANNELS = st.sampled_from([MARKETPLACE, DIRECT])
MOST_YEARS = {MARKETPLACE: 3, DIRECT: 1}


def server(users: int | None, license_type: LicenseType = COMMERCIAL) -> HostContext:
    return HostContext(Hosting.SERVER, tier=Tier(users), license_type=license_type, product_name="wiki")


# -- new licenses with one to three years ---------------------------------------------------------------------


def test_three_years_at_once_on_the_marketplace(mockups: Listing) -> None:
    line = price_new_purchase(mockups, Tier(100), MARKETPLACE, server(100), COMMERCIAL, TODAY, years=3)
    assert line.kind is LineKind.NEW
    assert line.amount == Decimal("4400.00")  # 2,200 + 2 × 1,100
    assert (line.period_start, line.period_end) == (TODAY, date(2029, 3, 1))
    assert line.explanation == (
        "New license: the 100-user list price USD 2,200.00 (first year) + 50% of the current 100-user list "
        "price USD 2,200.00 × 2 more years (renewal) = USD 4,400.00, maintenance 2026-03-01 → 2029-03-01"
    )
    assert line.formula["years"] == "3"
    assert line.formula["months"] == "36"
    assert line.formula["renewal_rate"] == "1/2"


def test_one_year_is_todays_line_exactly(mockups: Listing) -> None:
    default = price_new_purchase(mockups, Tier(100), MARKETPLACE, server(100), COMMERCIAL, TODAY)
    assert (
        price_new_purchase(mockups, Tier(100), MARKETPLACE, server(100), COMMERCIAL, TODAY, years=1)
        == default
    )
    assert "years" not in default.formula


def test_datacenter_terms_the_same_way(mockups_dc: Listing) -> None:
    host = HostContext(Hosting.DATACENTER, tier=Tier(800))
    line = price_new_purchase(mockups_dc, Tier(1000), MARKETPLACE, host, COMMERCIAL, TODAY, years=2)
    assert line.amount == Decimal("22500.00")  # 15,000 + 50% × 15,000
    assert line.period_end == date(2028, 3, 1)
    assert line.explanation.startswith("New Data Center license: the 1,000-user annual price USD 15,000.00")
    assert line.explanation.endswith("term 2026-03-01 → 2028-03-01")


def test_four_years_are_refused_on_the_marketplace(mockups: Listing) -> None:
    with pytest.raises(MaintenanceCapExceeded) as refused:
        price_new_purchase(mockups, Tier(100), MARKETPLACE, server(100), COMMERCIAL, TODAY, years=4)
    assert refused.value.details["most_years_now"] == 3
    assert "You can buy at most 3 years now." in str(refused.value)


def test_direct_sells_one_year_at_a_time(mockups: Listing) -> None:
    with pytest.raises(MaintenanceCapExceeded) as refused:
        price_new_purchase(mockups, Tier(10), DIRECT, server(100), COMMERCIAL, TODAY, years=2)
    assert str(refused.value) == (
        "Maintenance can be bought at most 12 months ahead on the direct channel, so it may run until "
        "2027-05-30 at the latest, not 2028-03-01. You can buy at most 1 year now."
    )


def test_zero_years_are_refused(mockups: Listing) -> None:
    with pytest.raises(InvalidRenewalYears):
        price_new_purchase(mockups, Tier(100), MARKETPLACE, server(100), COMMERCIAL, TODAY, years=0)


@given(
    listing=server_listings(),
    tier=st.sampled_from(DEFAULT_SERVER_TIERS),
    license_type=PAID_TYPES,
    today=DATES,
    years=st.integers(1, 3),
)
def test_years_cost_the_new_price_plus_renewals(
    listing: Listing, tier: Tier, license_type: LicenseType, today: date, years: int
) -> None:
    """amount == new price + (years − 1) × renewal price, computed exactly and rounded once."""
    host = server(10, license_type)
    line = price_new_purchase(listing, tier, MARKETPLACE, host, license_type, today, years=years)
    price = listing.price_table.price_of(tier)
    assert price is not None
    type_rate = Decimal("0.5") if license_type is ACADEMIC else Decimal(1)
    new_price = price * type_rate
    renewal_price = price * type_rate * Decimal("0.5")
    assert line.amount == oracle_round(new_price + (years - 1) * renewal_price, listing.price_table.currency)
    assert line.period_end == add_months(today, 12 * years)
    one_year = price_new_purchase(listing, tier, MARKETPLACE, host, license_type, today)
    if years == 1:
        assert line == one_year
    else:
        renewal = price_renewal(
            listing, tier, MARKETPLACE, license_type, one_year.period_end, years - 1, today
        )
        exact = Fraction(one_year.formula["list_price"]) * Fraction(one_year.formula["license_type_rate"])
        assert line.amount == round_money(exact + exact * Fraction(1, 2) * (years - 1), line.currency)
        assert renewal.period_end == line.period_end


@given(listing=server_listings(), channel=CHANNELS, today=DATES, extra=st.integers(1, 7))
def test_years_beyond_the_cap_are_always_refused(
    listing: Listing, channel: Channel, today: date, extra: int
) -> None:
    years = MOST_YEARS[channel] + extra
    with pytest.raises(MaintenanceCapExceeded) as refused:
        price_new_purchase(listing, Tier.UNLIMITED, channel, server(100), COMMERCIAL, today, years=years)
    assert refused.value.details["most_years_now"] == MOST_YEARS[channel]


@given(listing=server_listings(), channel=CHANNELS, today=DATES, data=st.data())
def test_years_within_the_cap_are_always_sold(
    listing: Listing, channel: Channel, today: date, data: st.DataObject
) -> None:
    years = data.draw(st.integers(1, MOST_YEARS[channel]))
    line = price_new_purchase(listing, Tier.UNLIMITED, channel, server(100), COMMERCIAL, today, years=years)
    assert line.period_end == add_months(today, 12 * years)


# -- renewals at the host's tier -------------------------------------------------------------------------------


def test_renewal_at_the_hosts_tier_is_upgrade_plus_renewal(mockups: Listing) -> None:
    line = price_renewal_at_tier(
        mockups, Tier(25), Tier(50), MARKETPLACE, COMMERCIAL, date(2027, 3, 1), 1, date(2027, 2, 1),
        host=server(50),
    )  # fmt: skip
    assert line.kind is LineKind.RENEWAL
    assert line.tier == Tier(50)
    assert line.amount == Decimal("1050.00")  # (1,100 − 600) + 50% × 1,100
    assert (line.period_start, line.period_end) == (date(2027, 3, 1), date(2028, 3, 1))
    assert line.explanation == (
        "Renewal at 50 users (was 25 users): upgrade (50-user list price USD 1,100.00 − 25-user list price "
        "USD 600.00) + renewal 50% of the current 50-user list price USD 1,100.00 × 1 year = USD 1,050.00, "
        "maintenance 2027-03-01 → 2028-03-01"
    )
    assert (line.formula["old_tier"], line.formula["new_tier"]) == ("25 users", "50 users")
    assert line.formula["rule"] == "renewal_at_tier"


def test_renewal_at_tier_equals_an_upgrade_and_a_renewal(mockups: Listing) -> None:
    end, today = date(2027, 3, 1), date(2027, 2, 1)
    upgrade = price_upgrade(mockups, Tier(25), Tier(100), MARKETPLACE, ACADEMIC, end, today)
    renewal = price_renewal(mockups, Tier(100), MARKETPLACE, ACADEMIC, end, 2, today)
    line = price_renewal_at_tier(mockups, Tier(25), Tier(100), MARKETPLACE, ACADEMIC, end, 2, today)
    assert line.amount == upgrade.amount + renewal.amount
    assert line.period_end == renewal.period_end


def test_lapsed_license_back_fills_at_the_new_tier(mockups: Listing) -> None:
    line = price_renewal_at_tier(
        mockups, Tier(25), Tier(50), MARKETPLACE, COMMERCIAL, date(2025, 6, 15), 1, TODAY
    )
    assert (line.period_start, line.period_end) == (date(2025, 6, 15), date(2026, 6, 15))
    assert line.amount == Decimal("1050.00")


def test_datacenter_upgrade_part_is_prorated(mockups_dc: Listing) -> None:
    line = price_renewal_at_tier(
        mockups_dc, Tier(500), Tier(1000), MARKETPLACE, COMMERCIAL, date(2026, 6, 30), 1, TODAY
    )
    upgrade = price_upgrade(
        mockups_dc, Tier(500), Tier(1000), MARKETPLACE, COMMERCIAL, date(2026, 6, 30), TODAY
    )
    assert upgrade.amount == Decimal("1989.04")
    assert line.amount == Decimal("9489.04")  # 6,000 × 121/365 + 50% × 15,000
    assert line.formula["days_left"] == "121"
    lapsed = price_renewal_at_tier(
        mockups_dc, Tier(500), Tier(1000), MARKETPLACE, COMMERCIAL, date(2025, 6, 30), 1, TODAY
    )
    assert lapsed.amount == Decimal("7500.00")  # the ended term has no days left to upgrade


def test_renewal_at_tier_obeys_the_cap(mockups: Listing) -> None:
    with pytest.raises(MaintenanceCapExceeded) as refused:
        price_renewal_at_tier(mockups, Tier(25), Tier(50), DIRECT, COMMERCIAL, TODAY, 2, TODAY)
    assert refused.value.details["most_years_now"] == 1


@pytest.mark.parametrize("new", [Tier(25), Tier(10)])
def test_renewal_at_tier_only_grows(mockups: Listing, new: Tier) -> None:
    with pytest.raises(NotAnUpgrade):
        price_renewal_at_tier(mockups, Tier(25), new, MARKETPLACE, COMMERCIAL, TODAY, 1, TODAY)


def test_renewal_at_tier_must_cover_the_host(mockups: Listing) -> None:
    with pytest.raises(TierMismatch) as refused:
        price_renewal_at_tier(
            mockups, Tier(25), Tier(50), MARKETPLACE, COMMERCIAL, TODAY, 1, TODAY, host=server(100)
        )
    assert refused.value.details["suggested_tier"] == "100 users"


def test_the_tier_a_renewal_is_quoted_at(mockups: Listing) -> None:
    assert renewal_tier(mockups, Tier(25), MARKETPLACE, server(40)) == Tier(50)  # the smallest covering it
    assert renewal_tier(mockups, Tier(25), MARKETPLACE, server(25)) == Tier(25)
    assert renewal_tier(mockups, Tier(100), MARKETPLACE, server(40)) == Tier(100)
    assert renewal_tier(mockups, Tier(25), DIRECT, server(100)) == Tier(25)  # direct: no match required
    assert renewal_tier(mockups, Tier(25), MARKETPLACE, server(40), requested=Tier(100)) == Tier(100)
    with pytest.raises(TierMismatch):
        renewal_tier(mockups, Tier(25), MARKETPLACE, server(40), requested=Tier(25))
    with pytest.raises(NotAnUpgrade):
        renewal_tier(mockups, Tier(100), MARKETPLACE, server(40), requested=Tier(50))


def test_no_tier_sold_covers_the_host(make_server_listing: Callable[..., Listing]) -> None:
    listing = make_server_listing(
        price_table=TierPriceTable("USD", {Tier(10): Decimal(10), Tier(25): Decimal(20)})
    )
    with pytest.raises(TierMismatch) as refused:
        renewal_tier(listing, Tier(10), MARKETPLACE, server(100))
    assert refused.value.details["suggested_tier"] is None


@given(listing=server_listings(), license_type=PAID_TYPES, end=DATES, years=st.integers(1, 3), data=st.data())
def test_renewal_at_tier_is_upgrade_plus_renewal_rounded_once(
    listing: Listing, license_type: LicenseType, end: date, years: int, data: st.DataObject
) -> None:
    old, new = sorted(
        data.draw(st.lists(st.sampled_from(DEFAULT_SERVER_TIERS), min_size=2, max_size=2, unique=True))
    )
    line = price_renewal_at_tier(listing, old, new, MARKETPLACE, license_type, end, years, end)
    old_price, new_price = listing.price_table.price_of(old), listing.price_table.price_of(new)
    assert old_price is not None and new_price is not None
    type_rate = Decimal("0.5") if license_type is ACADEMIC else Decimal(1)
    exact = (new_price - old_price) * type_rate + new_price * type_rate * Decimal("0.5") * years
    assert line.amount == oracle_round(exact, listing.price_table.currency)
    assert line.tier == new
