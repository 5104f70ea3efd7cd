from decimal import Decimal

import pytest

from mercato.pricing import (
    DEFAULT_SERVER_TIERS,
    Channel,
    ChannelPolicy,
    CloudBracket,
    CloudPriceTable,
    HostContext,
    HostContextRequired,
    Hosting,
    InvalidPriceTable,
    InvalidUserCount,
    Listing,
    PricingError,
    Tier,
    TierPriceTable,
)


def test_unlimited_tier_ranks_above_every_number() -> None:
    assert Tier(10) < Tier(25) < Tier(10_000) < Tier.UNLIMITED
    assert Tier(10**9) < Tier.UNLIMITED
    assert sorted([Tier.UNLIMITED, Tier(50), Tier(10)]) == [Tier(10), Tier(50), Tier.UNLIMITED]
    assert max(Tier(2000), Tier.UNLIMITED) == Tier.UNLIMITED
    assert Tier(None) == Tier.UNLIMITED


@pytest.mark.parametrize(
    ("text", "tier"),
    [
        ("25", Tier(25)),
        ("unlimited", Tier.UNLIMITED),
        ("Unlimited users", Tier.UNLIMITED),
        ("10,000 users", Tier(10_000)),
        ("1 user", Tier(1)),
    ],
)
def test_tier_parse(text: str, tier: Tier) -> None:
    assert Tier.parse(text) == tier


def test_tier_parse_round_trips_its_str() -> None:
    for tier in DEFAULT_SERVER_TIERS:
        assert Tier.parse(str(tier)) == tier


def test_tier_parse_refuses_words() -> None:
    with pytest.raises(ValueError, match="not a user tier"):
        Tier.parse("lots")


@pytest.mark.parametrize("text", ["١٠٠", "१००", "²", "１００"])
def test_tier_parse_reads_ascii_digits_only(text: str) -> None:
    with pytest.raises(ValueError, match="not a user tier"):
        Tier.parse(text)


def test_tier_str_reads_like_a_quote() -> None:
    assert str(Tier(25)) == "25 users"
    assert str(Tier(10_000)) == "10,000 users"
    assert str(Tier.UNLIMITED) == "Unlimited users"
    assert Tier(100).adjective == "100-user"


def test_tier_of_no_users_is_refused() -> None:
    with pytest.raises(InvalidUserCount) as raised:
        Tier(0)
    assert raised.value.type == "invalid-user-count"
    with pytest.raises(InvalidUserCount):
        Tier(-5)


def test_default_server_tiers() -> None:
    assert [t.users for t in DEFAULT_SERVER_TIERS] == [10, 25, 50, 100, 250, 500, 2000, 10000, None]


def test_price_table_refuses_negative_and_sub_cent_prices() -> None:
    with pytest.raises(InvalidPriceTable):
        TierPriceTable("USD", {Tier(10): Decimal("-1")})
    with pytest.raises(InvalidPriceTable, match="more decimals"):
        TierPriceTable("USD", {Tier(10): Decimal("1.005")})
    with pytest.raises(InvalidPriceTable, match="more decimals"):
        TierPriceTable("JPY", {Tier(10): Decimal("100.5")})
    with pytest.raises(InvalidPriceTable, match="ISO 4217"):
        TierPriceTable("usd", {Tier(10): Decimal("1")})


def test_price_table_refuses_a_larger_tier_that_costs_less() -> None:
    with pytest.raises(InvalidPriceTable, match="must not cost less"):
        TierPriceTable("USD", {Tier(10): Decimal("100"), Tier(25): Decimal("90")})


def test_price_table_is_read_only_and_ordered() -> None:
    prices = {Tier.UNLIMITED: Decimal("30"), Tier(10): Decimal("10")}
    table = TierPriceTable("USD", prices)
    prices[Tier(25)] = Decimal("20")
    assert table.tiers == (Tier(10), Tier.UNLIMITED)
    assert table.smallest_tier_covering(Tier(11)) == Tier.UNLIMITED
    with pytest.raises(TypeError):
        table.prices[Tier(25)] = Decimal("20")


