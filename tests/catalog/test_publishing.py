"""Listing rows ↔ specs: every demo listing reads back as a valid spec, writing it back changes nothing, and a
changed price becomes a dated table while the day before keeps the old prices."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from mercato.catalog.demo import load_demo_catalog
from mercato.catalog.domain import pricing_listing
from mercato.catalog.publishing import apply_listing_spec, listing_spec
from mercato.catalog.repository import AppSearch, CatalogRepository
from mercato.paging import PageRequest
from mercato.pricing import Channel, Tier

DAY = date(2026, 11, 26)


def test_every_listing_reads_back_and_writing_it_back_changes_nothing(session: Session) -> None:
    repository = CatalogRepository(session)
    load_demo_catalog(repository)
    for app in repository.list_apps(AppSearch(), PageRequest(100)).rows:
        for listing in app.listings:
            before = len(listing.price_tables)
            spec = listing_spec(listing, DAY)
            apply_listing_spec(listing, spec, DAY)
            assert len(listing.price_tables) == before
            assert listing_spec(listing, DAY) == spec


def test_a_price_rise_takes_effect_on_its_day_only(session: Session) -> None:
    repository = CatalogRepository(session)
    load_demo_catalog(repository)
    listing = repository.listing("com.example.mockups.wiki", "server")
    assert listing is not None
    spec = listing_spec(listing, DAY)
    assert spec.prices is not None
    risen = spec.model_copy(update={"prices": {tier: amount * 2 for tier, amount in spec.prices.items()}})
    effective = DAY + timedelta(days=30)
    apply_listing_spec(listing, risen, effective)
    session.flush()

    def price_of_100_users(on: date) -> Decimal | None:
        table = pricing_listing(listing, "Mockups", on).price_table_for(Channel.MARKETPLACE)
        return table.price_of(Tier(100))  # type: ignore[union-attr]

    assert price_of_100_users(effective - timedelta(days=1)) == Decimal("1100.00")
    assert price_of_100_users(effective) == Decimal("2200.00")
    assert [t.effective_from for t in listing.prices_after(DAY)] == [effective]
    # Scheduling again for the same day replaces the scheduled table rather than adding another.
    apply_listing_spec(
        listing, spec.model_copy(update={"prices": {**spec.prices, "100": Decimal("1500")}}), effective
    )
    session.flush()
    assert price_of_100_users(effective) == Decimal("1500")
    assert len(listing.prices_after(DAY)) == 1
