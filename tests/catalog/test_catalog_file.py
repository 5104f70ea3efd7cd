"""The catalog as a file: export in a stable order, apply as an upsert checked whole first, a dry run that writes
nothing, and the demo catalog as such a file. On SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from mercato.catalog.demo import demo_catalog_text
from mercato.catalog.file import (
    Action,
    CatalogPlan,
    apply_catalog,
    catalog_schema,
    catalog_schema_text,
    export_catalog,
    parse_catalog,
    read_catalog,
    write_catalog,
)
from mercato.catalog.file_repository import CatalogFileRepository
from mercato.catalog.models import App, Listing, PriceTable, Vendor
from mercato.database import Base, make_engine, make_session_factory, transaction
from mercato.migrations import upgrade_to_head
from mercato.problems import InvalidInput

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def empty_engine(backend: str, fresh_database_url: Any) -> Iterator[Engine]:
    """A migrated database with no catalog at all."""
    engine = make_engine(fresh_database_url(backend))
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def empty(empty_engine: Engine) -> Iterator[Session]:
    """A session on the empty database, rolled back after the test."""
    connection = empty_engine.connect()
    outer = connection.begin()
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    with factory() as session:
        yield session
    outer.rollback()
    connection.close()


def export_text(session: Session) -> str:
    session.expire_all()
    return write_catalog(export_catalog(CatalogFileRepository(session)))


def apply(session: Session, document: Any, *, dry_run: bool = False, now: datetime = NOW) -> CatalogPlan:
    catalog = read_catalog(document) if isinstance(document, str) else parse_catalog(document)
    plan = apply_catalog(CatalogFileRepository(session), catalog, now=now, dry_run=dry_run)
    session.expire_all()
    return plan


def every_row(session: Session) -> dict[str, list[str]]:
    """Every row of every table, to show that nothing at all was written."""
    return {
        table.name: sorted(repr(tuple(row)) for row in session.execute(select(table)))
        for table in Base.metadata.sorted_tables
    }


def demo_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(demo_catalog_text())
    return document


def app_entry(document: dict[str, Any], key: str) -> dict[str, Any]:
    entry: dict[str, Any] = next(app for app in document["apps"] if app["key"] == key)
    return entry


def test_the_export_of_the_demo_catalog_is_the_demo_file(session: Session) -> None:
    assert export_text(session) == demo_catalog_text()


def test_export_apply_into_an_empty_database_export_again_is_identical(
    session: Session, empty: Session
) -> None:
    exported = export_text(session)
    plan = apply(empty, exported)
    assert plan.count(Action.CREATED) == len(plan.changes) > 20
    assert export_text(empty) == exported
    as_json = write_catalog(export_catalog(CatalogFileRepository(empty)), "json")
    assert read_catalog(as_json).catalog == read_catalog(exported).catalog


def test_applying_the_same_file_twice_changes_nothing_the_second_time(empty: Session) -> None:
    apply(empty, demo_catalog_text())
    counts = {name: len(rows) for name, rows in every_row(empty).items()}
    stamps = [
        (row.id, row.updated_at)
        for model in (Vendor, App, Listing)
        for row in empty.scalars(select(model))  # type: ignore[attr-defined]
    ]
    again = apply(empty, demo_catalog_text())
    assert not again.changes_anything and again.count(Action.UNCHANGED) == len(again.changes)
    assert {name: len(rows) for name, rows in every_row(empty).items()} == counts
    assert [
        (row.id, row.updated_at)
        for model in (Vendor, App, Listing)
        for row in empty.scalars(select(model))  # type: ignore[attr-defined]
    ] == stamps


def changed_demo() -> dict[str, Any]:
    """The demo file with a new vendor and app, a changed summary, a price rise next year and a new release."""
    document = demo_document()
    document["vendors"].append(
        {
            "slug": "acme-tools",
            "name": "Acme Tools",
            "email": "sales@acme-tools.example",
            "direct_store": True,
        }
    )
    server = copy.deepcopy(app_entry(document, "com.gatekeeper.sso.wiki")["listings"][0])
    server.pop("releases")
    server["direct"] = {"sold": True}
    document["apps"].append(
        {
            "key": "com.acme.tools.wiki",
            "name": "Acme Tools for Wiki",
            "host_product": "wiki",
            "vendor": "acme-tools",
            "listings": [server],
        }
    )
    mockups = app_entry(document, "com.example.mockups.wiki")
    mockups["summary"] = "Wireframes in wiki pages."
    server_listing = mockups["listings"][0]
    server_listing["price_changes"] = [
        {
            "effective_from": "2027-02-01",
            "prices": {tier: str(Decimal(amount) * 2) for tier, amount in server_listing["prices"].items()},
            "direct_prices": None,
        }
    ]
    server_listing["releases"].append({"version": "4.3.0", "build_date": "2026-11-20"})
    return document


def test_a_dry_run_says_what_would_change_and_writes_nothing(session: Session) -> None:
    before = every_row(session)
    plan = apply(session, changed_demo(), dry_run=True)
    assert every_row(session) == before
    actions = {(c.kind, c.key): c for c in plan.changes}
    assert actions[("vendor", "acme-tools")].action is Action.CREATED
    assert actions[("app", "com.acme.tools.wiki")].action is Action.CREATED
    assert actions[("listing", "com.acme.tools.wiki server")].action is Action.CREATED
    summary = actions[("app", "com.example.mockups.wiki")]
    assert summary.action is Action.CHANGED
    assert [(f.name, f.old, f.new) for f in summary.fields] == [
        ("summary", "Sketch wireframes right inside wiki pages.", "Wireframes in wiki pages.")
    ]
    listing = {f.name: (f.old, f.new) for f in actions[("listing", "com.example.mockups.wiki server")].fields}
    assert listing["price_tables[2027-02-01].prices.100"] == (None, Decimal("2200.00"))
    assert listing["releases[4.3.0].build_date"] == (None, date(2026, 11, 20))
    assert actions[("listing", "io.timekeep.tracker server")].action is Action.UNCHANGED
    assert plan.count(Action.CREATED) == 3 and plan.count(Action.CHANGED) == 2


def test_applying_creates_and_updates_what_the_file_names_and_publishes_it(session: Session) -> None:
    plan = apply(session, changed_demo())
    assert (plan.count(Action.CREATED), plan.count(Action.CHANGED)) == (3, 2)
    repository = CatalogFileRepository(session)
    listings = {(lst.product_key, lst.hosting.value): lst for lst in repository.listings()}
    new = listings[("com.acme.tools.wiki", "server")]
    assert new.published_at == NOW and new.sold_direct
    mockups = listings[("com.example.mockups.wiki", "server")]
    assert [t.effective_from for t in mockups.price_tables] == [date(2025, 1, 1), date(2027, 2, 1)]
    assert "4.3.0" in [r.version for r in mockups.releases]
    exported = yaml.safe_load(export_text(session))
    assert app_entry(exported, "com.example.mockups.wiki")["summary"] == "Wireframes in wiki pages."
    assert apply(session, exported).changes_anything is False


def test_what_the_file_omits_is_left_alone(session: Session) -> None:
    document = demo_document()
    only = app_entry(document, "com.gatekeeper.sso.wiki")
    only["name"] = "Gatekeeper Single Sign-On"
    plan = apply(session, {"apps": [only]})
    assert [(c.kind, c.key, c.action) for c in plan.changes] == [
        ("app", "com.gatekeeper.sso.wiki", Action.CHANGED),
        ("listing", "com.gatekeeper.sso.wiki server", Action.UNCHANGED),
    ]
    assert len(session.scalars(select(App)).all()) == 5
    assert len(session.scalars(select(Vendor)).all()) == 4


def test_a_file_with_many_problems_lists_them_all_with_their_places_and_writes_nothing(
    session: Session,
) -> None:
    document = changed_demo()
    apps = document["apps"]
    diagrams = app_entry(document, "com.diagramly.diagrams.wiki")
    diagrams["listings"][0]["prices"]["25"] = "-5.00"  # negative
    diagrams["listings"][0]["prices"]["50"] = "lots"  # not a number
    gatekeeper = app_entry(document, "com.gatekeeper.sso.wiki")
    del gatekeeper["listings"][0]["prices"]["250"]  # a gap
    gatekeeper["listings"][0]["prices"]["unlimited"] = "1.00"  # falling
    app_entry(document, "com.example.mockups.tracker")["description"] = "Draw <script>alert(1)</script>"
    app_entry(document, "io.timekeep.tracker")["listings"][2]["direct"] = {
        "sold": True
    }  # cloud sold directly
    apps.append({**copy.deepcopy(apps[-1]), "vendor": "nobody"})  # the same key again, an unknown vendor
    apps.append({"key": "Not A Key", "name": "Bad", "host_product": "wiki", "vendor": "diagramly"})
    before = every_row(session)
    with pytest.raises(InvalidInput) as refused:
        apply(session, document)
    assert every_row(session) == before
    at = {app["key"]: f"apps[{n}]" for n, app in enumerate(apps)}
    places = [error["field"] for error in refused.value.extensions["errors"]]
    # Entries that fail on their own do not hide the problems the others have with each other and the database.
    assert sorted(places) == sorted(
        [
            f"{at['com.diagramly.diagrams.wiki']}.listings[0].prices.25",
            f"{at['com.diagramly.diagrams.wiki']}.listings[0].prices.50",
            f"{at['com.example.mockups.tracker']}.description",
            f"{at['io.timekeep.tracker']}.listings[2].direct",
            f"apps[{len(apps) - 1}].key",
            f"{at['com.gatekeeper.sso.wiki']}.listings[0].prices.250",
            f"{at['com.gatekeeper.sso.wiki']}.listings[0].prices.unlimited",
            f"{at['com.gatekeeper.sso.wiki']}.listings[0].prices_from",  # and those prices are history
            f"apps[{len(apps) - 2}].key",
            f"apps[{len(apps) - 2}].vendor",
        ]
    )


def test_references_must_exist_in_the_file_or_the_database(session: Session) -> None:
    entry = {
        "key": "com.example.new.tracker",
        "name": "New",
        "host_product": "spreadsheet",
        "vendor": "nobody",
    }
    with pytest.raises(InvalidInput) as refused:
        apply(session, {"apps": [entry]})
    assert {(e["field"], e["code"]) for e in refused.value.extensions["errors"]} == {
        ("apps[0].vendor", "unknown_vendor"),
        ("apps[0].host_product", "unknown_host_product"),
    }
    # Named in the database, they are found.
    assert apply(
        session, {"apps": [{**entry, "host_product": "tracker", "vendor": "timekeep"}]}
    ).changes_anything


def test_a_listing_sold_directly_needs_a_vendor_with_a_direct_store(session: Session) -> None:
    gatekeeper = app_entry(demo_document(), "com.gatekeeper.sso.wiki")
    gatekeeper["listings"][0]["direct"] = {"sold": True}
    with pytest.raises(InvalidInput) as refused:
        apply(session, {"apps": [gatekeeper]})
    assert [e["field"] for e in refused.value.extensions["errors"]] == ["apps[0].listings[0].direct.sold"]


def test_prices_of_days_gone_by_are_not_rewritten_but_a_change_from_today_on_is_taken(
    session: Session,
) -> None:
    gatekeeper = app_entry(demo_document(), "com.gatekeeper.sso.wiki")
    server = gatekeeper["listings"][0]
    server["prices"]["25"] = "650.00"
    with pytest.raises(InvalidInput) as refused:
        apply(session, {"apps": [gatekeeper]})
    assert [e["field"] for e in refused.value.extensions["errors"]] == ["apps[0].listings[0].prices_from"]
    server["prices_from"] = NOW.date().isoformat()
    plan = apply(session, {"apps": [gatekeeper]})
    assert plan.count(Action.CHANGED) == 1
    listing = session.scalars(select(Listing).where(Listing.product_key == "com.gatekeeper.sso.wiki")).one()
    tables = session.scalars(
        select(PriceTable).where(PriceTable.listing_id == listing.id).order_by(PriceTable.effective_from)
    ).all()
    assert [t.effective_from for t in tables] == [date(2025, 1, 1), NOW.date()]


def test_hand_written_yaml_may_give_tiers_and_prices_as_numbers(empty: Session) -> None:
    document = """