def test_cloud_graduated_brackets(mockups_cloud: Listing) -> None:
    table = mockups_cloud.price_table
    assert isinstance(table, CloudPriceTable)
    assert table.monthly_price(1) == table.monthly_price(10) == Decimal("10")
    # 11..100 at 4.00
    assert table.monthly_price(11) == Decimal("14.00")
    assert table.monthly_price(100) == Decimal("10") + 90 * Decimal("4.00")
    # 101..250 at 3.00, then 251..1000 at 1.50, then 0.75 each
    assert table.monthly_price(250) == Decimal("370") + 150 * Decimal("3.00")
    assert table.monthly_price(1000) == Decimal("820") + 750 * Decimal("1.50")
    assert table.monthly_price(1200) == Decimal("1945") + 200 * Decimal("0.75")


def test_cloud_brackets_must_grow_above_ten_users() -> None:
    with pytest.raises(InvalidPriceTable):
        CloudPriceTable("USD", Decimal("10"), (CloudBracket(10, Decimal("1")),), ())
    with pytest.raises(InvalidPriceTable):
        CloudPriceTable(
            "USD", Decimal("10"), (CloudBracket(None, Decimal("1")), CloudBracket(500, Decimal("1"))), ()
        )
    with pytest.raises(InvalidPriceTable):
        CloudPriceTable("USD", Decimal("10"), (CloudBracket(100, Decimal("1")),), (Tier(500),))


def test_channel_policy_defaults() -> None:
    server = ChannelPolicy.default_for(Hosting.SERVER)
    assert server.channels == {Channel.MARKETPLACE, Channel.DIRECT}
    assert server.tier_must_match_host == {Channel.MARKETPLACE: True, Channel.DIRECT: False}
    assert server.max_maintenance_months == {Channel.MARKETPLACE: 36, Channel.DIRECT: 12}
    assert ChannelPolicy.default_for(Hosting.DATACENTER) == server
    assert ChannelPolicy.default_for(Hosting.CLOUD).channels == {Channel.MARKETPLACE}


def test_cloud_listing_cannot_allow_the_direct_channel() -> None:
    table = CloudPriceTable("USD", Decimal("10"), (), ())
    with pytest.raises(InvalidPriceTable, match="marketplace only"):
        Listing("x", "X", Hosting.CLOUD, table, ChannelPolicy.default_for(Hosting.SERVER))


def test_listing_needs_the_table_of_its_hosting(mockups: Listing) -> None:
    with pytest.raises(InvalidPriceTable):
        Listing("x", "X", Hosting.CLOUD, mockups.price_table, ChannelPolicy.default_for(Hosting.CLOUD))


def test_direct_channel_uses_the_vendors_override_table(mockups: Listing) -> None:
    direct = TierPriceTable("EUR", {t: Decimal("1") for t in DEFAULT_SERVER_TIERS})
    listing = Listing(
        mockups.app_key, mockups.name, mockups.hosting, mockups.price_table, mockups.policy, direct
    )
    assert listing.price_table_for(Channel.DIRECT) is direct
    assert listing.price_table_for(Channel.MARKETPLACE) is mockups.price_table
    assert mockups.price_table_for(Channel.DIRECT) is mockups.price_table


def test_configuration_errors_are_pricing_errors() -> None:
    assert issubclass(InvalidPriceTable, PricingError)


def test_host_without_its_user_tier_is_refused_with_a_sentence() -> None:
    with pytest.raises(HostContextRequired) as raised:
        HostContext(Hosting.SERVER, product_name="wiki")
    assert str(raised.value) == "Tell us the user tier of your wiki server: the price depends on it."
    with pytest.raises(HostContextRequired) as raised:
        HostContext(Hosting.CLOUD)
    assert raised.value.details["missing"] == ["number of users", "billing cycle"]
