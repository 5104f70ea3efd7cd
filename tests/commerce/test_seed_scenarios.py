"""The seed FAQ, end to end through the HTTP API: what a buyer of server and cloud apps can do in each channel."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from mercato.clock import FixedClock
from support.world import World, add_second_wiki_server

MOCKUPS = "com.example.mockups.wiki"
SSO = "com.gatekeeper.sso.wiki"


def quote(
    shop: TestClient,
    world: World,
    items: list[dict[str, Any]],
    channel: str = "marketplace",
    instance: str = "wiki_server",
    role: str = "acme_admin",
) -> Any:
    body = {"host_instance_id": str(getattr(world, instance).id), "channel": channel, "items": items}
    return shop.post("/api/v1/quotes", json=body, headers=world.auth(role))


def buy(
    shop: TestClient,
    world: World,
    items: list[dict[str, Any]],
    channel: str = "marketplace",
    instance: str = "wiki_server",
) -> dict[str, Any]:
    """Quote, accept and pay in full (by the seller); returns the paid invoice."""
    created = quote(shop, world, items, channel, instance)
    assert created.status_code == 201, created.text
    accepted = shop.post(f"/api/v1/quotes/{created.json()['id']}/accept", headers=world.auth("acme_admin"))
    assert accepted.status_code == 201, accepted.text
    invoice = accepted.json()["invoice"]
    if invoice["status"] == "paid":
        return dict(invoice)
    payer = "operator" if invoice["seller"] == "operator" else "mockups_vendor"
    paid = shop.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        json={"amount": invoice["amount_due"], "provider": "bank_transfer", "reference": "TRF-1"},
        headers=world.auth(payer),
    )
    assert paid.status_code == 200, paid.text
    return dict(paid.json())


def license_detail(shop: TestClient, world: World, entitlement: str) -> Any:
    response = shop.get(f"/api/v1/licenses/{entitlement}", headers=world.auth("acme_admin"))
    assert response.status_code == 200, response.text
    return response.json()


def validate(shop: TestClient, key: str, **host: Any) -> Any:
    body = {
        "key": key,
        "app_key": MOCKUPS,
        "hosting": "server",
        "server_id": "ACME-WIKI-0001",
        "host_tier": "100",
        "host_license_type": "commercial",
    } | host
    return shop.post("/api/v1/licenses/validate", json=body).json()


def test_marketplace_purchase_puts_host_license_and_app_on_one_invoice(
    shop: TestClient, world: World
) -> None:
    invoice = buy(
        shop,
        world,
        [
            {"action": "new", "product_key": "wiki", "tier": "100"},
            {"action": "new", "product_key": MOCKUPS, "tier": "100"},
        ],
    )
    assert invoice["seller"] == "operator"
    assert invoice["number"].startswith("MKT-2026-")
    assert [line["amount"] for line in invoice["lines"]] == ["3300.00", "1100.00"]
    assert Decimal(invoice["total"]) == sum(Decimal(line["amount"]) for line in invoice["lines"])
    host_line, app_line = invoice["lines"]
    assert host_line["revenue_split"] is None
    assert app_line["revenue_split"] == {
        "vendor_share_rate": "0.7500",
        "vendor_amount": "825.00",
        "operator_amount": "275.00",
    }
    assert invoice["status"] == "paid" and invoice["amount_due"] == "0.00"
    app_license = license_detail(shop, world, app_line["license"])
    assert app_license["channel"] == "marketplace" and app_license["issuer"] == "operator"
    assert app_license["maintenance_end"] == "2027-11-26"
    assert [t["kind"] for t in app_license["history"]] == ["new"]
    [key] = app_license["keys"]
    assert validate(shop, key["key"])["status"] == "VALID"


def test_direct_purchase_of_10_user_app_for_100_user_host(shop: TestClient, world: World) -> None:
    invoice = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "10"}], channel="direct")
    assert invoice["seller"] == "vendor:example-mockups"
    assert invoice["number"].startswith("EXAMPLE-MOCKUPS-2026-")
    [line] = invoice["lines"]
    assert line["amount"] == "10.00" and line["revenue_split"] is None
    detail = license_detail(shop, world, line["license"])
    assert (detail["channel"], detail["issuer"], detail["tier"]) == ("direct", "vendor:example-mockups", "10")
    key = detail["keys"][0]["key"]
    assert validate(shop, key, app_users=10)["status"] == "VALID"
    assert validate(shop, key, app_users=11)["status"] == "USERS_EXCEEDED"


def test_marketplace_refuses_a_smaller_tier_than_the_host_and_offers_the_matching_one(
    shop: TestClient, world: World
) -> None:
    response = quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "10"}])
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "/api/v1/problems/tier-mismatch"
    assert problem["suggested_tier"] == "100 users" and problem["suggested_price"] == "USD 1,100.00"
    assert shop.get("/api/v1/quotes?include=total", headers=world.auth("acme_admin")).json()["total"] == 0


def test_three_years_of_maintenance_at_once_on_the_marketplace_but_not_direct(
    shop: TestClient, world: World, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session, session.begin():
        add_second_wiki_server(session, world)  # the app is licensed once per host: the direct one goes there
    marketplace = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    direct = buy(
        shop,
        world,
        [{"action": "new", "product_key": MOCKUPS, "tier": "25"}],
        channel="direct",
        instance="wiki_lab",
    )
    clock.advance(days=340)  # 2027-11-01: the first renewal reminders have gone out
    three_years = quote(
        shop, world, [{"action": "renewal", "license": marketplace["lines"][0]["license"], "years": 3}]
    )
    assert three_years.status_code == 201, three_years.text
    line = three_years.json()["lines"][0]
    assert (line["period_start"], line["period_end"], line["amount"]) == (
        "2027-11-26",
        "2030-11-26",
        "1650.00",
    )
    refused = quote(
        shop,
        world,
        [{"action": "renewal", "license": direct["lines"][0]["license"], "years": 3}],
        channel="direct",
        instance="wiki_lab",
    )
    assert refused.status_code == 422
    assert refused.json()["type"] == "/api/v1/problems/maintenance-cap-exceeded"
    one_year = quote(
        shop, world, [{"action": "renewal", "license": direct["lines"][0]["license"]}], "direct", "wiki_lab"
    )
    assert one_year.status_code == 201, one_year.text


def test_co_terming_apps_of_two_vendors_to_the_host_maintenance_end_on_one_quote(
    shop: TestClient, world: World
) -> None:
    bought = buy(
        shop,
        world,
        [
            {"action": "new", "product_key": MOCKUPS, "tier": "100"},
            {"action": "new", "product_key": SSO, "tier": "100"},
        ],
    )
    co_term = quote(shop, world, [{"action": "co_term"}])
    assert co_term.status_code == 201, co_term.text
    lines = co_term.json()["lines"]
    assert {line["product_key"] for line in lines} == {MOCKUPS, SSO}
    assert {(line["period_start"], line["period_end"]) for line in lines} == {("2027-11-26", "2028-03-31")}
    # 50% of 1,100.00 × 126/365 = 189.86; 50% of 1,900.00 × 126/365 = 327.95
    assert [line["amount"] for line in lines] == ["189.86", "327.95"]
    accepted = shop.post(f"/api/v1/quotes/{co_term.json()['id']}/accept", headers=world.auth("acme_admin"))
    invoice = accepted.json()["invoice"]
    shop.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        headers=world.auth("operator"),
        json={"amount": invoice["total"], "reference": "TRF-2"},
    )
    for line in bought["lines"]:
        detail = license_detail(shop, world, line["license"])
        assert detail["maintenance_end"] == "2028-03-31"
        assert [t["kind"] for t in detail["history"]] == ["new", "co_term"]
        assert [k["state"] for k in detail["keys"]] == ["superseded", "current"]


def test_a_cloud_app_is_sold_only_through_the_marketplace(shop: TestClient, world: World) -> None:
    item = [{"action": "new", "product_key": MOCKUPS}]
    marketplace = quote(shop, world, item, instance="wiki_cloud")
    assert marketplace.status_code == 201, marketplace.text
    [line] = marketplace.json()["lines"]
    assert line["action"] == "cloud_subscription" and line["users"] == 40
    assert line["revenue_split"]["vendor_share_rate"] == "0.8500"
    direct = quote(shop, world, item, channel="direct", instance="wiki_cloud")
    assert direct.status_code == 422
    assert direct.json()["type"] == "/api/v1/problems/channel-not-allowed"


def test_an_evaluation_is_free_and_its_key_is_issued_on_acceptance(shop: TestClient, world: World) -> None:
    invoice = buy(shop, world, [{"action": "evaluation", "product_key": MOCKUPS}])
    assert invoice["total"] == "0.00" and invoice["status"] == "paid"
    detail = license_detail(shop, world, invoice["lines"][0]["license"])
    assert detail["evaluation"] is True and detail["term_end"] == "2026-12-26"
    assert validate(shop, detail["keys"][0]["key"], host_tier="10000")["status"] == "VALID"


def test_upgrade_keeps_the_maintenance_end_and_issues_a_new_key(shop: TestClient, world: World) -> None:
    bought = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "50"}], channel="direct")
    entitlement = bought["lines"][0]["license"]
    upgraded = buy(
        shop, world, [{"action": "upgrade", "license": entitlement, "tier": "100"}], channel="direct"
    )
    assert upgraded["lines"][0]["amount"] == "500.00"  # 1,100.00 − 600.00
    detail = license_detail(shop, world, entitlement)
    assert (detail["tier"], detail["maintenance_end"]) == ("100", "2027-11-26")
    assert [t["kind"] for t in detail["history"]] == ["new", "upgrade"]
    assert detail["entitlement_number"] == entitlement
