"""The edges of the commerce time windows, on both sides: the documented numbers, written here by hand.

A quote is valid for 30 days (through its ``valid_until`` date); a new purchase can be refunded for 30 days after
the day it was paid. The shop's clock starts on 2026-11-26 at noon UTC.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from mercato.clock import FixedClock
from support.world import World

from .test_seed_scenarios import MOCKUPS, SSO, buy, quote


def refund(shop: TestClient, world: World, invoice: dict[str, Any]) -> Any:
    return shop.post(
        f"/api/v1/invoices/{invoice['id']}/lines/{invoice['lines'][0]['id']}/refund",
        json={"reason": "changed their mind"},
        headers=world.auth("operator"),
    )


def test_a_refund_is_allowed_on_the_30th_day_after_payment_and_refused_on_the_31st(
    shop: TestClient, world: World, clock: FixedClock
) -> None:
    on_day_30 = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    on_day_31 = buy(shop, world, [{"action": "new", "product_key": SSO, "tier": "100"}])

    clock.advance(days=30)  # 2026-12-26
    allowed = refund(shop, world, on_day_30)
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["lines"][0]["refunded"] is True

    clock.advance(days=1)  # 2026-12-27
    refused = refund(shop, world, on_day_31)
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["type"] == "/api/v1/problems/refund-window-closed"
    assert problem["detail"] == (
        "New purchases can be refunded within 30 days; this one was paid on 2026-11-26, so the window closed "
        "on 2026-12-26."
    )


def test_a_quote_can_be_accepted_on_its_last_valid_day_and_not_the_day_after(
    shop: TestClient, world: World, clock: FixedClock
) -> None:
    last_day = quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}]).json()
    day_after = quote(shop, world, [{"action": "new", "product_key": SSO, "tier": "100"}]).json()
    assert last_day["valid_until"] == day_after["valid_until"] == "2026-12-26"  # 30 days from 2026-11-26

    clock.advance(days=30)  # 2026-12-26, the last valid day
    accepted = shop.post(f"/api/v1/quotes/{last_day['id']}/accept", headers=world.auth("acme_admin"))
    assert accepted.status_code == 201, accepted.text

    clock.advance(days=1)  # 2026-12-27
    refused = shop.post(f"/api/v1/quotes/{day_after['id']}/accept", headers=world.auth("acme_admin"))
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["type"] == "/api/v1/problems/quote-expired"
    assert problem["detail"] == (
        f"Quote {day_after['number']} was valid until 2026-12-26. Ask for a new quote: prices may have changed "
        "since."
    )
