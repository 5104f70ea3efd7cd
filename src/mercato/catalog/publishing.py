"""Listing rows ↔ ``ListingSpec``: the one place that writes a spec into the catalog tables (review approval
and ``mercato catalog apply``) and reads it back (a new revision starts from the live listing; export)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import object_session

from mercato.catalog.domain import tier_label, tier_of, tier_users
from mercato.catalog.models import (
    UNLIMITED_USERS,
    CloudPriceBracket,
    Listing,
    PriceList,
    PriceTable,
    TierPrice,
)
from mercato.catalog.specs import (
    CloudBracketSpec,
    CloudPricesSpec,
    DirectChannel,
    ListingSpec,
    MarketplaceChannel,
)
from mercato.pricing import Hosting, LicenseType, Tier, from_minor_units, to_minor_units


def _tier_rows(prices: dict[str, object], price_list: PriceList, currency: str) -> list[TierPrice]:
    return [
        TierPrice(
            price_list=price_list,
            tier_users=tier_users(Tier.parse(label)),
            amount_minor=to_minor_units(amount, currency),  # type: ignore[arg-type]
        )
        for label, amount in prices.items()
    ]


def price_table_of(spec: ListingSpec, effective_from: date) -> PriceTable:
    """The spec's prices as a price table taking effect on ``effective_from`` (not yet attached)."""
    table = PriceTable(effective_from=effective_from)
    if spec.cloud_prices is not None:
        cloud = spec.cloud_prices
        table.cloud_flat_monthly_minor = to_minor_units(cloud.flat_monthly, spec.currency)
        table.cloud_annual_tiers = [tier_users(Tier.parse(t)) for t in cloud.annual_tiers]
        table.cloud_brackets = [
            CloudPriceBracket(
                position=position,
                up_to_users=bracket.up_to_users,
                per_user_monthly_minor=to_minor_units(bracket.per_user_monthly, spec.currency),
            )
            for position, bracket in enumerate(cloud.brackets)
        ]
    else:
        assert spec.prices is not None  # ListingSpec's validator guarantees it
        table.tier_prices = _tier_rows(dict(spec.prices), PriceList.STANDARD, spec.currency)
        if spec.direct_prices:
            table.tier_prices += _tier_rows(dict(spec.direct_prices), PriceList.DIRECT, spec.currency)
    return table


def _prices_of(table: PriceTable, currency: str, price_list: PriceList) -> dict[str, object] | None:
    rows = sorted(
        (p for p in table.tier_prices if p.price_list == price_list),
        key=lambda p: (p.tier_users == UNLIMITED_USERS, p.tier_users),
    )
    return {tier_label(p.tier_users): from_minor_units(p.amount_minor, currency) for p in rows} or None


def spec_prices(spec: ListingSpec, table: PriceTable, currency: str) -> ListingSpec:
    """``spec`` with the prices of ``table``."""
    if table.cloud_flat_monthly_minor is not None:
        cloud = CloudPricesSpec(
            flat_monthly=from_minor_units(table.cloud_flat_monthly_minor, currency),
            brackets=[
                CloudBracketSpec(
                    up_to_users=b.up_to_users,
                    per_user_monthly=from_minor_units(b.per_user_monthly_minor, currency),
                )
                for b in table.cloud_brackets
            ],
            annual_tiers=[tier_label(t) for t in table.cloud_annual_tiers or []],
        )
        return spec.model_copy(update={"cloud_prices": cloud, "prices": None, "direct_prices": None})
    return spec.model_copy(
        update={
            "prices": _prices_of(table, currency, PriceList.STANDARD),
            "direct_prices": _prices_of(table, currency, PriceList.DIRECT),
            "cloud_prices": None,
        }
    )


def listing_spec(listing: Listing, on: date) -> ListingSpec:
    """The live listing as a spec, with the prices in force on ``on`` (needs price tables loaded)."""
    base = ListingSpec.model_construct(
        hosting=Hosting(listing.hosting),
        currency=listing.currency,
        marketplace=MarketplaceChannel(
            sold=listing.sold_on_marketplace,
            licensed_users=not listing.tier_must_match_host_marketplace,
            max_maintenance_months=listing.max_maintenance_months_marketplace,
        ),
        direct=DirectChannel(
            sold=listing.sold_direct, max_maintenance_months=listing.max_maintenance_months_direct
        ),
        license_types=[LicenseType(t) for t in listing.license_types],
        prices=None,
        direct_prices=None,
        cloud_prices=None,
    )
    filled = spec_prices(base, listing.prices_on(on), listing.currency)
    # Validate the whole again: a spec read back is the same kind of value as one sent.
    return ListingSpec.model_validate(filled.model_dump())


def apply_listing_spec(listing: Listing, spec: ListingSpec, prices_from: date) -> None:
    """Write ``spec`` into ``listing`` (needs price tables loaded). Channel rules and license types apply at
    once; prices that differ from those in force on ``prices_from`` become a price table taking effect that day
    (replacing one already scheduled for that very day)."""
    listing.currency = spec.currency
    listing.sold_on_marketplace = spec.marketplace.sold
    listing.tier_must_match_host_marketplace = not spec.marketplace.licensed_users
    listing.max_maintenance_months_marketplace = spec.marketplace.max_maintenance_months
    listing.sold_direct = spec.direct.sold
    listing.tier_must_match_host_direct = False
    listing.max_maintenance_months_direct = spec.direct.max_maintenance_months
    listing.license_types = [t.value for t in spec.license_types]
    if listing.price_tables:
        current = spec_prices(spec, listing.prices_on(prices_from), spec.currency)
        if current.prices_equal(spec):
            return
    same_day = [t for t in listing.price_tables if t.effective_from == prices_from]
    if same_day:
        # The flush deletes it before its replacement is inserted (the unit of work inserts first).
        listing.price_tables.remove(same_day[0])
        session = object_session(listing)
        if session is not None:
            session.flush()
    listing.price_tables.append(price_table_of(spec, prices_from))
    listing.price_tables.sort(key=lambda table: table.effective_from)


__all__ = ["apply_listing_spec", "listing_spec", "price_table_of", "spec_prices", "tier_of"]
