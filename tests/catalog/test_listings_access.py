"""Who may touch apps, drafts and reviews: a vendor's members its own, operator staff all, customers none; only
operator staff review. Everyone else gets 404, as for an app that does not exist."""

# ruff: noqa: F811  (the fixtures come from listings_world)
from __future__ import annotations

from catalog.listings_world import (  # noqa: F401  (fixtures)
    APP,
    KEY,
    VENDOR,
    Shop,
    clock,
    cloud_listing,
    server_listing,
    shop,
    world,
)
from support.access import Endpoint, assert_access

MANAGERS = {"operator", "board"}


def test_the_access_matrix_of_apps_drafts_and_review(shop: Shop) -> None:
    shop.ok("POST", f"/vendors/{VENDOR}/apps", "board", APP, status=201)
    path = f"/apps/{KEY}/listings"
    server = shop.ok("PUT", f"{path}/server/draft", "board", {"listing": server_listing()})
    shop.ok("PUT", f"{path}/datacenter/draft", "board", {"listing": server_listing(hosting="datacenter")})
    cloud = shop.ok("PUT", f"{path}/cloud/draft", "board", {"listing": cloud_listing()})
    shop.ok("POST", f"{path}/cloud/draft/submit", "board")
    others = set(shop.tokens) - {"operator", "acme_read_only"}

    endpoints = [
        Endpoint(
            "POST",
            "/api/v1/vendors/{slug}/apps",
            allowed=MANAGERS,
            body=lambda caller: APP | {"key": f"com.whiteboard.{caller.replace('_', '-')}.wiki"},
        ),
        Endpoint("GET", "/api/v1/vendors/{slug}/apps", allowed=MANAGERS),
        Endpoint("PATCH", "/api/v1/apps/{key}", allowed=MANAGERS, body={"summary": "Sketch together."}),
        Endpoint("POST", "/api/v1/apps/{key}/visibility", allowed=MANAGERS, body={"visibility": "public"}),
        Endpoint(
            "PUT",
            "/api/v1/apps/{key}/listings/server/draft",
            allowed=MANAGERS,
            body={"listing": server_listing()},
        ),
        Endpoint("GET", "/api/v1/apps/{key}/listings/server/draft", allowed=MANAGERS),
        Endpoint("GET", "/api/v1/apps/{key}/listings/server/revisions", allowed=MANAGERS),
        Endpoint("POST", "/api/v1/apps/{key}/listings/server/draft/submit", allowed=MANAGERS),
        Endpoint("POST", "/api/v1/apps/{key}/listings/datacenter/draft/withdraw", allowed=MANAGERS),
        Endpoint("GET", "/api/v1/review-queue", allowed={"operator"}, forbidden=others),
        Endpoint(
            "POST",
            "/api/v1/revisions/{server}/approve",
            allowed={"operator"},
            forbidden={"board"},
            body={"note": "fine"},
        ),
        Endpoint(
            "POST",
            "/api/v1/revisions/{cloud}/reject",
            allowed={"operator"},
            forbidden={"board"},
            body={"note": "Add a support link."},
        ),
    ]
    assert_access(
        shop.client,
        endpoints,
        shop.tokens,
        read_only={"acme_read_only": "acme_admin"},
        params={"slug": VENDOR, "key": KEY, "server": server["id"], "cloud": cloud["id"]},
    )


def test_another_vendor_cannot_create_apps_under_this_vendor_nor_see_its_drafts(shop: Shop) -> None:
    shop.ok("POST", f"/vendors/{VENDOR}/apps", "board", APP, status=201)
    shop.ok("PUT", f"/apps/{KEY}/listings/server/draft", "board", {"listing": server_listing()})
    for caller in ("rival", "mockups_vendor", "acme_admin"):
        draft = shop.call("GET", f"/apps/{KEY}/listings/server/draft", caller)
        assert (draft.status_code, draft.json()["type"]) == (404, "/api/v1/problems/app-not-found")
        created = shop.call("POST", f"/vendors/{VENDOR}/apps", caller, APP | {"key": "com.rival.steal.wiki"})
        assert created.status_code == 404
    # The same 404 as for an app that does not exist: nothing leaks.
    missing = shop.call("GET", "/apps/com.nobody.nothing.wiki/listings/server/draft", "rival")
    assert missing.json()["type"] == "/api/v1/problems/app-not-found"
