"""A key replaced by a newer one keeps working for a grace period: 30 days by default (docs/operating.md)."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from support.world import World

from .test_seed_scenarios import MOCKUPS, buy, license_detail, validate


def test_a_replaced_key_keeps_working_for_30_days_by_default(shop: TestClient, world: World) -> None:
    bought = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "50"}], channel="direct")
    entitlement = bought["lines"][0]["license"]
    buy(shop, world, [{"action": "upgrade", "license": entitlement, "tier": "100"}], channel="direct")
    old, new = license_detail(shop, world, entitlement)["keys"]
    assert (old["state"], new["state"]) == ("superseded", "current")

    verdict = validate(shop, old["key"])

    assert (verdict["status"], verdict["action"]) == ("VALID", "GET_NEW_KEY")
    grace_until = datetime.fromisoformat(verdict["server"]["superseded_grace_until"])
    replaced_at = datetime.fromisoformat(new["issued_at"])
    assert grace_until - replaced_at == timedelta(days=30)
    assert f"this one stops working on {grace_until:%Y-%m-%d}" in verdict["message"]
