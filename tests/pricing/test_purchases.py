from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from mercato.pricing import (
    BillingCycle,
    Channel,
    ChannelNotAllowed,
    ChannelPolicy,
    HostContext,
    HostContextRequired,
    Hosting,
    HostingMismatch,
    LicenseType,
    LicenseTypeNotAllowed,
    LineKind,
    Listing,
    NotAnUpgrade,
    RenewalRequiredFirst,
    SellerOfRecord,
    Tier,
    TierMismatch,
    TierNotSold,
    price_evaluation,
    price_new_purchase,
    price_upgrade,
)

TODAY = date(2026, 3, 1)
WIKI_100 = HostContext(Hosting.SERVER, tier=Tier(100), product_name="wiki")
MARKETPLACE, DIRECT = Channel.MARKETPLACE, Channel.DIRECT
COMMERCIAL = LicenseType.COMMERCIAL


def test_new_server_license_is_list_price_with_12_months_of_maintenance(mockups: Listing) -> None:
    line = price_new_purchase(mockups, Tier(100), MARKETPLACE, WIKI_100, COMMERCIAL, TODAY)
    assert line.kind is LineKind.NEW
    assert line.amount == Decimal("2200.00")
    assert (line.period_start, line.period_end) == (date(2026, 3, 1), date(2027, 3, 1))
    assert line.currency == "USD"
    assert line.explanation == (
        "New license: the 100-user list price USD 2,200.00 = USD 2,200.00, "
        "maintenance 2026-03-01 → 2027-03-01"
    )
    assert line.formula["list_price"] == "2200"
    assert line.formula["amount"] == "2200.00"


def test_new_datacenter_license_is_an_annual_term(mockups_dc: Listing) -> None:
    host = HostContext(Hosting.DATACENTER, tier=Tier(800), product_name="wiki")
    line = price_new_purchase(mockups_dc, Tier(1000), MARKETPLACE, host, COMMERCIAL, TODAY)
    assert line.amount == Decimal("15000.00")
    assert line.period_end == date(2027, 3, 1)
    assert "term 2026-03-01 → 2027-03-01" in line.explanation


def test_marketplace_refuses_10_user_app_for_100_user_host(mockups: Listing) -> None:
    with pytest.raises(TierMismatch) as raised:
        price_new_purchase(mockups, Tier(10), MARKETPLACE, WIKI_100, COMMERCIAL, TODAY)
    assert str(raised.value) == (
        "Mockups for Wiki must be licensed for at least 100 users on the marketplace, because your wiki "
        "server is licensed for 100 users. Choose the 100-user tier (USD 2,200.00)."
    )


def test_tier_mismatch_offers_matching_tier(mockups: Listing) -> None:
    host = HostContext(Hosting.SERVER, tier=Tier(80))  # a host tier the app does not sell: next one up
    with pytest.raises(TierMismatch) as raised:
        price_new_purchase(mockups, Tier(50), MARKETPLACE, host, COMMERCIAL, TODAY)
    error = raised.value
    assert error.type == "tier-mismatch"
    assert error.status == 422
    assert Tier.parse(str(error.details["suggested_tier"])) == Tier(100)
    assert error.details["suggested_amount"] == "2200.00"
    assert error.details["currency"] == "USD"
    assert error.details["suggested_price"] == "USD 2,200.00"
    problem = error.as_problem()
    assert problem["type"] == "tier-mismatch"
    assert problem["detail"] == str(error)
    assert problem["title"] == error.title


def test_tier_mismatch_offers_the_price_of_the_buyers_license_type(mockups: Listing) -> None:
    academic_host = HostContext(Hosting.SERVER, tier=Tier(100), license_type=LicenseType.ACADEMIC)
    with pytest.raises(TierMismatch) as raised:
        price_new_purchase(mockups, Tier(50), MARKETPLACE, academic_host, LicenseType.ACADEMIC, TODAY)
    assert raised.value.details["suggested_price"] == "USD 1,100.00"


def test_tier_mismatch_says_when_no_tier_covers_the_host(make_server_listing: Callable[..., Listing]) -> None:
    listing = make_server_listing(prices=("1", "2", "3", "4", "5", "6", "7", "8", "9"))
    small = Listing(
        listing.app_key,
        listing.name,
        listing.hosting,
        type(listing.price_table)("USD", {Tier(10): Decimal("1"), Tier(25): Decimal("2")}),
        listing.policy,
    )
    with pytest.raises(TierMismatch) as raised:
        price_new_purchase(small, Tier(25), MARKETPLACE, WIKI_100, COMMERCIAL, TODAY)
    assert raised.value.details["suggested_tier"] is None
    assert "not sold for that many users" in str(raised.value)