operator: {slug: lakeside, name: Lakeside Market, email: billing@lakeside.example}
host_products:
- key: notes
  name: Lakeside Notes
  user_tiers: [10, 50, unlimited]
  listings:
  - hosting: server
    prices: {10: 10, 50: 500.5, unlimited: 2000}
    prices_from: 2026-01-01
"""
    plan = apply(empty, document)
    assert [(c.kind, c.action) for c in plan.changes] == [
        ("operator", Action.CREATED),
        ("host product", Action.CREATED),
        ("listing", Action.CREATED),
    ]
    exported = yaml.safe_load(export_text(empty))
    assert exported["host_products"][0]["listings"][0]["prices"] == {
        "10": "10.00",
        "50": "500.50",
        "unlimited": "2000.00",
    }


def test_text_that_is_not_yaml_is_refused_with_its_line() -> None:
    with pytest.raises(InvalidInput) as refused:
        read_catalog("apps:\n  - key: [unclosed\n")
    assert refused.value.extensions["errors"][0]["field"].startswith("line ")


def test_the_demo_file_and_every_export_follow_the_published_schema(session: Session) -> None:
    jsonschema.validate(demo_document(), catalog_schema())
    exported = json.loads(write_catalog(export_catalog(CatalogFileRepository(session)), "json"))
    jsonschema.validate(exported, catalog_schema())


def test_the_schema_is_published_in_the_docs_and_the_api(repo_root: Any, client: TestClient) -> None:
    assert (repo_root / "docs" / "catalog.schema.json").read_text(
        encoding="utf-8"
    ) == catalog_schema_text(), (
        "docs/catalog.schema.json is out of date: mercato catalog schema > docs/catalog.schema.json"
    )
    answer = client.get("/api/v1/catalog/schema")
    assert answer.status_code == 200 and answer.json() == catalog_schema()


def test_an_app_the_file_lists_is_sold_at_once_with_its_prices(
    session_factory: sessionmaker[Session], client: TestClient
) -> None:
    with session_factory() as session, session.begin():
        apply(session, changed_demo())
    assert client.get("/api/v1/apps/com.acme.tools.wiki").status_code == 200
    body = {
        "channel": "marketplace",
        "date": "2026-11-26",
        "host": {"product": "wiki", "hosting": "server", "user_tier": "100", "maintenance_end": "2027-06-30"},
        "items": [{"action": "new", "product_key": "com.acme.tools.wiki", "tier": "100"}],
    }
    answer = client.post("/api/v1/pricing/preview", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["lines"][0]["amount"] == "1900.00"  # the price the file gave the 100-user tier
    with session_factory() as session:
        assert session.execute(text("SELECT count(*) FROM listings WHERE published_at IS NULL")).scalar() == 0


def test_the_example_file_of_the_docs_applies_to_the_demo_catalog(repo_root: Any, session: Session) -> None:
    page = (repo_root / "docs" / "catalog-file.md").read_text(encoding="utf-8")
    example = page.split("```yaml\n", 1)[1].split("```", 1)[0]
    plan = apply(session, example)
    assert [(c.kind, c.key, c.action) for c in plan.changes] == [
        ("vendor", "acme-tools", Action.CREATED),
        ("app", "com.acme.tools.wiki", Action.CREATED),
        ("listing", "com.acme.tools.wiki server", Action.CREATED),
        ("listing", "com.acme.tools.wiki cloud", Action.CREATED),
    ]
    assert not apply(session, example).changes_anything
    exported = app_entry(yaml.safe_load(export_text(session)), "com.acme.tools.wiki")
    assert exported["listings"][0]["price_changes"][0]["effective_from"] == "2027-02-01"


def test_two_applies_at_once_make_one_catalog(backend: str, fresh_database_url: Any) -> None:
    """Two operators apply the same file at the same moment: the unique keys let only one create each object;
    the other waits and finds them (SQLite), or fails as a whole and may simply run again (PostgreSQL)."""
    engine = make_engine(fresh_database_url(backend))
    upgrade_to_head(engine)
    factory = make_session_factory(engine)
    both_started = threading.Barrier(2)
    outcomes: list[int | str] = []

    def operator() -> None:
        try:
            with transaction(factory) as session:
                both_started.wait()
                plan = apply_catalog(
                    CatalogFileRepository(session), read_catalog(demo_catalog_text()), now=NOW
                )
            outcomes.append(plan.count(Action.CREATED))
        except IntegrityError:
            outcomes.append("conflict: nothing written")

    threads = [threading.Thread(target=operator) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes, key=str) in ([0, 32], [32, "conflict: nothing written"])
    with transaction(factory) as session:
        assert export_text(session) == demo_catalog_text()
        assert not apply(session, demo_catalog_text()).changes_anything
    engine.dispose()
