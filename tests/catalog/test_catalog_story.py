"""Issue #10's story in one piece, through HTTP from the first request: the operator creates a vendor; its
member lists an app with a server and a cloud listing and submits them; nothing sells until the operator
approves; then the app sells on the marketplace, and directly once the vendor opens its direct store, and both
keys validate; a price rise approved with notice leaves a quote made before it at the old price; the vendor
retires the app and its licenses still validate VALID."""

# ruff: noqa: F811  (the fixtures come from listings_world)
from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from catalog.listings_world import (  # noqa: F401  (fixtures)
    APP,
    SERVER_PRICES,
    Shop,
    clock,
    cloud_listing,
    server_listing,
    shop,
    world,
)
from mercato.accounts.api_tokens import TokenService
from mercato.accounts.service import AccountService
from mercato.clock import FixedClock
from support.world import add_second_wiki_server

SLUG = "canvas-works"
KEY = "com.canvasworks.canvas.wiki"
MEMBER = "dev@canvasworks.example"


def test_a_vendor_created_over_http_lists_sells_raises_prices_and_retires_an_app(
    shop: Shop, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    vendor = {
        "slug": SLUG,
        "name": "Canvas Works",
        "legal_name": "Canvas Works Ltd",
        "email": "sales@canvasworks.example",
        "members": [MEMBER],
    }
    created = shop.ok("POST", "/vendors", "operator", vendor, status=201)
    assert (created["status"], created["direct_store"]) == ("active", False)
    with (
        session_factory() as session,
        session.begin(),
    ):  # the member's token, as `mercato tokens create` makes it
        user = AccountService(session).user_by_email(MEMBER)
        shop.tokens["canvas"] = TokenService(session).create(user, scopes=["read", "write"], name="ci").token

    app = APP | {"key": KEY, "name": "Canvas for Wiki"}
    assert shop.ok("POST", f"/vendors/{SLUG}/apps", "canvas", app, status=201)["key"] == KEY
    revisions = {}
    for listing in (server_listing(), cloud_listing()):
        hosting = listing["hosting"]
        shop.ok("PUT", f"/apps/{KEY}/listings/{hosting}/draft", "canvas", {"listing": listing})
        revisions[hosting] = shop.ok("POST", f"/apps/{KEY}/listings/{hosting}/draft/submit", "canvas")["id"]

    refused = shop.quote([{"action": "new", "product_key": KEY, "tier": "100"}])
    assert refused.status_code == 422 and refused.json()["type"].endswith("/listing-not-on-sale")

    for revision in revisions.values():
        shop.ok("POST", f"/revisions/{revision}/approve", "operator", {"note": "Welcome."})
    before = shop.quote([{"action": "new", "product_key": KEY, "tier": "100"}])
    assert before.status_code == 201 and before.json()["lines"][0]["amount"] == "900.00"

    # A price rise, proposed with its date and approved: the quote made before it keeps the old price.
    effective = clock.today() + timedelta(days=30)
    risen = server_listing(prices=SERVER_PRICES | {"100": "1000.00", "250": "1900.00"})
    shop.ok("PUT", f"/apps/{KEY}/listings/server/draft", "canvas", {"listing": risen})
    change = shop.ok(
        "POST",
        f"/apps/{KEY}/listings/server/draft/submit",
        "canvas",
        {"prices_effective_from": str(effective)},
    )
    shop.ok("POST", f"/revisions/{change['id']}/approve", "operator", {"note": "Announced."})
    clock.advance(days=30)
    assert shop.quote([{"action": "new", "product_key": KEY, "tier": "100"}]).json()["lines"][0][
        "amount"
    ] == ("1000.00")
    accepted = shop.ok("POST", f"/quotes/{before.json()['id']}/accept", "acme_admin", status=201)["invoice"]
    assert accepted["total"] == "900.00", accepted
    payment = {"amount": accepted["amount_due"], "provider": "bank_transfer", "reference": "TRF-STORY"}
    marketplace = shop.ok("POST", f"/invoices/{accepted['id']}/payments", "operator", payment)
    assert marketplace["seller"] == "operator"

    with session_factory() as session, session.begin():
        add_second_wiki_server(session, shop.world)  # an app is licensed once per host instance
    # The listing offers the direct channel, but the vendor sells on its own bills only with its store open.
    closed = shop.quote(
        [{"action": "new", "product_key": KEY, "tier": "10"}], channel="direct", instance="wiki_lab"
    )
    assert closed.status_code == 422 and "no direct store open" in closed.json()["detail"]
    opened = shop.ok("POST", f"/vendors/{SLUG}/direct-store", "canvas", {"enabled": True})
    assert opened["direct_store"] is True
    shop.tokens["board"] = shop.tokens["canvas"]  # Shop.buy pays direct invoices as the vendor's member
    direct = shop.buy(
        [{"action": "new", "product_key": KEY, "tier": "10"}], channel="direct", instance="wiki_lab"
    )
    assert (direct["seller"], direct["lines"][0]["amount"]) == (f"vendor:{SLUG}", "20.00")

    keys = []
    for invoice, host in ((marketplace, {}), (direct, {"app_users": 10, "server_id": "ACME-WIKI-LAB"})):
        detail = shop.license(invoice["lines"][0]["license"])
        keys.append((detail["keys"][-1]["key"], host))
        verdict = shop.validate(detail["keys"][-1]["key"], **host, app_key=KEY)
        assert verdict["status"] == "VALID", verdict

    # Retired: not sold to anyone new, and the keys already sold still validate.
    assert (
        shop.ok("POST", f"/apps/{KEY}/visibility", "canvas", {"visibility": "retired"})["visibility"]
        == "retired"
    )
    assert shop.client.get(f"/api/v1/apps/{KEY}").status_code == 404
    for key, host in keys:
        assert shop.validate(key, **host, app_key=KEY)["status"] == "VALID"
