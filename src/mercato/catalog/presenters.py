"""ORM rows → API schemas. Kept apart from the endpoints so pages and the CLI can show the same shapes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from mercato.catalog.domain import tier_label
from mercato.catalog.markdown import render_markdown
from mercato.catalog.models import UNLIMITED_USERS, App, HostProduct, Listing, PriceTable, Release
from mercato.catalog.releases import newest_first
from mercato.catalog.schemas import (
    AppOut,
    ChannelPolicyOut,
    ChannelRules,
    CloudBracketOut,
    CloudPricesOut,
    HostProductOut,
    HostProductRef,
    ListingOut,
    PriceChangeOut,
    ReleaseOut,
    TierPriceOut,
    VendorRef,
)
from mercato.pricing import from_minor_units


def _tier_prices(table: PriceTable, currency: str, price_list: str) -> list[TierPriceOut] | None:
    rows = [p for p in table.tier_prices if p.price_list == price_list]
    if not rows:
        return None
    rows.sort(key=lambda p: (p.tier_users == UNLIMITED_USERS, p.tier_users))
    return [
        TierPriceOut(tier=tier_label(p.tier_users), amount=from_minor_units(p.amount_minor, currency))
        for p in rows
    ]


def _cloud_prices(table: PriceTable, currency: str) -> CloudPricesOut | None:
    if table.cloud_flat_monthly_minor is None:
        return None
    brackets = []
    first_user = 11
    for bracket in table.cloud_brackets:
        brackets.append(
            CloudBracketOut(
                from_users=first_user,
                to_users=bracket.up_to_users,
                per_user_monthly=from_minor_units(bracket.per_user_monthly_minor, currency),
            )
        )
        first_user = (bracket.up_to_users or 0) + 1
    return CloudPricesOut(
        flat_monthly=from_minor_units(table.cloud_flat_monthly_minor, currency),
        brackets=brackets,
        annual_tiers=[tier_label(t) for t in table.cloud_annual_tiers or []],
    )


def price_change_out(table: PriceTable, currency: str) -> PriceChangeOut:
    return PriceChangeOut(
        effective_from=table.effective_from,
        prices=_tier_prices(table, currency, "standard"),
        direct_prices=_tier_prices(table, currency, "direct"),
        cloud_prices=_cloud_prices(table, currency),
    )


def release_out(release: Release) -> ReleaseOut:
    return ReleaseOut(
        version=release.version,
        build_date=release.build_date,
        notes=release.notes,
        host_version_min=release.host_version_min,
        host_version_max=release.host_version_max,
    )


def listing_out(listing: Listing, today: date) -> ListingOut:
    """The listing with the prices in force ``today`` and the changes scheduled after it."""
    prices = listing.prices_on(today)
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
        prices=_tier_prices(prices, listing.currency, "standard"),
        direct_prices=_tier_prices(prices, listing.currency, "direct"),
        cloud_prices=_cloud_prices(prices, listing.currency),
        price_changes=[price_change_out(table, listing.currency) for table in listing.prices_after(today)],
        releases=[release_out(r) for r in newest_first(listing.releases)],
    )


def app_out(app: App, today: date) -> AppOut:
    """The app as the public catalog shows it: its page (the description as Markdown and as sanitised HTML)
    and its published listings only."""
    return AppOut(
        key=app.key,
        name=app.name,
        summary=app.summary,
        description=app.description,
        description_html=render_markdown(app.description),
        links=dict(app.links or {}),
        vendor=VendorRef(slug=app.vendor.slug, name=app.vendor.name),
        host_product=HostProductRef(key=app.host_product.key, name=app.host_product.name),
        listings=[
            listing_out(listing, today) for listing in app.listings if listing.published_at is not None
        ],
    )


def host_product_out(host: HostProduct, listings: Sequence[Listing], today: date) -> HostProductOut:
    return HostProductOut(
        key=host.key,
        name=host.name,
        summary=host.summary,
        user_tiers=[tier_label(t) for t in host.user_tiers],
        listings=[listing_out(listing, today) for listing in listings],
    )
