"""Issue #10, through HTTP: a new vendor lists an app with a server and a cloud listing and submits them; nobody
can buy it until the operator approves; then it sells on the marketplace and directly and its keys validate; a
price rise approved with notice leaves earlier quotes at the old price; a hidden or retired app sells nothing new
but its licenses keep validating, renewing and upgrading."""

# ruff: noqa: F811  (the fixtures come from listings_world)
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from billing.test_billing_run import run
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
from mercato.catalog.listings_errors import ListingNotOnSale
from mercato.catalog.models import Listing, ListingRevision
from mercato.clock import FixedClock
from mercato.licenses.service import IssueRequest, LicenseService
from mercato.pricing import LicenseTypeNotAllowed
from support.licenses import license_services
from support.world import add_second_wiki_server

TODAY = date(2026, 11, 26)


def test_a_new_app_is_sold_only_after_the_operator_approves_it_then_in_both_channels(
    shop: Shop, session_factory: sessionmaker[Session]
) -> None:
    created = shop.ok("POST", f"/vendors/{VENDOR}/apps", "board", APP, status=201)
    assert (created["key"], created["visibility"], created["listings"]) == (KEY, "public", [])
    assert created["description_html"].startswith("<h2>Whiteboards</h2>")
    again = shop.ok("POST", f"/vendors/{VENDOR}/apps", "board", APP, status=200)  # a retry: the same app
    assert again["key"] == KEY

    server = shop.ok("PUT", f"/apps/{KEY}/listings/server/draft", "board", {"listing": server_listing()})
    cloud = shop.ok("PUT", f"/apps/{KEY}/listings/cloud/draft", "board", {"listing": cloud_listing()})
    assert (server["status"], cloud["status"]) == ("draft", "draft")
    for hosting in ("server", "cloud"):
        submitted = shop.ok("POST", f"/apps/{KEY}/listings/{hosting}/draft/submit", "board")
        assert submitted["status"] == "submitted"
        assert (
            shop.ok("POST", f"/apps/{KEY}/listings/{hosting}/draft/submit", "board")["id"] == submitted["id"]
        )

    # Submitted is not sold: not in the catalog, not quoted, not priced.
    assert shop.client.get(f"/api/v1/apps/{KEY}").status_code == 404
    assert KEY not in [a["key"] for a in shop.client.get("/api/v1/apps?limit=200").json()["items"]]
    refused = shop.quote([{"action": "new", "product_key": KEY, "tier": "100"}])
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"] == "/api/v1/problems/listing-not-on-sale"
    assert "no listing of it is published yet" in refused.json()["detail"]
    evaluation = shop.quote([{"action": "evaluation", "product_key": KEY}])
    assert evaluation.json()["type"] == "/api/v1/problems/listing-not-on-sale"

    queue = shop.ok("GET", "/review-queue", "operator")
    assert sorted((r["app_key"], r["hosting"]) for r in queue["items"]) == [(KEY, "cloud"), (KEY, "server")]
    assert shop.call("GET", "/review-queue", "board").status_code == 403
    assert shop.call("POST", f"/revisions/{server['id']}/approve", "board", {}).status_code == 403

    approved = shop.ok("POST", f"/revisions/{server['id']}/approve", "operator", {"note": "Looks right."})
    assert (approved["status"], approved["reviewer_note"]) == ("approved", "Looks right.")
    assert shop.ok("POST", f"/revisions/{server['id']}/approve", "operator", {"note": "x"}) == approved
    shop.ok("POST", f"/revisions/{cloud['id']}/approve", "operator", {})
    with session_factory() as session:
        assert (
            session.scalar(select(func.count()).select_from(Listing).where(Listing.product_key == KEY)) == 2
        )

    public = shop.client.get(f"/api/v1/apps/{KEY}").json()
    assert [listing["hosting"] for listing in public["listings"]] == ["cloud", "server"]
    assert public["description"] == APP["description"]
    assert (
        '<a href="https://whiteboard.example/guide" rel="nofollow noopener noreferrer">guide</a>'
        in (public["description_html"])
    )
    server_out = next(listing for listing in public["listings"] if listing["hosting"] == "server")
    assert server_out["channel_policy"]["direct"]["sold"] is True

    marketplace = shop.buy([{"action": "new", "product_key": KEY, "tier": "100"}])
    assert (marketplace["seller"], marketplace["lines"][0]["amount"]) == ("operator", "900.00")
    with session_factory() as session, session.begin():
        add_second_wiki_server(session, shop.world)  # an app is licensed once per host instance
    direct = shop.buy(
        [{"action": "new", "product_key": KEY, "tier": "10"}], channel="direct", instance="wiki_lab"
    )
    assert (direct["seller"], direct["lines"][0]["amount"]) == (f"vendor:{VENDOR}", "20.00")
    for invoice, host in ((marketplace, {}), (direct, {"app_users": 10, "server_id": "ACME-WIKI-LAB"})):
        detail = shop.license(invoice["lines"][0]["license"])
        assert shop.validate(detail["keys"][-1]["key"], **host)["status"] == "VALID"
    subscription = shop.buy([{"action": "new", "product_key": KEY}], instance="wiki_cloud")
    assert subscription["lines"][0]["license"]


