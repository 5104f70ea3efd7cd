"""The catalog read API on the demo catalog, on SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_apps_are_listed_with_listings_prices_and_policies(client: TestClient) -> None:
    response = client.get("/api/v1/apps")
    assert response.status_code == 200
    page = response.json()
    keys = [app["key"] for app in page["items"]]
    assert keys == sorted(keys)
    assert {"com.example.mockups.wiki", "com.example.mockups.tracker"} <= set(keys)
    assert page["total"] == len(keys) >= 3
    listings = sum(len(app["listings"]) for app in page["items"])
    assert listings >= 8


def test_mockups_app_is_sold_for_every_hosting_with_channel_policies(client: TestClient) -> None:
    app = client.get("/api/v1/apps/com.example.mockups.wiki").json()
    by_hosting = {listing["hosting"]: listing for listing in app["listings"]}
    assert set(by_hosting) == {"server", "datacenter", "cloud"}
    server = by_hosting["server"]
    assert server["channel_policy"] == {
        "marketplace": {"sold": True, "tier_must_match_host": True, "max_maintenance_months": 36},
        "direct": {"sold": True, "tier_must_match_host": False, "max_maintenance_months": 12},
    }
    assert [p["tier"] for p in server["prices"]][-1] == "unlimited"
    assert server["prices"][0] == {"tier": "10", "amount": "10.00"}
    cloud = by_hosting["cloud"]
    assert cloud["channel_policy"]["direct"]["sold"] is False
    assert cloud["prices"] is None
    assert cloud["cloud_prices"]["flat_monthly"] == "10.00"
    assert cloud["cloud_prices"]["brackets"][0] == {
        "from_users": 11,
        "to_users": 100,
        "per_user_monthly": "1.50",
    }
    assert [r["version"] for r in server["releases"]] == ["4.2.0", "4.1.0", "4.0.0"]  # newest first


def test_vendor_direct_price_override_is_shown(client: TestClient) -> None:
    app = client.get("/api/v1/apps/io.timekeep.tracker").json()
    server = next(listing for listing in app["listings"] if listing["hosting"] == "server")
    standard = {p["tier"]: p["amount"] for p in server["prices"]}
    direct = {p["tier"]: p["amount"] for p in server["direct_prices"]}
    assert direct["100"] != standard["100"]


def test_filters_and_pagination(client: TestClient) -> None:
    tracker = client.get("/api/v1/apps", params={"host_product": "tracker"}).json()
    assert tracker["items"] and all(a["host_product"]["key"] == "tracker" for a in tracker["items"])
    vendor = client.get("/api/v1/apps", params={"vendor": "example-mockups"}).json()
    assert {a["key"] for a in vendor["items"]} == {"com.example.mockups.wiki", "com.example.mockups.tracker"}
    datacenter = client.get("/api/v1/apps", params={"hosting": "datacenter"}).json()
    assert all(any(li["hosting"] == "datacenter" for li in a["listings"]) for a in datacenter["items"])
    text = client.get("/api/v1/apps", params={"q": "MOCKUPS"}).json()
    assert text["total"] == 2
    first = client.get("/api/v1/apps", params={"limit": 2}).json()
    second = client.get("/api/v1/apps", params={"limit": 2, "offset": 2}).json()
    assert len(first["items"]) == 2
    assert first["total"] == second["total"]
    assert not {a["key"] for a in first["items"]} & {a["key"] for a in second["items"]}


def test_host_products_are_sold_like_apps(client: TestClient) -> None:
    hosts = client.get("/api/v1/host-products").json()
    assert {h["key"] for h in hosts} == {"wiki", "tracker"}
    wiki = client.get("/api/v1/host-products/wiki").json()
    assert wiki["user_tiers"] == ["10", "25", "50", "100", "250", "500", "2000", "10000", "unlimited"]
    assert {li["hosting"] for li in wiki["listings"]} == {"server", "datacenter", "cloud"}
    assert all(li["channel_policy"]["direct"]["sold"] is False for li in wiki["listings"])


def test_unknown_app_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/api/v1/apps/com.example.nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/api/v1/problems/not-found"
    assert "com.example.nope" in problem["detail"]


def test_bad_query_parameters_are_422_problems(client: TestClient) -> None:
    for params in ({"hosting": "mainframe"}, {"limit": 0}, {"offset": -1}):
        response = client.get("/api/v1/apps", params=params)
        assert response.status_code == 422, params
        assert response.json()["type"] == "/api/v1/problems/invalid-input"
