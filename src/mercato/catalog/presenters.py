"""ORM rows → API schemas. Kept apart from the endpoints so pages and the CLI can show the same shapes."""

from __future__ import annotations

from collections.abc import Sequence

from mercato.catalog.domain import tier_label
from mercato.catalog.models import UNLIMITED_USERS, App, HostProduct, Listing
from mercato.catalog.schemas import (
    AppOut,
    ChannelPolicyOut,
    ChannelRules,
    CloudBracketOut,
    CloudPricesOut,
    HostProductOut,
    HostProductRef,
    ListingOut,
    ReleaseOut,
    TierPriceOut,
    VendorRef,
)
from mercato.pricing import from_minor_units


def _tier_prices(listing: Listing, price_list: str) -> list[TierPriceOut] | None:
    rows = [p for p in listing.tier_prices if p.price_list == price_list]
    if not rows:
        return None
    rows.sort(key=lambda p: (p.tier_users == UNLIMITED_USERS, p.tier_users))
    return [
        TierPriceOut(tier=tier_label(p.tier_users), amount=from_minor_units(p.amount_minor, listing.currency))
        for p in rows
    ]


def _cloud_prices(listing: Listing) -> CloudPricesOut | None:
    if listing.cloud_flat_monthly_minor is None:
        return None
    brackets = []
    first_user = 11
    for bracket in listing.cloud_brackets:
        brackets.append(
            CloudBracketOut(
                from_users=first_user,
                to_users=bracket.up_to_users,
                per_user_monthly=from_minor_units(bracket.per_user_monthly_minor, listing.currency),
            )
        )
        first_user = (bracket.up_to_users or 0) + 1
    return CloudPricesOut(
        flat_monthly=from_minor_units(listing.cloud_flat_monthly_minor, listing.currency),
        brackets=brackets,
        annual_tiers=[tier_label(t) for t in listing.cloud_annual_tiers or []],
    )


def listing_out(listing: Listing) -> ListingOut:
    return ListingOut(
        hosting=listing.hosting,
        currency=listing.currency,
        channel_policy=ChannelPolicyOut(
            marketplace=ChannelRules(
                sold=listing.sold_on_marketplace,
                tier_must_match_host=listing.tier_must_match_host_marketplace,
                max_maintenance_months=listing.max_maintenance_months_marketplace,
            ),
            direct=ChannelRules(
                sold=listing.sold_direct,
                tier_must_match_host=listing.tier_must_match_host_direct,
                max_maintenance_months=listing.max_maintenance_months_direct,
            ),
        ),
        prices=_tier_prices(listing, "standard"),
        direct_prices=_tier_prices(listing, "direct"),
        cloud_prices=_cloud_prices(listing),
        releases=[ReleaseOut(version=r.version, build_date=r.build_date) for r in listing.releases],
    )


def app_out(app: App) -> AppOut:
    return AppOut(
        key=app.key,
        name=app.name,
        summary=app.summary,
        vendor=VendorRef(slug=app.vendor.slug, name=app.vendor.name),
        host_product=HostProductRef(key=app.host_product.key, name=app.host_product.name),
        listings=[listing_out(listing) for listing in app.listings],
    )


def host_product_out(host: HostProduct, listings: Sequence[Listing]) -> HostProductOut:
    return HostProductOut(
        key=host.key,
        name=host.name,
        summary=host.summary,
        user_tiers=[tier_label(t) for t in host.user_tiers],
        listings=[listing_out(listing) for listing in listings],
    )
