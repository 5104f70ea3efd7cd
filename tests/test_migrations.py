"""Migrations are code: they build every database, upgrade and downgrade cleanly, and match the models."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import mercato.models  # noqa: F401
from mercato.database import Base, make_engine
from mercato.migrations import DATABASE_ONLY_INDEXES, alembic_config, include_object, upgrade_to_head


def test_migrations_match_the_models(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_object})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_search_indexes_are_made_on_postgresql_only(engine) -> None:  # type: ignore[no-untyped-def]
    indexes = {index["name"] for table in ("apps", "vendors") for index in inspect(engine).get_indexes(table)}
    if engine.dialect.name == "postgresql":
        assert indexes >= DATABASE_ONLY_INDEXES
    else:
        assert not indexes & DATABASE_ONLY_INDEXES


def test_migrations_downgrade_to_nothing_and_back(backend: str, fresh_database_url) -> None:  # type: ignore[no-untyped-def]
    url = fresh_database_url(backend)
    engine = make_engine(url)
    upgrade_to_head(engine)
    assert "licenses" in inspect(engine).get_table_names()
    with engine.begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade_to_head(engine)
    upgrade_to_head(engine)  # a second run applies nothing and fails on nothing
    assert "listings" in inspect(engine).get_table_names()
    engine.dispose()


def test_prices_move_to_dated_price_tables_without_loss(backend: str, fresh_database_url) -> None:  # type: ignore[no-untyped-def]
    """0008 moves every listing's prices into its first price table: the same amounts, tiers and brackets."""
    from datetime import UTC, datetime

    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from mercato.catalog.domain import pricing_listing
    from mercato.catalog.repository import CatalogRepository
    from mercato.pricing import Channel, CloudPriceTable, Tier

    url = fresh_database_url(backend)
    engine = make_engine(url)
    with engine.begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")
    created = datetime(2025, 5, 6, 7, 8, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO host_products (id, key, name, summary, user_tiers, created_at) "
                "VALUES (:id, 'wiki', 'Wiki', '', '[10, 25]', :at)"
            ),
            {
                "id": "11111111111111111111111111111111"
                if backend == "sqlite"
                else "11111111-1111-1111-1111-111111111111",
                "at": created,
            },
        )
        ids = {
            "host": "11111111111111111111111111111111"
            if backend == "sqlite"
            else "11111111-1111-1111-1111-111111111111",
            "server": "22222222222222222222222222222222"
            if backend == "sqlite"
            else "22222222-2222-2222-2222-222222222222",
            "cloud": "33333333333333333333333333333333"
            if backend == "sqlite"
            else "33333333-3333-3333-3333-333333333333",
        }
        for hosting, flat, tiers in (("server", None, None), ("cloud", 1000, "[10, 25]")):
            connection.execute(
                text(
                    "INSERT INTO listings (id, product_key, hosting, host_product_id, currency, sold_on_marketplace,"
                    " sold_direct, tier_must_match_host_marketplace, tier_must_match_host_direct,"
                    " max_maintenance_months_marketplace, max_maintenance_months_direct, cloud_flat_monthly_minor,"
                    " cloud_annual_tiers, created_at) VALUES (:id, 'wiki', :hosting, :host, 'USD', true, false, true,"
                    " false, 36, 12, :flat, :tiers, :at)"
                ),
                {
                    "id": ids[hosting],
                    "hosting": hosting,
                    "host": ids["host"],
                    "flat": flat,
                    "tiers": tiers,
                    "at": created,
                },
            )
        connection.execute(
            text(
                "INSERT INTO tier_prices (listing_id, price_list, tier_users, amount_minor) VALUES"
                " (:l, 'standard', 10, 1000), (:l, 'standard', 25, 120000), (:l, 'direct', 10, 1100)"
            ),
            {"l": ids["server"]},
        )
        connection.execute(
            text(
                "INSERT INTO cloud_price_brackets (listing_id, position, up_to_users, per_user_monthly_minor)"
                " VALUES (:l, 0, 100, 575), (:l, 1, NULL, 140)"
            ),
            {"l": ids["cloud"]},
        )
    upgrade_to_head(engine)
    with Session(engine) as session:
        catalog = CatalogRepository(session)
        server = catalog.listing("wiki", "server")
        cloud = catalog.listing("wiki", "cloud")
        assert server is not None and cloud is not None
        assert server.published_at is not None and [t.effective_from for t in server.price_tables] == [
            created.date()
        ]
        offer = pricing_listing(server, "Wiki", created.date())
        assert offer.price_table_for(Channel.MARKETPLACE).price_of(Tier(25)) == 1200  # type: ignore[union-attr]
        assert offer.price_table_for(Channel.DIRECT).price_of(Tier(10)) == 11  # type: ignore[union-attr]
        table = pricing_listing(cloud, "Wiki", created.date()).price_table
        assert isinstance(table, CloudPriceTable)
        assert table.flat_monthly == 10 and [b.up_to_users for b in table.brackets] == [100, None]
        assert [t.users for t in table.annual_tiers] == [10, 25]
    with engine.begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT tier_users, amount_minor FROM tier_prices ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(10, 1000), (25, 120000), (10, 1100)]
        flat = connection.execute(
            text("SELECT cloud_flat_monthly_minor FROM listings WHERE hosting = 'cloud'")
        ).scalar()
        assert flat == 1000
    engine.dispose()


