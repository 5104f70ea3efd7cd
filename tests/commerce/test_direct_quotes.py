"""A direct quote is billed by one vendor: apps of two vendors cannot share it, even where both fit the host."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient

from support.world import World

ONE_VENDOR = (
    "A direct purchase is billed by one vendor, but these items come from several. Price each vendor's apps "
    "separately, or buy them together on the marketplace."
)


def test_a_direct_quote_holds_the_apps_of_one_vendor_only(shop: TestClient, world: World) -> None:
    registered = shop.post(
        f"/api/v1/organisations/{world.acme.slug}/host-instances",
        headers=world.auth("acme_admin"),
        json={
            "host_product": "tracker",
            "hosting": "server",
            "server_id": "ACME-TRACKER-0001",
            "user_tier": 100,
            "host_maintenance_end": "2027-06-30",
        },
    )
    assert registered.status_code == 201, registered.text
    mockups = {"action": "new", "product_key": "com.example.mockups.tracker", "tier": "100"}
    timekeep = {"action": "new", "product_key": "io.timekeep.tracker", "tier": "100"}

    def tracker_quote(channel: str, *items: dict[str, str]) -> httpx.Response:
        body = {"host_instance_id": registered.json()["id"], "channel": channel, "items": list(items)}
        return shop.post("/api/v1/quotes", json=body, headers=world.auth("acme_admin"))

    # Both apps are for the tracker and sold direct: each alone is quoted, and together on the marketplace.
    for item in (mockups, timekeep):
        alone = tracker_quote("direct", item)
        assert alone.status_code == 201, alone.text
    together = tracker_quote("marketplace", mockups, timekeep)
    assert together.status_code == 201, together.text

    mixed = tracker_quote("direct", mockups, timekeep)
    assert mixed.status_code == 422
    assert mixed.json()["detail"] == ONE_VENDOR
    quotes = shop.get("/api/v1/quotes?include=total", headers=world.auth("acme_admin")).json()
    assert quotes["total"] == 3  # the refused one left nothing behind
