"""Direct licenses move to the marketplace (DESIGN §5) and keep their identity: the same entitlement number,
maintenance end and history, a new channel, seller and key; the direct key works through its grace period."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from mercato.clock import FixedClock
from support.world import World

from .test_seed_scenarios import MOCKUPS, buy, license_detail, quote, validate


def migrate(shop: TestClient, world: World, entitlement: str, **item: Any) -> dict[str, Any]:
    """Quote the license's migration, accept it and pay what it costs; returns the paid invoice."""
    return buy(shop, world, [{"action": "migration", "license": entitlement, **item}])


def direct_license(shop: TestClient, world: World, tier: str) -> str:
    bought = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": tier}], channel="direct")
    return str(bought["lines"][0]["license"])


def test_a_matching_direct_license_migrates_for_free_and_keeps_its_identity(
    shop: TestClient, world: World, clock: FixedClock
) -> None:
    entitlement = direct_license(shop, world, "100")
    before = license_detail(shop, world, entitlement)
    assert (before["channel"], before["issuer"]) == ("direct", "vendor:example-mockups")
    direct_key = before["keys"][-1]["key"]

    offered = quote(shop, world, [{"action": "migration", "license": entitlement}])
    assert offered.status_code == 201, offered.text
    line = offered.json()["lines"][0]
    assert (line["action"], line["amount"], line["tier"]) == ("migration", "0.00", "100")
    assert "covers the host; nothing to pay" in line["explanation"]

    invoice = migrate(shop, world, entitlement)
    assert (invoice["seller"], invoice["total"], invoice["status"]) == ("operator", "0.00", "paid")

    after = license_detail(shop, world, entitlement)
    assert after["entitlement_number"] == entitlement
    assert (after["channel"], after["issuer"]) == ("marketplace", "operator")
    assert after["maintenance_end"] == before["maintenance_end"]
    assert [entry["kind"] for entry in after["history"]][-2:] == ["new", "migration"]
    old, new = after["keys"][-2:]
    assert (old["key"], old["state"], new["state"]) == (direct_key, "superseded", "current")

    assert validate(shop, new["key"])["status"] == "VALID"
    during_grace = validate(shop, direct_key)
    assert (during_grace["status"], during_grace["action"]) == ("VALID", "GET_NEW_KEY")
    clock.advance(days=30)
    after_grace = validate(shop, direct_key)
    assert (after_grace["status"], after_grace["action"]) == ("REVOKED", "GET_NEW_KEY")
    assert validate(shop, new["key"])["status"] == "VALID"


def test_a_10_user_direct_license_on_a_100_user_host_upgrades_as_it_migrates_then_renews_on_the_marketplace(
    shop: TestClient, world: World
) -> None:
    entitlement = direct_license(shop, world, "10")
    maintenance_end = license_detail(shop, world, entitlement)["maintenance_end"]

    offered = quote(shop, world, [{"action": "migration", "license": entitlement}])
    assert offered.status_code == 201, offered.text
    line = offered.json()["lines"][0]
    assert line["tier"] == "100"
    assert line["formula"]["old_tier"] == "10 users" and line["formula"]["new_tier"] == "100 users"
    upgrade = line["formula"]
    expected = f"{float(upgrade['new_list_price']) - float(upgrade['old_list_price']):.2f}"
    assert line["amount"] == expected
    assert "with an upgrade to 100 users to match the host" in line["explanation"]
    assert line["revenue_split"]["vendor_share_rate"] == "0.7500"

    invoice = migrate(shop, world, entitlement)
    assert (invoice["seller"], invoice["total"]) == ("operator", expected)
    after = license_detail(shop, world, entitlement)
    assert (after["channel"], after["tier"], after["maintenance_end"]) == (
        "marketplace",
        "100",
        maintenance_end,
    )
    assert validate(shop, after["keys"][-1]["key"])["status"] == "VALID"

    renewal = buy(shop, world, [{"action": "renewal", "license": entitlement}])
    renewed = renewal["lines"][0]
    assert renewal["seller"] == "operator"
    assert (
        renewed["amount"] == f"{float(upgrade['new_list_price']) / 2:.2f}"
    )  # 50% of the 100-user list price
    assert renewed["revenue_split"]["vendor_share_rate"] == "0.7500"  # the vendor's share is recorded


def test_what_cannot_migrate_is_refused_with_the_reason(shop: TestClient, world: World) -> None:
    marketplace = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    entitlement = marketplace["lines"][0]["license"]
    already = quote(shop, world, [{"action": "migration", "license": entitlement}])
    assert already.status_code == 409 and already.json()["type"].endswith("already-on-marketplace")

    direct = quote(shop, world, [{"action": "migration", "license": entitlement}], channel="direct")
    assert direct.status_code == 422 and direct.json()["type"].endswith("not-migratable")

    nothing = quote(shop, world, [{"action": "migration"}])
    assert nothing.status_code == 422 and nothing.json()["type"].endswith("nothing-to-migrate")

    smaller = quote(shop, world, [{"action": "migration", "license": "SEN-0000000000"}])
    assert smaller.status_code == 404


def test_two_quotes_cannot_migrate_the_same_license_twice(shop: TestClient, world: World) -> None:
    entitlement = direct_license(shop, world, "10")
    first = quote(shop, world, [{"action": "migration", "license": entitlement}])
    second = quote(shop, world, [{"action": "migration", "license": entitlement}])
    assert first.status_code == second.status_code == 201
    accepted = shop.post(f"/api/v1/quotes/{first.json()['id']}/accept", headers=world.auth("acme_admin"))
    assert accepted.status_code == 201, accepted.text
    refused = shop.post(f"/api/v1/quotes/{second.json()['id']}/accept", headers=world.auth("acme_admin"))
    assert refused.status_code == 409, refused.text
    assert refused.json()["invoice"] == accepted.json()["invoice"]["number"]

    batch = quote(shop, world, [{"action": "migration"}])
    assert batch.status_code == 422  # the only direct license is already on its way


def test_a_batch_migrates_every_direct_license_of_the_host(shop: TestClient, world: World) -> None:
    mockups = direct_license(shop, world, "100")
    offered = quote(shop, world, [{"action": "migration"}])
    assert offered.status_code == 201, offered.text
    assert [line["license"] for line in offered.json()["lines"]] == [mockups]


def test_buying_an_app_the_host_has_directly_points_to_its_migration(shop: TestClient, world: World) -> None:
    entitlement = direct_license(shop, world, "100")
    again = quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    assert again.status_code == 409
    assert again.json()["license"] == entitlement
    assert again.json()["way_out"] == ["renewal", "upgrade", "migration"]
    assert "can also move to the marketplace" in again.json()["detail"]


def test_a_migration_quote_of_a_license_changed_since_is_refused_at_acceptance(
    shop: TestClient, world: World
) -> None:
    entitlement = direct_license(shop, world, "100")
    stale = quote(shop, world, [{"action": "migration", "license": entitlement}])
    assert stale.status_code == 201
    buy(shop, world, [{"action": "upgrade", "license": entitlement, "tier": "250"}], channel="direct")

    refused = shop.post(f"/api/v1/quotes/{stale.json()['id']}/accept", headers=world.auth("acme_admin"))

    assert refused.status_code == 409, refused.text
    assert refused.json()["type"].endswith("license-changed-since-quote")
    assert license_detail(shop, world, entitlement)["tier"] == "250"  # the upgrade stands
    fresh = quote(shop, world, [{"action": "migration", "license": entitlement}])
    assert fresh.json()["lines"][0]["tier"] == "250"