def test_lapses_already_in_history_stay_recorded_after_0021(backend: str, fresh_database_url) -> None:  # type: ignore[no-untyped-def]
    """0021 keeps, on each license, the maintenance end whose lapse its history records: by the entry's once
    key, or by the date in the description of entries written before lapses had one. The billing run then
    records no lapse twice."""
    import uuid
    from datetime import UTC, date, datetime

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from mercato.billing.service import BillingRun
    from mercato.catalog.demo import load_demo_catalog
    from mercato.catalog.repository import CatalogRepository
    from mercato.clock import FixedClock
    from mercato.licenses.models import License, LicenseEventKind, LicenseTransaction
    from mercato.licenses.service import IssueRequest, LicenseService
    from mercato.services import Services
    from support.world import build_world

    ended = date(2026, 11, 30)
    services = Services(secret_key="test-secret-key", clock=FixedClock(datetime(2026, 12, 5, 12, tzinfo=UTC)))
    url = fresh_database_url(backend)
    engine = make_engine(url)
    upgrade_to_head(engine)
    numbers = {}
    with Session(engine) as session, session.begin():
        load_demo_catalog(CatalogRepository(session))
        build_world(session)
        for lapse in ("once_key", "description", "none"):
            license = (
                LicenseService(session, services)
                .issue(
                    IssueRequest(
                        app_key="com.example.mockups.wiki",
                        hosting="server",
                        channel="marketplace",
                        tier=100,
                        license_type="commercial",
                        host_binding=f"SRV-{uuid.uuid4().hex[:8]}",
                        maintenance_end=ended,
                        organisation="acme-test",
                    )
                )
                .license
            )
            numbers[lapse] = license.entitlement_number
            if lapse != "none":
                session.add(
                    LicenseTransaction(
                        license_id=license.id,
                        kind=LicenseEventKind.MAINTENANCE_LAPSED,
                        description=f"Maintenance ended on {ended.isoformat()}: …",
                        once_key=f"maintenance_lapsed:{ended.isoformat()}" if lapse == "once_key" else None,
                    )
                )
    with engine.begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.downgrade(config, "0020")
    upgrade_to_head(engine)
    with Session(engine) as session, session.begin():
        recorded = {
            number: end
            for number, end in session.execute(
                select(License.entitlement_number, License.maintenance_lapse_recorded_for)
            )
        }
        assert recorded == {numbers["once_key"]: ended, numbers["description"]: ended, numbers["none"]: None}
        assert BillingRun(session, services).sweep_licenses().maintenance_lapsed == [numbers["none"]]
    engine.dispose()