def test_direct_channel_allows_10_user_app_for_100_user_host(mockups: Listing) -> None:
    line = price_new_purchase(mockups, Tier(10), DIRECT, WIKI_100, COMMERCIAL, TODAY)
    assert line.amount == Decimal("120.00")
    assert line.tier == Tier(10)
    assert line.seller_of_record is SellerOfRecord.VENDOR


def test_marketplace_line_is_sold_by_the_operator(mockups: Listing) -> None:
    line = price_new_purchase(mockups, Tier(100), MARKETPLACE, WIKI_100, COMMERCIAL, TODAY)
    assert line.seller_of_record is SellerOfRecord.OPERATOR
    assert line.channel is MARKETPLACE


def test_larger_app_tier_than_host_is_fine_on_the_marketplace(mockups: Listing) -> None:
    line = price_new_purchase(mockups, Tier.UNLIMITED, MARKETPLACE, WIKI_100, COMMERCIAL, TODAY)
    assert line.amount == Decimal("30000.00")


def test_unlimited_host_needs_unlimited_app(mockups: Listing) -> None:
    host = HostContext(Hosting.SERVER, tier=Tier.UNLIMITED)
    with pytest.raises(TierMismatch) as raised:
        price_new_purchase(mockups, Tier(10_000), MARKETPLACE, host, COMMERCIAL, TODAY)
    assert raised.value.details["suggested_tier"] == "Unlimited users"


def test_tier_not_sold_lists_the_tiers_sold(mockups: Listing) -> None:
    with pytest.raises(TierNotSold) as raised:
        price_new_purchase(mockups, Tier(30), MARKETPLACE, WIKI_100, COMMERCIAL, TODAY)
    assert raised.value.type == "tier-not-sold"
    assert "10 users" in raised.value.details["sold_tiers"]


def test_channel_not_allowed_by_the_listing(mockups: Listing) -> None:
    policy = ChannelPolicy(frozenset({MARKETPLACE}), {MARKETPLACE: True}, {MARKETPLACE: 36})
    marketplace_only = Listing(mockups.app_key, mockups.name, mockups.hosting, mockups.price_table, policy)
    with pytest.raises(ChannelNotAllowed) as raised:
        price_new_purchase(marketplace_only, Tier(100), DIRECT, WIKI_100, COMMERCIAL, TODAY)
    assert raised.value.type == "channel-not-allowed"
    assert raised.value.details["allowed_channels"] == ["marketplace"]


def test_academic_is_half_price(mockups: Listing) -> None:
    host = HostContext(Hosting.SERVER, tier=Tier(100), license_type=LicenseType.ACADEMIC)
    line = price_new_purchase(mockups, Tier(100), MARKETPLACE, host, LicenseType.ACADEMIC, TODAY)
    assert line.amount == Decimal("1100.00")
    assert line.license_type is LicenseType.ACADEMIC
    assert "50% (academic) of the 100-user list price USD 2,200.00 = USD 1,100.00" in line.explanation


def test_academic_app_license_needs_an_academic_host(mockups: Listing) -> None:
    with pytest.raises(LicenseTypeNotAllowed) as raised:
        price_new_purchase(mockups, Tier(100), MARKETPLACE, WIKI_100, LicenseType.ACADEMIC, TODAY)
    assert raised.value.type == "license-type-not-allowed"


def test_community_is_free(mockups: Listing) -> None:
    host = HostContext(Hosting.SERVER, tier=Tier(100), license_type=LicenseType.COMMUNITY)
    line = price_new_purchase(mockups, Tier(100), MARKETPLACE, host, LicenseType.COMMUNITY, TODAY)
    assert line.amount == Decimal("0.00")
    assert str(line.amount) == "0.00"
    assert line.kind is LineKind.NEW  # still a line: zero-amount sales are recorded and reported
    assert line.period_end == date(2027, 3, 1)


