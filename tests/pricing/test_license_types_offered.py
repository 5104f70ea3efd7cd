"""A listing sells new licenses only in the license types it offers; commercial and evaluation always."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mercato.pricing import (
    DEFAULT_SERVER_TIERS,
    BillingCycle,
    Channel,
    ChannelPolicy,
    CloudBracket,
    CloudPriceTable,
    HostContext,
    Hosting,
    LicenseType,
    LicenseTypeNotAllowed,
    Listing,
    Tier,
    TierPriceTable,
    price_cloud_subscription,
    price_new_purchase,
    price_renewal,
    price_upgrade,
)


def server_listing(license_types: frozenset[LicenseType]) -> Listing:
    prices = [Decimal(p) for p in ("120", "600", "1100", "2200", "4000", "6500", "12000", "20000", "30000")]
    return Listing(
        "com.example.app",
        "Mockups",
        Hosting.SERVER,
        TierPriceTable("USD", dict(zip(DEFAULT_SERVER_TIERS, prices, strict=True))),
        ChannelPolicy.default_for(Hosting.SERVER),
        license_types=license_types,
    )


def cloud_listing() -> Listing:
    table = CloudPriceTable("USD", Decimal("10"), (CloudBracket(None, Decimal("4")),), (Tier(10),))
    return Listing(
        "com.example.cloud", "Mockups", Hosting.CLOUD, table, ChannelPolicy.default_for(Hosting.CLOUD)
    )


OPTIONAL = [t for t in LicenseType if t not in (LicenseType.COMMERCIAL, LicenseType.EVALUATION)]
BUYABLE = [t for t in LicenseType if t is not LicenseType.EVALUATION]
TODAY = date(2026, 11, 26)


@settings(max_examples=60, deadline=None)
@given(offered=st.sets(st.sampled_from(OPTIONAL)), wanted=st.sampled_from(BUYABLE))
def test_a_new_license_is_sold_exactly_in_the_types_the_listing_offers(
    offered: set[LicenseType], wanted: LicenseType
) -> None:
    listing = server_listing(license_types=frozenset(offered))
    # The host's own license proves eligibility for discounted types; a 10-user tier suits a starter.
    host = HostContext(Hosting.SERVER, tier=Tier(10), license_type=wanted)
    sold = wanted is LicenseType.COMMERCIAL or wanted in offered
    assert listing.license_types >= {LicenseType.COMMERCIAL, LicenseType.EVALUATION}
    if sold:
        line = price_new_purchase(listing, Tier(10), Channel.MARKETPLACE, host, wanted, TODAY)
        assert line.license_type is wanted
    else:
        with pytest.raises(LicenseTypeNotAllowed) as refused:
            price_new_purchase(listing, Tier(10), Channel.MARKETPLACE, host, wanted, TODAY)
        assert refused.value.details["license_type"] == wanted.value
        assert wanted.label in refused.value.detail


@settings(max_examples=40, deadline=None)
@given(offered=st.sets(st.sampled_from(OPTIONAL)), wanted=st.sampled_from(BUYABLE))
def test_a_cloud_subscription_follows_the_same_rule_but_its_renewal_keeps_its_type(
    offered: set[LicenseType], wanted: LicenseType
) -> None:
    listing = replace(cloud_listing(), license_types=frozenset(offered))
    site = HostContext(Hosting.CLOUD, cloud_users=8, billing_cycle=BillingCycle.MONTHLY, license_type=wanted)
    if wanted is LicenseType.COMMERCIAL or wanted in offered:
        price_cloud_subscription(listing, site, TODAY, license_type=wanted)
    else:
        with pytest.raises(LicenseTypeNotAllowed):
            price_cloud_subscription(listing, site, TODAY, license_type=wanted)
    # A subscription already sold renews in its type, whatever the listing offers now.
    renewed = price_cloud_subscription(listing, site, TODAY, license_type=wanted, renewing=True)
    assert renewed.license_type is wanted


@settings(max_examples=30, deadline=None)
@given(wanted=st.sampled_from([LicenseType.ACADEMIC, LicenseType.COMMUNITY]))
def test_renewals_and_upgrades_of_a_license_sold_keep_its_type_after_the_listing_drops_it(
    wanted: LicenseType,
) -> None:
    listing = server_listing(license_types=frozenset())
    host = HostContext(Hosting.SERVER, tier=Tier(25), license_type=wanted)
    renewal = price_renewal(listing, Tier(10), Channel.MARKETPLACE, wanted, date(2027, 1, 31), 1, TODAY)
    upgrade = price_upgrade(
        listing, Tier(10), Tier(25), Channel.MARKETPLACE, wanted, date(2027, 1, 31), TODAY, host=host
    )
    assert renewal.license_type is upgrade.license_type is wanted
