"""Quote numbers are unique: a new quote's row is inserted only if no quote carries the number drawn (the unique
constraint decides in the insert itself), and a number already taken is drawn again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from mercato.commerce.quoting import Quoting
from support.world import World

from .test_seed_scenarios import MOCKUPS, SSO, quote


def test_a_number_already_taken_is_drawn_again(
    shop: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    draws: Iterator[str] = iter(["Q-20261126-AAAAAA", "Q-20261126-AAAAAA", "Q-20261126-BBBBBB"])
    monkeypatch.setattr(Quoting, "_draw_quote_number", lambda self: next(draws))
    first = quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    second = quote(shop, world, [{"action": "new", "product_key": SSO, "tier": "100"}])
    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert (first.json()["number"], second.json()["number"]) == ("Q-20261126-AAAAAA", "Q-20261126-BBBBBB")
    # The second quote is whole: its lines were written with it, and it can be read back and accepted.
    again = shop.get(f"/api/v1/quotes/{second.json()['id']}", headers=world.auth("acme_admin"))
    assert [line["product_key"] for line in again.json()["lines"]] == [SSO]
    accepted = shop.post(f"/api/v1/quotes/{second.json()['id']}/accept", headers=world.auth("acme_admin"))
    assert accepted.status_code == 201, accepted.text
