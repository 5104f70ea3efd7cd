"""Rules that a walkthrough of the buying flows showed were missing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from support.world import World

from .test_seed_scenarios import MOCKUPS, buy, quote


def test_upgrading_the_host_license_updates_the_host_so_apps_must_follow(
    shop: TestClient, world: World
) -> None:
    host = buy(shop, world, [{"action": "new", "product_key": "wiki", "tier": "100"}])["lines"][0]["license"]
    buy(shop, world, [{"action": "upgrade", "license": host, "tier": "250"}])
    instance = shop.get(
        f"/api/v1/host-instances/{world.wiki_server.id}", headers=world.auth("acme_admin")
    ).json()
    assert instance["user_tier"] == 250
    refused = quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    assert refused.status_code == 422 and refused.json()["suggested_tier"] == "250 users"


def test_renewing_the_host_license_moves_the_hosts_maintenance_end(shop: TestClient, world: World) -> None:
    host = buy(shop, world, [{"action": "new", "product_key": "wiki", "tier": "100"}])["lines"][0]["license"]
    buy(shop, world, [{"action": "renewal", "license": host, "years": 2}])
    instance = shop.get(
        f"/api/v1/host-instances/{world.wiki_server.id}", headers=world.auth("acme_admin")
    ).json()
    assert instance["host_maintenance_end"] == "2029-11-26"


def test_a_purchase_changed_afterwards_is_not_refunded_alone(shop: TestClient, world: World) -> None:
    bought = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    buy(shop, world, [{"action": "upgrade", "license": bought["lines"][0]["license"], "tier": "250"}])
    response = shop.post(
        f"/api/v1/invoices/{bought['id']}/lines/{bought['lines'][0]['id']}/refund",
        json={},
        headers=world.auth("operator"),
    )
    assert response.status_code == 409 and "upgrade" in response.json()["detail"]


def test_an_app_is_evaluated_at_most_six_times_per_host_instance(shop: TestClient, world: World) -> None:
    for _ in range(6):  # one evaluation and five regenerations
        buy(shop, world, [{"action": "evaluation", "product_key": MOCKUPS}])
    refused = quote(shop, world, [{"action": "evaluation", "product_key": MOCKUPS}])
    assert refused.status_code == 422
    assert refused.json()["type"] == "/api/v1/problems/evaluation-limit-reached"
    other_app = quote(shop, world, [{"action": "evaluation", "product_key": "com.gatekeeper.sso.wiki"}])
    assert other_app.status_code == 201


def test_invoice_lines_name_their_product_and_period_and_refunds_show(shop: TestClient, world: World) -> None:
    invoice = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    [line] = invoice["lines"]
    assert (line["product_key"], line["action"], line["period_start"], line["period_end"]) == (
        MOCKUPS,
        "new",
        "2026-11-26",
        "2027-11-26",
    )
    assert line["description"].startswith(f"{MOCKUPS}: New license")
    refunded = shop.post(
        f"/api/v1/invoices/{invoice['id']}/lines/{line['id']}/refund", json={}, headers=world.auth("operator")
    ).json()
    assert (refunded["amount_refunded"], refunded["amount_paid"]) == ("1100.00", "1100.00")


def test_a_payment_cannot_be_received_in_the_future(shop: TestClient, world: World) -> None:
    created = quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}]).json()
    invoice = shop.post(f"/api/v1/quotes/{created['id']}/accept", headers=world.auth("acme_admin")).json()[
        "invoice"
    ]
    response = shop.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        headers=world.auth("operator"),
        json={"amount": "1.00", "reference": "X", "received_on": "2031-01-01"},
    )
    assert response.status_code == 422 and "future" in response.json()["detail"]
