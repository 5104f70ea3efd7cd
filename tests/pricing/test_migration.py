"""Pricing a migration to the marketplace: free when the license's tier covers the host, otherwise the
marketplace's upgrade to the host's tier in the same step; the maintenance end always stays."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mercato.pricing import (
    DEFAULT_SERVER_TIERS,
    Channel,
    ChannelNotAllowed,
    ChannelPolicy,
    HostContext,
    Hosting,
    LicenseType,
    LineKind,
    Listing,
    MigrationWouldDowngrade,
    RenewalRequiredFirst,
    Tier,
    TierPriceTable,
    price_migration,
    price_upgrade,
)

from .conftest import server_listing
from .test_properties import DATES, TIERS, server_listings

TODAY = date(2026, 12, 5)
END = date(2027, 6, 30)


def server_host(users: int | None) -> HostContext:
    return HostContext(hosting=Hosting.SERVER, tier=Tier(users))


def test_a_license_whose_tier_covers_the_host_moves_for_nothing() -> None:
    line = price_migration(server_listing(), Tier(100), LicenseType.COMMERCIAL, END, server_host(100), TODAY)
    assert (line.kind, line.channel, line.tier, line.amount) == (
        LineKind.MIGRATION,
        Channel.MARKETPLACE,
        Tier(100),
        Decimal("0.00"),
    )
    assert (line.period_start, line.period_end) == (TODAY, END)
    assert line.explanation == (
        "Migration to the marketplace: the 100-user license covers the host; nothing to pay = USD 0.00, "
        "maintenance end stays 2027-06-30"
    )


def test_a_10_user_license_on_a_100_user_host_pays_the_upgrade_to_100_and_keeps_its_maintenance_end() -> None:
    line = price_migration(server_listing(), Tier(10), LicenseType.COMMERCIAL, END, server_host(100), TODAY)
    assert (line.tier, line.amount, line.period_end) == (Tier(100), Decimal("2080.00"), END)
    assert line.explanation == (
        "Migration to the marketplace with an upgrade to 100 users to match the host: 100-user list price "
        "USD 2,200.00 − 10-user list price USD 120.00 = USD 2,080.00, maintenance end stays 2027-06-30"
    )
    assert (line.formula["old_tier"], line.formula["new_tier"]) == ("10 users", "100 users")


def test_a_larger_tier_may_be_chosen_but_never_a_smaller_one() -> None:
    listing = server_listing()
    larger = price_migration(
        listing, Tier(100), LicenseType.COMMERCIAL, END, server_host(100), TODAY, to_tier=Tier(250)
    )
    assert (larger.tier, larger.amount) == (Tier(250), Decimal("1800.00"))
    with pytest.raises(MigrationWouldDowngrade):
        price_migration(
            listing, Tier(100), LicenseType.COMMERCIAL, END, server_host(50), TODAY, to_tier=Tier(50)
        )


def test_an_upgrade_needs_current_maintenance_but_a_matching_license_moves_even_when_it_lapsed() -> None:
    lapsed = TODAY - timedelta(days=1)
    listing = server_listing()
    free = price_migration(listing, Tier(100), LicenseType.COMMERCIAL, lapsed, server_host(100), TODAY)
    assert free.amount == Decimal("0.00")
    with pytest.raises(RenewalRequiredFirst):
        price_migration(listing, Tier(10), LicenseType.COMMERCIAL, lapsed, server_host(100), TODAY)


def test_an_app_not_sold_on_the_marketplace_cannot_migrate_there() -> None:
    direct_only = ChannelPolicy(frozenset({Channel.DIRECT}), {Channel.DIRECT: False}, {Channel.DIRECT: 12})
    listing = server_listing(policy=direct_only)
    with pytest.raises(ChannelNotAllowed):
        price_migration(listing, Tier(100), LicenseType.COMMERCIAL, END, server_host(100), TODAY)


def test_a_tier_the_marketplace_does_not_sell_is_priced_from_the_direct_table() -> None:
    marketplace = TierPriceTable("USD", {Tier(100): Decimal("2200"), Tier(250): Decimal("4000")})
    direct = TierPriceTable("USD", {Tier(10): Decimal("100"), Tier(100): Decimal("2000")})
    listing = server_listing(price_table=marketplace, direct_price_table=direct)
    line = price_migration(listing, Tier(10), LicenseType.COMMERCIAL, END, server_host(50), TODAY)
    assert (line.tier, line.amount) == (Tier(100), Decimal("2100.00"))  # 2,200 (marketplace) − 100 (direct)


@given(
    listing=server_listings(),
    tier=TIERS,
    host_tier=TIERS,
    today=DATES,
    days_left=st.integers(0, 365 * 3),
    license_type=st.sampled_from([LicenseType.COMMERCIAL, LicenseType.ACADEMIC]),
)
def test_a_migration_costs_nothing_exactly_when_the_tier_stays_and_else_what_the_upgrade_costs(
    listing: Listing,
    tier: Tier,
    host_tier: Tier,
    today: date,
    days_left: int,
    license_type: LicenseType,
) -> None:
    end = today + timedelta(days=days_left)
    host = HostContext(hosting=Hosting.SERVER, tier=host_tier, license_type=license_type)
    line = price_migration(listing, tier, license_type, end, host, today)
    assert line.tier.covers(host_tier) and line.tier.covers(tier)
    assert line.period_end == end and line.amount >= 0
    if line.tier == tier:
        assert line.amount == 0
    else:
        assert line.tier == max(tier, host_tier)  # every default tier is sold: the smallest covering is exact
        upgrade = price_upgrade(listing, tier, line.tier, Channel.MARKETPLACE, license_type, end, today)
        assert line.amount == upgrade.amount
    assert line.tier in DEFAULT_SERVER_TIERS