def test_a_price_rise_takes_effect_after_its_notice_and_a_quote_made_before_keeps_the_old_price(
    shop: Shop, clock: FixedClock
) -> None:
    shop.ok("POST", f"/vendors/{VENDOR}/apps", "board", APP, status=201)
    shop.publish(KEY, server_listing())
    # A new draft of a published listing starts from the listing as it is today.
    started = shop.ok("PUT", f"/apps/{KEY}/listings/server/draft", "board", {})
    assert started["listing"]["prices"]["100"] == "900.00"
    risen = server_listing(prices=SERVER_PRICES | {"100": "1000.00", "250": "1900.00"})
    too_soon = shop.call(
        "PUT",
        f"/apps/{KEY}/listings/server/draft",
        "board",
        {"listing": risen, "prices_effective_from": str(TODAY + timedelta(days=29))},
    )
    assert too_soon.status_code == 422
    assert too_soon.json()["type"] == "/api/v1/problems/price-change-too-soon"
    assert too_soon.json()["errors"][0]["field"] == "body.prices_effective_from"

    effective = TODAY + timedelta(days=30)
    shop.ok("PUT", f"/apps/{KEY}/listings/server/draft", "board", {"listing": risen})
    revision = shop.ok(
        "POST",
        f"/apps/{KEY}/listings/server/draft/submit",
        "board",
        {"prices_effective_from": str(effective)},
    )
    assert revision["prices_effective_from"] == str(effective)
    before = shop.quote([{"action": "new", "product_key": KEY, "tier": "100"}])
    assert before.status_code == 201, before.text
    earlier = shop.call(
        "POST", f"/revisions/{revision['id']}/approve", "operator", {"prices_effective_from": "2026-12-01"}
    )
    assert earlier.status_code == 422 and earlier.json()["errors"][0]["field"] == "body.prices_effective_from"
    approved = shop.ok("POST", f"/revisions/{revision['id']}/approve", "operator", {"note": "Announced."})
    assert approved["prices_effective_from"] == str(effective)

    public = shop.client.get(f"/api/v1/apps/{KEY}").json()["listings"][0]
    assert next(p["amount"] for p in public["prices"] if p["tier"] == "100") == "900.00"
    [change] = public["price_changes"]
    assert change["effective_from"] == str(effective)
    assert next(p["amount"] for p in change["prices"] if p["tier"] == "100") == "1000.00"

    def preview(on: date) -> str:
        body = {
            "channel": "marketplace",
            "date": str(on),
            "host": {"product": "wiki", "hosting": "server", "user_tier": "100"},
            "items": [{"action": "new", "product_key": KEY, "tier": "100"}],
        }
        return str(shop.client.post("/api/v1/pricing/preview", json=body).json()["lines"][0]["amount"])

    assert (preview(effective - timedelta(days=1)), preview(effective)) == ("900.00", "1000.00")
    clock.advance(days=30)
    kept = shop.ok("GET", f"/quotes/{before.json()['id']}", "acme_admin")
    assert kept["lines"][0]["amount"] == "900.00"
    after = shop.quote([{"action": "new", "product_key": KEY, "tier": "100"}])
    assert after.json()["lines"][0]["amount"] == "1000.00"


