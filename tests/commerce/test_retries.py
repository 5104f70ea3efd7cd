"""Every retryable write is idempotent: a payment or a quote request sent again after a lost answer is counted
once, with or without an Idempotency-Key."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from support.world import World

from .test_seed_scenarios import MOCKUPS, quote

API = "/api/v1"


def open_invoice(shop: TestClient, world: World) -> dict[str, Any]:
    created = quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    accepted = shop.post(f"{API}/quotes/{created.json()['id']}/accept", headers=world.auth("acme_admin"))
    assert accepted.status_code == 201, accepted.text
    return dict(accepted.json()["invoice"])


def pay(
    shop: TestClient, world: World, invoice: dict[str, Any], amount: str, reference: str, **headers: str
) -> Any:
    return shop.post(
        f"{API}/invoices/{invoice['id']}/payments",
        json={"amount": amount, "provider": "bank_transfer", "reference": reference},
        headers=world.auth("operator") | headers,
    )


def test_a_payment_sent_again_without_a_key_is_counted_once(shop: TestClient, world: World) -> None:
    invoice = open_invoice(shop, world)
    first = pay(shop, world, invoice, "500.00", "TRF-77")
    again = pay(shop, world, invoice, "500.00", " TRF-77 ")  # the same transfer, as a client retries it
    assert first.status_code == again.status_code == 200
    assert again.json()["amount_paid"] == "500.00" and len(again.json()["payments"]) == 1
    # The customer's real second transfer, with its own reference, is still accepted.
    assert invoice["total"] == "1100.00"
    rest = pay(shop, world, invoice, "600.00", "TRF-78")
    assert rest.status_code == 200 and rest.json()["status"] == "paid"


def test_a_reference_recorded_with_another_amount_is_refused_and_changes_nothing(
    shop: TestClient, world: World
) -> None:
    invoice = open_invoice(shop, world)
    assert pay(shop, world, invoice, "500.00", "TRF-90").status_code == 200
    refused = pay(shop, world, invoice, "600.00", "TRF-90")
    assert refused.status_code == 409
    assert refused.json()["type"] == "/api/v1/problems/payment-reference-used"
    assert "TRF-90" in refused.json()["detail"] and "its own reference" in refused.json()["detail"]
    after = shop.get(f"{API}/invoices/{invoice['id']}", headers=world.auth("operator")).json()
    assert after["amount_paid"] == "500.00" and len(after["payments"]) == 1


def test_an_idempotency_key_replays_the_first_payment_answer(shop: TestClient, world: World) -> None:
    invoice = open_invoice(shop, world)
    first = pay(shop, world, invoice, "500.00", "TRF-1", **{"Idempotency-Key": "pay-1"})
    pay(shop, world, invoice, "100.00", "TRF-2")  # the invoice moves on meanwhile
    replay = pay(shop, world, invoice, "500.00", "TRF-1", **{"Idempotency-Key": "pay-1"})
    assert replay.status_code == 200 and replay.json() == first.json()  # the very first answer
    other = pay(shop, world, invoice, "50.00", "TRF-3", **{"Idempotency-Key": "pay-1"})
    assert other.status_code == 422 and other.json()["type"] == "/api/v1/problems/idempotency-key-reused"
    after = shop.get(f"{API}/invoices/{invoice['id']}", headers=world.auth("operator")).json()
    assert after["amount_paid"] == "600.00" and [p["reference"] for p in after["payments"]] == [
        "TRF-1",
        "TRF-2",
    ]


def test_a_quote_request_sent_again_with_its_key_makes_one_quote(shop: TestClient, world: World) -> None:
    body = {
        "host_instance_id": str(world.wiki_server.id),
        "items": [{"action": "new", "product_key": MOCKUPS, "tier": "100"}],
    }
    headers = world.auth("acme_admin") | {"Idempotency-Key": "acme-quote-1"}
    before = shop.get(f"{API}/quotes?include=total", headers=world.auth("acme_admin")).json()["total"]
    first = shop.post(f"{API}/quotes", json=body, headers=headers)
    again = shop.post(f"{API}/quotes", json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert (
        shop.get(f"{API}/quotes?include=total", headers=world.auth("acme_admin")).json()["total"]
        == before + 1
    )
    changed = shop.post(f"{API}/quotes", json=body | {"po_number": "PO-2"}, headers=headers)
    assert changed.status_code == 422 and changed.json()["type"] == "/api/v1/problems/idempotency-key-reused"


def test_a_payment_dated_long_before_its_invoice_is_refused(shop: TestClient, world: World) -> None:
    invoice = open_invoice(shop, world)
    refused = shop.post(
        f"{API}/invoices/{invoice['id']}/payments",
        json={"amount": "10.00", "reference": "OLD", "received_on": "2024-01-01"},
        headers=world.auth("operator"),
    )
    assert refused.status_code == 422 and refused.json()["type"] == "/api/v1/problems/payment-too-old"
