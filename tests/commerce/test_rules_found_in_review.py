"""Rules that a walkthrough of the buying flows showed were missing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from support.world import World

from .test_seed_scenarios import MOCKUPS, buy, license_detail, quote


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


def test_an_evaluation_is_regenerated_in_place_at_most_five_times(shop: TestClient, world: World) -> None:
    licenses = {
        buy(shop, world, [{"action": "evaluation", "product_key": MOCKUPS}])["lines"][0]["license"]
        for _ in range(6)
    }
    assert len(licenses) == 1  # one evaluation license per app and host instance, regenerated with new keys
    detail = license_detail(shop, world, licenses.pop())
    assert [t["kind"] for t in detail["history"]] == ["evaluation"] * 6
    assert [k["state"] for k in detail["keys"]] == ["superseded"] * 5 + ["current"]
    refused = quote(shop, world, [{"action": "evaluation", "product_key": MOCKUPS}])
    assert refused.status_code == 422
    assert refused.json()["type"] == "/api/v1/problems/evaluation-limit-reached"
    assert (refused.json()["item"], refused.json()["pointer"]) == (1, "/items/0")
    other_app = quote(shop, world, [{"action": "evaluation", "product_key": "com.gatekeeper.sso.wiki"}])
    assert other_app.status_code == 201


def test_the_evaluation_limit_holds_within_one_quote_and_across_open_quotes(
    shop: TestClient, world: World
) -> None:
    seven = quote(shop, world, [{"action": "evaluation", "product_key": MOCKUPS}] * 7)
    assert seven.status_code == 422 and seven.json()["item"] == 7
    for _ in range(5):
        buy(shop, world, [{"action": "evaluation", "product_key": MOCKUPS}])
    first, second = (
        quote(shop, world, [{"action": "evaluation", "product_key": MOCKUPS}]).json() for _ in "12"
    )
    assert (
        shop.post(f"/api/v1/quotes/{first['id']}/accept", headers=world.auth("acme_admin")).status_code == 201
    )
    late = shop.post(f"/api/v1/quotes/{second['id']}/accept", headers=world.auth("acme_admin"))
    assert late.status_code == 422 and late.json()["type"] == "/api/v1/problems/evaluation-limit-reached"
    assert (
        shop.get(f"/api/v1/quotes/{second['id']}", headers=world.auth("acme_admin")).json()["status"]
        == "open"
    )


def test_refunding_a_host_license_gives_the_host_back_its_earlier_terms(
    shop: TestClient, world: World
) -> None:
    bought = buy(shop, world, [{"action": "new", "product_key": "wiki", "tier": "250"}])
    instance_url = f"/api/v1/host-instances/{world.wiki_server.id}"
    assert shop.get(instance_url, headers=world.auth("acme_admin")).json()["user_tier"] == 250
    shop.post(
        f"/api/v1/invoices/{bought['id']}/lines/{bought['lines'][0]['id']}/refund",
        json={},
        headers=world.auth("operator"),
    )
    instance = shop.get(instance_url, headers=world.auth("acme_admin")).json()
    assert (instance["user_tier"], instance["host_maintenance_end"]) == (100, "2028-03-31")


def test_errors_about_one_item_say_which(shop: TestClient, world: World) -> None:
    direct = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "10"}], channel="direct")
    wrong_channel = quote(
        shop,
        world,
        [
            {"action": "new", "product_key": "com.gatekeeper.sso.wiki", "tier": "100"},
            {"action": "renewal", "license": direct["lines"][0]["license"]},
        ],
    )
    assert (wrong_channel.status_code, wrong_channel.json()["pointer"]) == (422, "/items/1")
    nothing = quote(shop, world, [{"action": "co_term"}])
    assert (nothing.status_code, nothing.json()["item"]) == (422, 1)


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