@pytest.mark.parametrize("license_type", [LicenseType.OPEN_SOURCE, LicenseType.DEVELOPER])
def test_open_source_and_developer_are_free(mockups: Listing, license_type: LicenseType) -> None:
    host = HostContext(Hosting.SERVER, tier=Tier(100), license_type=license_type)
    assert price_new_purchase(mockups, Tier(100), MARKETPLACE, host, license_type, TODAY).amount == 0


def test_starter_is_the_10_user_tier_price(mockups: Listing) -> None:
    host = HostContext(Hosting.SERVER, tier=Tier(10), license_type=LicenseType.STARTER)
    line = price_new_purchase(mockups, Tier(10), MARKETPLACE, host, LicenseType.STARTER, TODAY)
    assert line.amount == Decimal("120.00")


def test_starter_is_refused_above_10_users(mockups: Listing) -> None:
    host = HostContext(Hosting.SERVER, tier=Tier(10), license_type=LicenseType.STARTER)
    with pytest.raises(LicenseTypeNotAllowed, match="at most 10 users"):
        price_new_purchase(mockups, Tier(25), MARKETPLACE, host, LicenseType.STARTER, TODAY)


def test_evaluation_is_not_bought_as_a_new_purchase(mockups: Listing) -> None:
    with pytest.raises(LicenseTypeNotAllowed, match="evaluation"):
        price_new_purchase(mockups, Tier(100), MARKETPLACE, WIKI_100, LicenseType.EVALUATION, TODAY)


def test_app_purchase_needs_the_host(mockups: Listing) -> None:
    with pytest.raises(HostContextRequired) as raised:
        price_new_purchase(mockups, Tier(100), MARKETPLACE, None, COMMERCIAL, TODAY)
    assert raised.value.type == "host-context-required"


def test_host_product_is_priced_without_a_host(make_server_listing: Callable[..., Listing]) -> None:
    wiki = make_server_listing(
        app_key="wiki",
        name="Wiki",
        host_product=True,
        policy=ChannelPolicy(frozenset({MARKETPLACE}), {MARKETPLACE: False}, {MARKETPLACE: 36}),
    )
    line = price_new_purchase(wiki, Tier(25), MARKETPLACE, None, COMMERCIAL, TODAY)
    assert line.host_product
    assert line.amount == Decimal("600.00")


def test_app_of_another_hosting_is_refused(mockups: Listing, mockups_cloud: Listing) -> None:
    cloud_site = HostContext(Hosting.CLOUD, cloud_users=5, billing_cycle=BillingCycle.MONTHLY)
    with pytest.raises(HostingMismatch):
        price_new_purchase(mockups, Tier(10), MARKETPLACE, cloud_site, COMMERCIAL, TODAY)
    with pytest.raises(HostingMismatch) as raised:
        price_new_purchase(mockups_cloud, Tier(10), MARKETPLACE, cloud_site, COMMERCIAL, TODAY)
    assert raised.value.type == "hosting-mismatch"


def test_upgrade_price_is_difference_of_list_prices(mockups: Listing) -> None:
    line = price_upgrade(mockups, Tier(100), Tier(250), MARKETPLACE, COMMERCIAL, date(2026, 9, 1), TODAY)
    assert line.kind is LineKind.UPGRADE
    assert line.amount == Decimal("4000.00") - Decimal("2200.00")
    assert line.explanation == (
        "Upgrade to 250 users: 250-user list price USD 4,000.00 − 100-user list price USD 2,200.00 = "
        "USD 1,800.00, maintenance end stays 2026-09-01"
    )


def test_upgrade_keeps_the_maintenance_end(mockups: Listing) -> None:
    line = price_upgrade(mockups, Tier(100), Tier(250), MARKETPLACE, COMMERCIAL, date(2026, 9, 1), TODAY)
    assert line.period_end == date(2026, 9, 1)


def test_upgrade_uses_the_current_price_whatever_was_paid(
    make_server_listing: Callable[..., Listing],
) -> None:
    repriced = make_server_listing(
        prices=("120", "600", "1100", "2500", "4600", "6500", "12000", "20000", "30000")
    )
    line = price_upgrade(repriced, Tier(100), Tier(250), MARKETPLACE, COMMERCIAL, date(2026, 9, 1), TODAY)
    assert line.amount == Decimal("2100.00")


