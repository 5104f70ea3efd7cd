"""Bad apps and listings are refused with a problem naming the field, and nothing is written."""

# ruff: noqa: F811  (the fixtures come from listings_world)
from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from catalog.listings_world import (  # noqa: F401  (fixtures)
    APP,
    KEY,
    SERVER_PRICES,
    VENDOR,
    Shop,
    clock,
    cloud_listing,
    server_listing,
    shop,
    world,
)
from mercato.catalog.markdown import render_markdown
from mercato.catalog.models import App, Listing, ListingRevision, PriceTable

TABLES = (App, Listing, ListingRevision, PriceTable)


def counts(session_factory: sessionmaker[Session]) -> dict[str, int]:
    with session_factory() as session:
        return {t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0 for t in TABLES}


def fields(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem.get("errors", [])]


def without(prices: dict[str, str], tier: str) -> dict[str, str]:
    return {t: amount for t, amount in prices.items() if t != tier}


BAD_LISTINGS = [
    pytest.param(
        "server", server_listing(prices=without(SERVER_PRICES, "25")), "body.listing.prices.25", id="gap"
    ),
    pytest.param(
        "server",
        server_listing(prices=SERVER_PRICES | {"50": "100.00"}),
        "body.listing.prices.50",
        id="decreasing",
    ),
    pytest.param(
        "server",
        server_listing(prices=SERVER_PRICES | {"10": "-1.00"}),
        "body.listing.prices.10",
        id="negative",
    ),
    pytest.param(
        "server",
        server_listing(prices=SERVER_PRICES | {"10": "ten"}),
        "body.listing.prices.10",
        id="not-a-number",
    ),
    pytest.param(
        "server",
        server_listing(prices=SERVER_PRICES | {"30": "300.00"}),
        "body.listing.prices.30",
        id="unknown-tier",
    ),
    pytest.param("cloud", cloud_listing(direct={"sold": True}), "body.listing.direct", id="cloud-direct"),
    pytest.param("server", server_listing(currency="XYZ"), "body.listing.currency", id="unknown-currency"),
    pytest.param(
        "server",
        server_listing(currency="JPY", prices=SERVER_PRICES | {"10": "10.50"}),
        "body.listing.prices.10",
        id="yen-cents",
    ),
    pytest.param("datacenter", server_listing(), "body.listing.hosting", id="hosting-differs"),
    pytest.param(
        "server",
        server_listing(license_types=["commercial"]),
        "body.listing.license_types",
        id="commercial-is-always-sold",
    ),
]


@pytest.mark.parametrize(("hosting", "listing", "field"), BAD_LISTINGS)
def test_a_bad_listing_draft_is_refused_naming_the_field(
    shop: Shop, session_factory: sessionmaker[Session], hosting: str, listing: dict[str, Any], field: str
) -> None:
    shop.ok("POST", f"/vendors/{VENDOR}/apps", "board", APP, status=201)
    before = counts(session_factory)
    response = shop.call("PUT", f"/apps/{KEY}/listings/{hosting}/draft", "board", {"listing": listing})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    named = fields(response.json())
    assert any(name == field or name.startswith(field + ".") for name in named), named
    assert counts(session_factory) == before


def test_a_tracker_app_cannot_be_listed_for_data_center_which_the_tracker_is_not_sold_in(
    shop: Shop, session_factory: sessionmaker[Session]
) -> None:
    tracker_app = APP | {"key": "com.whiteboard.board.tracker", "host_product": "tracker"}
    shop.ok("POST", f"/vendors/{VENDOR}/apps", "board", tracker_app, status=201)
    before = counts(session_factory)
    listing = server_listing(hosting="datacenter")
    response = shop.call(
        "PUT", "/apps/com.whiteboard.board.tracker/listings/datacenter/draft", "board", {"listing": listing}
    )
    assert response.status_code == 422
    assert response.json()["type"] == "/api/v1/problems/hosting-not-sold-for-host"
    assert counts(session_factory) == before


