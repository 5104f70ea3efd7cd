"""Catalog rows → the pricing core's frozen values (the only place that knows both shapes)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from mercato import pricing
from mercato.catalog.models import UNLIMITED_USERS, Listing, PriceTable, RevenueShareRate


def tier_of(users: int) -> pricing.Tier:
    return pricing.Tier.UNLIMITED if users == UNLIMITED_USERS else pricing.Tier(users)


def _tier_table(table: PriceTable, currency: str, price_list: str) -> pricing.TierPriceTable | None:
    prices = {
        tier_of(p.tier_users): pricing.from_minor_units(p.amount_minor, currency)
        for p in table.tier_prices
        if p.price_list == price_list
    }
    return pricing.TierPriceTable(currency, prices) if prices else None


def _cloud_table(table: PriceTable, currency: str) -> pricing.CloudPriceTable:
    assert table.cloud_flat_monthly_minor is not None
    return pricing.CloudPriceTable(
        currency=currency,
        flat_monthly=pricing.from_minor_units(table.cloud_flat_monthly_minor, currency),
        brackets=tuple(
            pricing.CloudBracket(b.up_to_users, pricing.from_minor_units(b.per_user_monthly_minor, currency))
            for b in table.cloud_brackets
        ),
        annual_tiers=tuple(tier_of(t) for t in table.cloud_annual_tiers or ()),
    )


def channel_policy(listing: Listing) -> pricing.ChannelPolicy:
    channels = set()
    if listing.sold_on_marketplace:
        channels.add(pricing.Channel.MARKETPLACE)
    if listing.sold_direct:
        channels.add(pricing.Channel.DIRECT)
    return pricing.ChannelPolicy(
        channels=frozenset(channels),
        tier_must_match_host={
            pricing.Channel.MARKETPLACE: listing.tier_must_match_host_marketplace,
            pricing.Channel.DIRECT: listing.tier_must_match_host_direct,
        },
        max_maintenance_months={
            pricing.Channel.MARKETPLACE: listing.max_maintenance_months_marketplace,
            pricing.Channel.DIRECT: listing.max_maintenance_months_direct,
        },
    )


def pricing_listing(listing: Listing, name: str, on: date) -> pricing.Listing:
    """The listing as the pricing core sees it on ``on``, with the prices in force that day (needs
    ``price_tables`` loaded with their tier prices and cloud brackets)."""
    hosting = pricing.Hosting(listing.hosting)
    prices = listing.prices_on(on)
    table: pricing.TierPriceTable | pricing.CloudPriceTable | None
    if hosting is pricing.Hosting.CLOUD:
        table = _cloud_table(prices, listing.currency)
    else:
        table = _tier_table(prices, listing.currency, "standard")
    if table is None:
        raise ValueError(f"listing {listing.product_key} ({listing.hosting}) has no price table")
    return pricing.Listing(
        app_key=listing.product_key,
        name=name,
        hosting=hosting,
        price_table=table,
        policy=channel_policy(listing),
        direct_price_table=(
            _tier_table(prices, listing.currency, "direct") if hosting is not pricing.Hosting.CLOUD else None
        ),
        host_product=listing.app_id is None,
        license_types=frozenset(pricing.LicenseType(t) for t in listing.license_types),
    )


def revenue_schedule(rates: Iterable[RevenueShareRate]) -> pricing.RevenueShareSchedule:
    configured = tuple(
        pricing.RevenueShareRate(r.effective_from, pricing.Hosting(r.hosting), r.vendor_share) for r in rates
    )
    return pricing.RevenueShareSchedule(configured) if configured else pricing.RevenueShareSchedule.default()


def tier_label(users: int) -> str:
    """A stored tier as people and the API write it: ``"100"`` or ``"unlimited"``."""
    return "unlimited" if users == UNLIMITED_USERS else str(users)


def tier_users(tier: pricing.Tier) -> int:
    """A pricing tier as it is stored in integer tier columns."""
    return UNLIMITED_USERS if tier.users is None else tier.users
