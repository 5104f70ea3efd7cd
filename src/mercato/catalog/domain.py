"""Catalog rows → the pricing core's frozen values (the only place that knows both shapes)."""

from __future__ import annotations

from collections.abc import Iterable

from mercato import pricing
from mercato.catalog.models import UNLIMITED_USERS, Listing, RevenueShareRate


def tier_of(users: int) -> pricing.Tier:
    return pricing.Tier.UNLIMITED if users == UNLIMITED_USERS else pricing.Tier(users)


def _tier_table(listing: Listing, price_list: str) -> pricing.TierPriceTable | None:
    prices = {
        tier_of(p.tier_users): pricing.from_minor_units(p.amount_minor, listing.currency)
        for p in listing.tier_prices
        if p.price_list == price_list
    }
    return pricing.TierPriceTable(listing.currency, prices) if prices else None


def _cloud_table(listing: Listing) -> pricing.CloudPriceTable:
    assert listing.cloud_flat_monthly_minor is not None
    return pricing.CloudPriceTable(
        currency=listing.currency,
        flat_monthly=pricing.from_minor_units(listing.cloud_flat_monthly_minor, listing.currency),
        brackets=tuple(
            pricing.CloudBracket(
                b.up_to_users, pricing.from_minor_units(b.per_user_monthly_minor, listing.currency)
            )
            for b in listing.cloud_brackets
        ),
        annual_tiers=tuple(tier_of(t) for t in listing.cloud_annual_tiers or ()),
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


def pricing_listing(listing: Listing, name: str) -> pricing.Listing:
    """The listing as the pricing core sees it (needs tier_prices and cloud_brackets loaded)."""
    hosting = pricing.Hosting(listing.hosting)
    table: pricing.TierPriceTable | pricing.CloudPriceTable | None
    table = _cloud_table(listing) if hosting is pricing.Hosting.CLOUD else _tier_table(listing, "standard")
    if table is None:
        raise ValueError(f"listing {listing.product_key} ({listing.hosting}) has no price table")
    return pricing.Listing(
        app_key=listing.product_key,
        name=name,
        hosting=hosting,
        price_table=table,
        policy=channel_policy(listing),
        direct_price_table=_tier_table(listing, "direct") if hosting is not pricing.Hosting.CLOUD else None,
        host_product=listing.app_id is None,
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