@pytest.mark.parametrize(("old", "new"), [(Tier(250), Tier(100)), (Tier(100), Tier(100))])
def test_downgrade_is_not_an_upgrade(mockups: Listing, old: Tier, new: Tier) -> None:
    with pytest.raises(NotAnUpgrade) as raised:
        price_upgrade(mockups, old, new, MARKETPLACE, COMMERCIAL, date(2026, 9, 1), TODAY)
    assert raised.value.type == "not-an-upgrade"


def test_lapsed_license_must_renew_before_upgrade(mockups: Listing) -> None:
    with pytest.raises(RenewalRequiredFirst) as raised:
        price_upgrade(mockups, Tier(100), Tier(250), MARKETPLACE, COMMERCIAL, date(2026, 2, 28), TODAY)
    assert raised.value.type == "renewal-required-first"
    assert raised.value.details["maintenance_end"] == "2026-02-28"


def test_upgrade_on_the_last_day_of_maintenance_is_allowed(mockups: Listing) -> None:
    assert price_upgrade(mockups, Tier(100), Tier(250), MARKETPLACE, COMMERCIAL, TODAY, TODAY).amount > 0


def test_academic_upgrade_is_half_the_difference(mockups: Listing) -> None:
    line = price_upgrade(
        mockups, Tier(100), Tier(250), MARKETPLACE, LicenseType.ACADEMIC, date(2026, 9, 1), TODAY
    )
    assert line.amount == Decimal("900.00")


def test_upgrade_must_still_cover_the_host_on_the_marketplace(mockups: Listing) -> None:
    host = HostContext(Hosting.SERVER, tier=Tier(500))
    with pytest.raises(TierMismatch):
        price_upgrade(
            mockups, Tier(100), Tier(250), MARKETPLACE, COMMERCIAL, date(2026, 9, 1), TODAY, host=host
        )
    line = price_upgrade(
        mockups, Tier(100), Tier(250), DIRECT, COMMERCIAL, date(2026, 9, 1), TODAY, host=host
    )
    assert line.amount == Decimal("1800.00")


def test_datacenter_upgrade_is_prorated_to_the_term_end(mockups_dc: Listing) -> None:
    term_end = date(2026, 6, 30)  # 121 days after TODAY
    line = price_upgrade(mockups_dc, Tier(500), Tier(1000), MARKETPLACE, COMMERCIAL, term_end, TODAY)
    # (15,000 − 9,000) × 121/365 = 1,989.041...
    assert line.amount == Decimal("1989.04")
    assert "× 121/365 days left in the term" in line.explanation


def test_evaluation_is_free_30_days_highest_tier(mockups: Listing) -> None:
    line = price_evaluation(mockups, WIKI_100, TODAY)
    assert line.kind is LineKind.EVALUATION
    assert line.license_type is LicenseType.EVALUATION
    assert line.amount == 0
    assert line.tier == Tier.UNLIMITED
    assert (line.period_start, line.period_end) == (TODAY, date(2026, 3, 31))


def test_evaluation_of_a_cloud_app_covers_every_user(mockups_cloud: Listing) -> None:
    site = HostContext(Hosting.CLOUD, cloud_users=5000, billing_cycle=BillingCycle.ANNUAL)
    line = price_evaluation(mockups_cloud, site, TODAY)
    assert line.tier == Tier.UNLIMITED
    assert line.amount == 0


def test_evaluation_needs_a_host_of_the_same_hosting(mockups: Listing, mockups_dc: Listing) -> None:
    with pytest.raises(HostingMismatch):
        price_evaluation(mockups_dc, WIKI_100, TODAY)


def test_evaluation_of_an_app_needs_the_host(mockups: Listing) -> None:
    with pytest.raises(HostContextRequired):
        price_evaluation(mockups, None, TODAY)


def test_evaluation_of_a_host_product_needs_no_host(make_server_listing: Callable[..., Listing]) -> None:
    policy = ChannelPolicy(frozenset({MARKETPLACE}), {MARKETPLACE: False}, {MARKETPLACE: 36})
    wiki = make_server_listing(app_key="wiki", name="Wiki", host_product=True, policy=policy)
    assert price_evaluation(wiki, None, TODAY).tier == Tier.UNLIMITED


def test_evaluation_ignores_the_tier_match_rule(mockups: Listing) -> None:
    # An evaluation is issued at the highest tier, whatever the host; nothing to match or pay.
    host = HostContext(Hosting.SERVER, tier=Tier.UNLIMITED)
    assert price_evaluation(mockups, host, TODAY).amount == 0
