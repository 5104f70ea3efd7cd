"""Scheduling a price change in a test: the listing's prices multiplied by a factor from a given day on."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from mercato.catalog.publishing import apply_listing_spec, listing_spec
from mercato.catalog.repository import CatalogRepository
from mercato.catalog.specs import ListingSpec


def scaled(spec: ListingSpec, factor: Decimal) -> ListingSpec:
    """``spec`` with every price (tiers, direct tiers, cloud flat price and brackets) times ``factor``."""
    if spec.cloud_prices is not None:
        cloud = spec.cloud_prices
        brackets = [
            b.model_copy(update={"per_user_monthly": b.per_user_monthly * factor}) for b in cloud.brackets
        ]
        return spec.model_copy(
            update={
                "cloud_prices": cloud.model_copy(
                    update={"flat_monthly": cloud.flat_monthly * factor, "brackets": brackets}
                )
            }
        )
    update: dict[str, object] = {}
    for name in ("prices", "direct_prices"):
        prices = getattr(spec, name)
        if prices:
            update[name] = {tier: amount * factor for tier, amount in prices.items()}
    return spec.model_copy(update=update)


def schedule_price_change(
    session: Session, product_key: str, hosting: str, effective_from: date, factor: Decimal = Decimal(2)
) -> None:
    """Schedule the listing's current prices times ``factor`` to take effect on ``effective_from``."""
    listing = CatalogRepository(session).listing(product_key, hosting)
    assert listing is not None
    apply_listing_spec(listing, scaled(listing_spec(listing, effective_from), factor), effective_from)
    session.flush()


def schedule(
    session_factory: sessionmaker[Session],
    product_key: str,
    hosting: str,
    effective_from: date,
    factor: Decimal = Decimal(2),
) -> None:
    """``schedule_price_change`` in a unit of work of its own."""
    with session_factory() as session, session.begin():
        schedule_price_change(session, product_key, hosting, effective_from, factor)
