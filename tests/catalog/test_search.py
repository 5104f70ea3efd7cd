"""Searching, filtering and sorting the public app list, through HTTP, on SQLite and PostgreSQL.

The demo catalog plus a few apps made here: their words are chosen so that PostgreSQL's whole-word full-text
search and SQLite's substring search find the same apps."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from mercato.catalog.models import App, HostProduct, Listing, PriceTable, TierPrice, Vendor
from mercato.catalog.repository import AppSearch, CatalogRepository
from mercato.licenses.models import License, LicenseState
from mercato.pricing import Channel

TODAY = date(2026, 11, 26)


def _keys(client: TestClient, **params: Any) -> list[str]:
    response = client.get("/api/v1/apps", params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    page = response.json()
    keys = [app["key"] for app in page["items"]]
    assert page["total"] == len(keys)
    return keys


def _app(
    session: Session,
    key: str,
    name: str,
    summary: str,
    vendor: Vendor,
    *,
    created: datetime,
    prices: list[tuple[date, int]] = (),  # type: ignore[assignment]
    direct: bool = False,
) -> App:
    """An app with one server listing whose 10-user tier costs each (day, amount in cents) from that day."""
    wiki = session.scalars(select(HostProduct).where(HostProduct.key == "wiki")).one()
    app = App(
        key=key, name=name, summary=summary, vendor_id=vendor.id, host_product_id=wiki.id, created_at=created
    )
    session.add(app)
    session.flush()
    listing = Listing(
        product_key=key,
        hosting="server",
        app_id=app.id,
        host_product_id=wiki.id,
        currency="USD",
        sold_direct=direct,
        published_at=created,
    )
    listing.price_tables = [
        PriceTable(effective_from=day, tier_prices=[TierPrice(tier_users=10, amount_minor=amount)])
        for day, amount in prices or [(date(2025, 1, 1), 5_000)]
    ]
    session.add(listing)
    session.flush()
    return app


@pytest.fixture
def catalog(session_factory: sessionmaker[Session]) -> Iterator[dict[str, App]]:
    """Three apps of a new vendor "Quill & Ink", besides the demo catalog."""
    with session_factory() as session, session.begin():
        vendor = Vendor(slug="quill-ink", name="Quill & Ink", email="hello@quill.example")
        session.add(vendor)
        session.flush()
        apps = {
            "glossary": _app(
                session,
                "io.quill.glossary",
                "Glossary 100%_Pro",
                "Define terms once; every page links them.",
                vendor,
                created=datetime(2026, 3, 1, tzinfo=UTC),
                # 40.00 until 1 Dec 2026, then 80.00: today (26 Nov) it costs 40.00.
                prices=[(date(2025, 1, 1), 4_000), (date(2026, 12, 1), 8_000)],
            ),
            "ledger": _app(
                session,
                "io.quill.ledger",
                "Ledger",
                "Budgets and expenses tracked beside the pages.",
                vendor,
                created=datetime(2026, 5, 1, tzinfo=UTC),
                # 90.00 today; 20.00 from 1 Dec 2026 (not yet in force).
                prices=[(date(2025, 1, 1), 9_000), (date(2026, 12, 1), 2_000)],
                direct=True,
            ),
            "atlas": _app(
                session,
                "io.quill.atlas",
                "atlas",
                "Maps of every space.",
                vendor,
                created=datetime(2026, 4, 1, tzinfo=UTC),
                # Prices that begin after today: the first table is read until then.
                prices=[(date(2027, 1, 1), 3_000)],
            ),
        }
        for number, app in enumerate([apps["ledger"]] * 3 + [apps["atlas"]] * 2):
            listing = session.scalars(select(Listing).where(Listing.app_id == app.id)).one()
            session.add(_license(listing, number, LicenseState.ACTIVE))
        # Expired licenses are not installs.
        ledger_listing = session.scalars(select(Listing).where(Listing.app_id == apps["atlas"].id)).one()
        for number in range(5):
            session.add(_license(ledger_listing, 100 + number, LicenseState.EXPIRED))
    yield apps


def _license(listing: Listing, number: int, status: LicenseState) -> License:
    return License(
        entitlement_number=f"SEN-T{uuid.uuid4().hex[:10]}{number}",
        listing_id=listing.id,
        product_key=listing.product_key,
        hosting="server",
        channel="marketplace",
        issuer="operator",
        license_type="commercial",
        tier_users=10,
        host_binding=f"HOST-{number}",
        maintenance_end=date(2027, 1, 1),
        status=status,
    )


QUILL = ["io.quill.atlas", "io.quill.glossary", "io.quill.ledger"]


def test_q_finds_the_name_the_summary_and_the_vendor_ignoring_case(client: TestClient, catalog: dict) -> None:
    assert _keys(client, q="LEDGER") == ["io.quill.ledger"]
    assert _keys(client, q="expenses") == ["io.quill.ledger"]  # in the summary only
    assert _keys(client, q="quill") == QUILL  # the vendor's name
    assert _keys(client, q="Atlas") == ["io.quill.atlas"]
    assert _keys(client, q="io.quill.atlas") == ["io.quill.atlas"]  # an exact key
    assert "com.example.mockups.wiki" in _keys(client, q="wireframes")  # a demo app's summary
    assert _keys(client, q="zebra") == []


def test_like_wildcards_in_the_text_are_taken_literally(
    client: TestClient, catalog: dict, backend: str
) -> None:
    # "%" and "_" would match anything on SQLite if not escaped; PostgreSQL's text search ignores punctuation.
    assert _keys(client, q="%") == (["io.quill.glossary"] if backend == "sqlite" else [])
    assert _keys(client, q="_") == (["io.quill.glossary"] if backend == "sqlite" else [])
    assert _keys(client, q="100%_Pro") == ["io.quill.glossary"]
    assert "io.quill.glossary" not in _keys(client, q="100x")


def test_postgresql_matches_whole_words_and_web_search_syntax(
    client: TestClient, catalog: dict, backend: str
) -> None:
    if backend != "postgresql":
        # SQLite's fallback finds the text anywhere in a field, so a part of a word is found too.
        assert _keys(client, q="ledg") == ["io.quill.ledger"]
        return
    assert _keys(client, q="budgets pages") == ["io.quill.ledger"]  # every word, in any order
    assert _keys(client, q="budgets zebra") == []
    assert _keys(client, q="every -maps") == ["io.quill.glossary"]
    assert _keys(client, q="ledger or atlas") == ["io.quill.atlas", "io.quill.ledger"]
    assert _keys(client, q="ledg") == []  # whole words


def test_the_text_search_uses_its_indexes_on_postgresql(session: Session, backend: str) -> None:
    if backend != "postgresql":
        # The migration makes the full-text indexes on PostgreSQL only; SQLite has none to use.
        assert not [i for i in inspect(session.get_bind()).get_indexes("apps") if "search" in i["name"]]
        return
    session.execute(text("SET LOCAL enable_seqscan = off"))
    search = AppSearch(text="mockups")
    query = select(App.id).where(*search.conditions("postgresql"))
    compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    plan = "\n".join(row[0] for row in session.execute(text(f"EXPLAIN {compiled}")))
    assert "ix_apps_search" in plan and "ix_vendors_search" in plan, plan


def test_filters_combine(client: TestClient, catalog: dict) -> None:
    assert _keys(client, vendor="quill-ink") == QUILL
    assert _keys(client, vendor="quill-ink", host_product="tracker") == []
    assert _keys(client, vendor="quill-ink", hosting="server") == QUILL
    assert _keys(client, vendor="quill-ink", hosting="cloud") == []
    assert _keys(client, vendor="quill-ink", channel="direct") == ["io.quill.ledger"]
    assert _keys(client, vendor="quill-ink", channel="marketplace") == QUILL
    assert _keys(client, q="quill", channel="direct") == ["io.quill.ledger"]
    # Demo: cloud listings are never sold direct, so hosting and channel must hold for the same listing.
    cloud_direct = _keys(client, hosting="cloud", channel="direct")
    assert cloud_direct == []
    assert "com.example.mockups.wiki" in _keys(client, hosting="server", channel="direct")


def test_max_price_reads_the_prices_in_force_today(client: TestClient, catalog: dict) -> None:
    assert _keys(client, vendor="quill-ink", max_price="40.00") == ["io.quill.atlas", "io.quill.glossary"]
    assert _keys(client, vendor="quill-ink", max_price="39.99") == ["io.quill.atlas"]
    assert _keys(client, vendor="quill-ink", max_price="30") == ["io.quill.atlas"]
    assert _keys(client, vendor="quill-ink", max_price="29.99") == []
    assert _keys(client, vendor="quill-ink", max_price="89.99") == ["io.quill.atlas", "io.quill.glossary"]
    assert _keys(client, vendor="quill-ink", max_price="90") == QUILL
    # Cloud: the monthly price for up to 10 users (the demo's mockups cloud listing: 10.00).
    assert "com.example.mockups.wiki" in _keys(client, hosting="cloud", max_price="10")
    assert "com.example.mockups.wiki" not in _keys(client, hosting="cloud", max_price="9.99")
    assert _keys(client, max_price="0") == []


def test_max_price_follows_the_server_clock(client: TestClient, catalog: dict, server_clock) -> None:  # type: ignore[no-untyped-def]
    server_clock.advance(days=5)  # 1 Dec 2026: the ledger costs 20.00, the glossary 80.00
    assert _keys(client, vendor="quill-ink", max_price="40") == ["io.quill.atlas", "io.quill.ledger"]


def test_sorts_with_ties_broken_by_key(client: TestClient, catalog: dict) -> None:
    assert _keys(client, vendor="quill-ink", sort="name") == [
        "io.quill.atlas",
        "io.quill.glossary",
        "io.quill.ledger",
    ]
    assert _keys(client, vendor="quill-ink", sort="newest") == [
        "io.quill.ledger",
        "io.quill.atlas",
        "io.quill.glossary",
    ]
    assert _keys(client, vendor="quill-ink", sort="most_installed") == [
        "io.quill.ledger",  # 3 active
        "io.quill.atlas",  # 2 active (and 5 expired, which do not count)
        "io.quill.glossary",
    ]
    everything = _keys(client, sort="most_installed")
    assert everything[:2] == ["io.quill.ledger", "io.quill.atlas"]
    rest = everything[2:]
    assert rest == sorted(rest)  # no installs: by key
    default = _keys(client)
    assert default == sorted(default)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sort=st.sampled_from(["key", "name", "newest", "most_installed"]), size=st.integers(1, 4))
def test_pages_neither_overlap_nor_skip(client: TestClient, catalog: dict, sort: str, size: int) -> None:
    whole = _keys(client, sort=sort)
    paged: list[str] = []
    for offset in range(0, len(whole), size):
        page = client.get("/api/v1/apps", params={"sort": sort, "limit": size, "offset": offset}).json()
        assert page["total"] == len(whole)
        paged += [app["key"] for app in page["items"]]
    assert paged == whole


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sort=st.sampled_from(["key", "name", "newest", "most_installed"]), size=st.integers(1, 4))
def test_cursor_pages_follow_every_sort(client: TestClient, catalog: dict, sort: str, size: int) -> None:
    whole = _keys(client, sort=sort)
    paged: list[str] = []
    after = None
    while True:
        params = {"sort": sort, "limit": size} | ({"after": after} if after else {})
        page = client.get("/api/v1/apps", params=params).json()
        paged += [app["key"] for app in page["items"]]
        if not page["has_more"]:
            break
        after = page["next_after"]
    assert paged == whole
    other_sort = "name" if sort != "name" else "key"
    if after is not None:  # a cursor belongs to its sort
        refused = client.get("/api/v1/apps", params={"sort": other_sort, "after": after})
        assert refused.status_code == 422 and refused.json()["type"] == "/api/v1/problems/invalid-cursor"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "popular"}, "query.sort"),
        ({"channel": "shop"}, "query.channel"),
        ({"max_price": "-1"}, "query.max_price"),
        ({"max_price": "cheap"}, "query.max_price"),
        ({"max_price": "NaN"}, "query.max_price"),
        ({"max_price": "1.001"}, "query.max_price"),
        ({"hosting": "mainframe"}, "query.hosting"),
        ({"q": "a\x00b"}, "query.q"),
        ({"q": "x" * 101}, "query.q"),
    ],
)
def test_bad_query_parameters_are_refused_naming_them(client: TestClient, params: dict, field: str) -> None:
    response = client.get("/api/v1/apps", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {error["field"] for error in response.json()["errors"]}


def test_public_only_keeps_sold_listings_and_combines_with_the_filters(
    session_factory: sessionmaker[Session], catalog: dict
) -> None:
    with session_factory() as session, session.begin():
        repository = CatalogRepository(session)
        ledger = session.get(App, catalog["ledger"].id)
        assert ledger is not None
        listing = session.scalars(select(Listing).where(Listing.app_id == ledger.id)).one()
        listing.published_at = None
        session.flush()
        public = AppSearch(vendor_slug="quill-ink", public_only=True)
        found = repository.list_apps(public)
        assert [a.key for a in found.rows] == ["io.quill.atlas", "io.quill.glossary"] and found.total == 2
        direct = repository.list_apps(
            AppSearch(vendor_slug="quill-ink", channel=Channel.DIRECT, public_only=True)
        )
        assert direct.rows == []