BAD_APPS = [
    pytest.param(APP | {"key": "Whiteboards"}, 422, "body.key", id="not-reverse-domain"),
    pytest.param(APP | {"key": "whiteboards"}, 422, "body.key", id="one-label"),
    pytest.param(APP | {"key": "com.example.mockups.wiki"}, 409, "body.key", id="key-taken"),
    pytest.param(APP | {"description": "Hi <script>alert(1)</script>"}, 422, "body.description", id="script"),
    pytest.param(
        APP | {"description": '<iframe src="https://x.example">'}, 422, "body.description", id="iframe"
    ),
    pytest.param(APP | {"description": "[x](javascript:alert(1))"}, 422, "body.description", id="js-link"),
    pytest.param(APP | {"host_product": "spreadsheet"}, 422, "body.host_product", id="unknown-host"),
    pytest.param(
        APP | {"links": {"support": "javascript:alert(1)"}}, 422, "body.links.support", id="bad-link"
    ),
]


@pytest.mark.parametrize(("app", "status", "field"), BAD_APPS)
def test_a_bad_app_is_refused_naming_the_field(
    shop: Shop, session_factory: sessionmaker[Session], app: dict[str, Any], status: int, field: str
) -> None:
    before = counts(session_factory)
    response = shop.call("POST", f"/vendors/{VENDOR}/apps", "board", app)
    assert response.status_code == status, response.text
    assert field in fields(response.json()), response.json()
    assert counts(session_factory) == before


def test_a_page_change_with_script_is_refused_and_changes_nothing(shop: Shop) -> None:
    shop.ok("POST", f"/vendors/{VENDOR}/apps", "board", APP, status=201)
    response = shop.call(
        "PATCH", f"/apps/{KEY}", "board", {"description": "<SCRIPT>x</SCRIPT>", "name": "New"}
    )
    assert response.status_code == 422
    assert "body.description" in fields(response.json())
    page = shop.ok("GET", f"/vendors/{VENDOR}/apps", "board")[0]
    assert (page["name"], page["description"]) == (APP["name"], APP["description"])
    changed = shop.ok("PATCH", f"/apps/{KEY}", "board", {"summary": "Whiteboards, now with stickers."})
    assert (changed["summary"], changed["name"]) == ("Whiteboards, now with stickers.", APP["name"])


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "![x](data:text/html;base64,PHNjcmlwdD4=)",
        '<a href="vbscript:x">x</a>',
        "[x](  javascript:alert(1))",
    ],
)
def test_rendered_markdown_never_carries_script_whatever_was_stored(markdown: str) -> None:
    tags = Tags()
    tags.feed(render_markdown(markdown))
    assert "script" not in [tag for tag, _ in tags.found]
    for tag, attributes in tags.found:
        assert not [name for name, _ in attributes if name.startswith("on")], (tag, attributes)
        for name, value in attributes:
            if name in ("href", "src"):
                assert (value or "").split(":")[0] in ("http", "https", "mailto"), (tag, name, value)


class Tags(HTMLParser):
    """The tags of an HTML text with their attributes (escaped text is text, not tags)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def test_markdown_renders_headings_emphasis_and_safe_links() -> None:
    html = render_markdown("# Title\n\n*a* **b** [site](https://example.com) [mail](mailto:a@example.com)")
    assert "<h1>Title</h1>" in html and "<em>a</em>" in html and "<strong>b</strong>" in html
    assert 'href="https://example.com"' in html and 'href="mailto:a@example.com"' in html


def test_a_public_listing_keeps_its_currency(shop: Shop, session_factory: sessionmaker[Session]) -> None:
    shop.ok("POST", f"/vendors/{VENDOR}/apps", "board", APP, status=201)
    shop.publish(KEY, server_listing())
    before = counts(session_factory)
    response = shop.call(
        "PUT", f"/apps/{KEY}/listings/server/draft", "board", {"listing": server_listing(currency="EUR")}
    )
    assert response.status_code == 422
    assert fields(response.json()) == ["body.listing.currency"]
    assert counts(session_factory) == before