def test_a_retired_app_sells_nothing_new_but_its_licenses_validate_renew_and_upgrade(
    shop: Shop, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    shop.ok("POST", f"/vendors/{VENDOR}/apps", "board", APP, status=201)
    shop.publish()
    bought = shop.buy([{"action": "new", "product_key": KEY, "tier": "100"}])
    entitlement = bought["lines"][0]["license"]
    cloud = shop.buy([{"action": "new", "product_key": KEY}], instance="wiki_cloud")
    key = shop.license(entitlement)["keys"][-1]["key"]

    hidden = shop.ok("POST", f"/apps/{KEY}/visibility", "board", {"visibility": "hidden"})
    assert hidden["visibility"] == "hidden"
    assert hidden["listings"][0]["on_sale"] is False
    assert shop.client.get(f"/api/v1/apps/{KEY}").status_code == 404
    with session_factory() as session, session.begin():
        add_second_wiki_server(session, shop.world)  # a host without the app
    refused = shop.quote([{"action": "new", "product_key": KEY, "tier": "250"}], instance="wiki_lab")
    assert refused.json()["type"] == "/api/v1/problems/listing-not-on-sale"
    assert "hidden" in refused.json()["detail"]
    # The billing run renews the cloud subscription of the hidden app on the site's billing date.
    report = run(session_factory, date(2026, 12, 10))
    assert len(report.renewal_invoices) == 1

    shop.ok("POST", f"/apps/{KEY}/visibility", "board", {"visibility": "retired"})
    assert (
        shop.ok("POST", f"/apps/{KEY}/visibility", "board", {"visibility": "retired"})["visibility"]
        == "retired"
    )
    assert shop.validate(key)["status"] == "VALID"
    upgrade = shop.quote([{"action": "upgrade", "license": entitlement, "tier": "250"}])
    assert upgrade.status_code == 201, upgrade.text
    clock.advance(days=300)  # within the renewal window
    renewal = shop.quote([{"action": "renewal", "license": entitlement, "years": 1}])
    assert renewal.status_code == 201, renewal.text
    assert renewal.json()["lines"][0]["amount"] == "450.00"  # 50% of the 100-user price
    new = shop.quote([{"action": "new", "product_key": KEY, "tier": "100"}], instance="globex_wiki")
    assert new.status_code in (404, 422)
    assert cloud["lines"][0]["license"]

    back = shop.call("POST", f"/apps/{KEY}/visibility", "board", {"visibility": "public"})
    assert back.status_code == 403 and back.json()["type"] == "/api/v1/problems/retired-app-final"
    assert (
        shop.ok("POST", f"/apps/{KEY}/visibility", "operator", {"visibility": "public"})["visibility"]
        == "public"
    )
    assert shop.client.get(f"/api/v1/apps/{KEY}").status_code == 200


def test_withdraw_reject_and_history(shop: Shop, session_factory: sessionmaker[Session]) -> None:
    shop.ok("POST", f"/vendors/{VENDOR}/apps", "board", APP, status=201)
    path = f"/apps/{KEY}/listings/server"
    first = shop.ok("PUT", f"{path}/draft", "board", {"listing": server_listing()})
    withdrawn = shop.ok("POST", f"{path}/draft/withdraw", "board")
    assert withdrawn["status"] == "withdrawn"
    assert shop.ok("POST", f"{path}/draft/withdraw", "board")["id"] == first["id"]  # again: the same answer
    assert shop.call("GET", f"{path}/draft", "board").status_code == 404

    second = shop.ok("PUT", f"{path}/draft", "board", {"listing": server_listing()})
    assert second["id"] != first["id"]
    shop.ok("POST", f"{path}/draft/submit", "board")
    under_review = shop.call("PUT", f"{path}/draft", "board", {"listing": server_listing(license_types=[])})
    assert under_review.status_code == 409
    no_note = shop.call("POST", f"/revisions/{second['id']}/reject", "operator", {"note": "  "})
    assert no_note.status_code == 422
    rejected = shop.ok(
        "POST", f"/revisions/{second['id']}/reject", "operator", {"note": "Add a support link."}
    )
    assert (rejected["status"], rejected["reviewer_note"]) == ("rejected", "Add a support link.")
    assert shop.ok("POST", f"/revisions/{second['id']}/reject", "operator", {"note": "again"}) == rejected
    conflict = shop.call("POST", f"/revisions/{second['id']}/approve", "operator", {})
    assert conflict.status_code == 409

    history = shop.ok("GET", f"{path}/revisions", "board")
    assert [(r["status"], r["reviewer_note"]) for r in history] == [
        ("rejected", "Add a support link."),
        ("withdrawn", ""),
    ]
    assert history[0]["reviewed_by"] is not None and history[0]["submitted_at"] is not None
    with session_factory() as session:
        assert (
            session.scalar(select(func.count()).select_from(Listing).where(Listing.product_key == KEY)) == 0
        )
        assert session.scalar(select(func.count()).select_from(ListingRevision)) == 2


def test_a_licensed_users_listing_sells_a_tier_below_the_hosts_on_the_marketplace(shop: Shop) -> None:
    shop.ok("POST", f"/vendors/{VENDOR}/apps", "board", APP, status=201)
    shop.publish(KEY, server_listing(marketplace={"sold": True, "licensed_users": True}))
    default = shop.client.get(f"/api/v1/apps/{KEY}").json()["listings"][0]["channel_policy"]["marketplace"]
    assert default["tier_must_match_host"] is False
    invoice = shop.buy([{"action": "new", "product_key": KEY, "tier": "25"}])  # the host has 100 users
    assert invoice["lines"][0]["amount"] == "250.00"
    key = shop.license(invoice["lines"][0]["license"])["keys"][-1]["key"]
    # The key says its listing sells licensed users: below the host's tier is fine, the app's users count.
    assert shop.validate(key)["status"] == "VALID"
    assert shop.validate(key)["license"]["licensed_users"] is True


def test_a_licensed_users_key_below_the_hosts_tier_validates(shop: Shop) -> None:
    shop.ok("POST", f"/vendors/{VENDOR}/apps", "board", APP, status=201)
    shop.publish(KEY, server_listing(marketplace={"sold": True, "licensed_users": True}))
    invoice = shop.buy([{"action": "new", "product_key": KEY, "tier": "25"}])
    key = shop.license(invoice["lines"][0]["license"])["keys"][-1]["key"]
    assert shop.validate(key, app_users=20)["status"] == "VALID"
    assert shop.validate(key, app_users=25)["status"] == "VALID"
    exceeded = shop.validate(key, app_users=26)
    assert exceeded["status"] == "USERS_EXCEEDED"
    assert "A licensed-users license admits at most its tier" in exceeded["message"]


def test_a_marketplace_key_of_a_listing_without_licensed_users_has_no_claim(shop: Shop) -> None:
    shop.ok("POST", f"/vendors/{VENDOR}/apps", "board", APP, status=201)
    shop.publish(KEY, server_listing())
    invoice = shop.buy([{"action": "new", "product_key": KEY, "tier": "100"}])
    key = shop.license(invoice["lines"][0]["license"])["keys"][-1]["key"]
    answer = shop.validate(key, app_users=500)
    assert answer["status"] == "VALID"
    assert "licensed_users" not in answer["license"]


def test_support_staff_cannot_issue_a_license_of_a_hidden_app_or_of_a_type_not_offered(
    shop: Shop, session_factory: sessionmaker[Session]
) -> None:
    shop.ok("POST", f"/vendors/{VENDOR}/apps", "board", APP, status=201)
    shop.publish(KEY, server_listing(license_types=["academic"]))

    def issue(license_type: str = "commercial") -> None:
        with session_factory() as session:
            LicenseService(session, license_services()).issue(
                IssueRequest(
                    KEY, "server", "marketplace", 100, license_type, "ACME-WIKI-0001", date(2027, 11, 26)
                )
            )

    with pytest.raises(LicenseTypeNotAllowed):
        issue("community")
    issue("academic")
    shop.ok("POST", f"/apps/{KEY}/visibility", "board", {"visibility": "hidden"})
    with pytest.raises(ListingNotOnSale, match="hidden"):
        issue()


def test_a_quote_for_a_license_type_the_listing_does_not_offer_is_refused(shop: Shop) -> None:
    shop.ok("POST", f"/vendors/{VENDOR}/apps", "board", APP, status=201)
    shop.publish(KEY, server_listing(license_types=["academic"]))
    refused = shop.quote([{"action": "new", "product_key": KEY, "tier": "100", "license_type": "community"}])
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["type"] == "/api/v1/problems/license-type-not-allowed"
    assert "not sold with community licenses" in problem["detail"]
