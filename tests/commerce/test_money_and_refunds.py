"""Money rules: totals are the sum of their lines, splits sum to their line, refunds reverse exactly."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from mercato.clock import FixedClock
from mercato.commerce.models import Invoice
from mercato.licenses.models import LicenseTransaction
from support.world import World

from .test_seed_scenarios import MOCKUPS, SSO, buy, license_detail, quote, validate


def test_every_total_is_the_sum_of_its_lines_and_every_split_sums_to_its_line(
    shop: TestClient, world: World
) -> None:
    invoice = buy(
        shop,
        world,
        [
            {"action": "new", "product_key": "wiki", "tier": "250"},
            {"action": "new", "product_key": MOCKUPS, "tier": "250"},
            {"action": "new", "product_key": SSO, "tier": "250"},
            {"action": "new", "product_key": "com.diagramly.diagrams.wiki", "tier": "250"},
        ],
    )
    lines = invoice["lines"]
    assert Decimal(invoice["total"]) == sum(Decimal(line["amount"]) for line in lines)
    for line in lines[1:]:
        split = line["revenue_split"]
        assert Decimal(split["vendor_amount"]) + Decimal(split["operator_amount"]) == Decimal(line["amount"])
    assert [line["amount"] for line in lines] == ["6000.00", "2200.00", "3400.00", "1900.00"]


def test_partial_payments_add_up_and_keys_come_with_the_last_one(shop: TestClient, world: World) -> None:
    created = quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    invoice = shop.post(
        f"/api/v1/quotes/{created.json()['id']}/accept", headers=world.auth("acme_admin")
    ).json()["invoice"]
    pay = f"/api/v1/invoices/{invoice['id']}/payments"
    first = shop.post(
        pay,
        json={"amount": "600.00", "reference": "PO-77", "provider": "purchase_order"},
        headers=world.auth("operator"),
    ).json()
    assert (first["status"], first["amount_due"], first["lines"][0]["license"]) == ("open", "500.00", None)
    second = shop.post(
        pay, json={"amount": "500.00", "reference": "TRF-9"}, headers=world.auth("operator")
    ).json()
    assert (second["status"], second["amount_due"]) == ("paid", "0.00")
    assert [p["amount"] for p in second["payments"]] == ["600.00", "500.00"]
    assert second["lines"][0]["license"].startswith("SEN-")


def test_overpayment_is_refused_and_changes_nothing(shop: TestClient, world: World) -> None:
    created = quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    invoice = shop.post(
        f"/api/v1/quotes/{created.json()['id']}/accept", headers=world.auth("acme_admin")
    ).json()["invoice"]
    response = shop.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        json={"amount": "1100.01", "reference": "X"},
        headers=world.auth("operator"),
    )
    assert response.status_code == 422
    assert response.json()["type"] == "/api/v1/problems/overpayment"
    assert response.json()["amount_due"] == "1100.00"
    after = shop.get(f"/api/v1/invoices/{invoice['id']}", headers=world.auth("acme_admin")).json()
    assert (after["amount_paid"], after["payments"], after["status"]) == ("0.00", [], "open")


def test_refund_within_30_days_cancels_the_license_revokes_its_key_and_reverses_the_split(
    shop: TestClient, world: World, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    invoice = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    line = invoice["lines"][0]
    key = license_detail(shop, world, line["license"])["keys"][0]["key"]
    clock.advance(days=29)
    refunded = shop.post(
        f"/api/v1/invoices/{invoice['id']}/lines/{line['id']}/refund",
        json={"reason": "bought by mistake"},
        headers=world.auth("operator"),
    )
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["lines"][0]["refunded"] is True
    detail = license_detail(shop, world, line["license"])
    assert detail["status"] == "cancelled"
    sale, refund = detail["history"]
    assert refund["kind"] == "refund"
    assert (refund["amount"], refund["vendor_amount"], refund["operator_amount"]) == (
        "-1100.00",
        "-825.00",
        "-275.00",
    )
    assert (sale["vendor_amount"], sale["operator_amount"]) == ("825.00", "275.00")
    assert validate(shop, key)["status"] == "REVOKED"
    again = shop.post(
        f"/api/v1/invoices/{invoice['id']}/lines/{line['id']}/refund", json={}, headers=world.auth("operator")
    )
    assert again.status_code == 409
    with session_factory() as session:
        net = session.scalar(select(func.sum(LicenseTransaction.amount_minor)))
    assert net == 0


def test_refund_after_30_days_is_refused(shop: TestClient, world: World, clock: FixedClock) -> None:
    invoice = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    clock.advance(days=31)
    response = shop.post(
        f"/api/v1/invoices/{invoice['id']}/lines/{invoice['lines'][0]['id']}/refund",
        json={},
        headers=world.auth("operator"),
    )
    assert response.status_code == 422
    assert response.json()["type"] == "/api/v1/problems/refund-window-closed"


def test_expired_quote_cannot_be_accepted_and_nothing_is_created(
    shop: TestClient, world: World, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    created = quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}]).json()
    assert created["valid_until"] == "2026-12-26"
    clock.advance(days=31)
    response = shop.post(f"/api/v1/quotes/{created['id']}/accept", headers=world.auth("acme_admin"))
    assert response.status_code == 422
    assert response.json()["type"] == "/api/v1/problems/quote-expired"
    assert (
        shop.get(f"/api/v1/quotes/{created['id']}", headers=world.auth("acme_admin")).json()["expired"]
        is True
    )
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Invoice)) == 0


def test_a_cancelled_invoice_cannot_be_paid(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    created = quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    invoice = shop.post(
        f"/api/v1/quotes/{created.json()['id']}/accept", headers=world.auth("acme_admin")
    ).json()["invoice"]
    with session_factory() as session, session.begin():
        row = session.get(Invoice, __import__("uuid").UUID(invoice["id"]))
        assert row is not None
        row.status = "cancelled"
    response = shop.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        json={"amount": "1.00", "reference": "X"},
        headers=world.auth("operator"),
    )
    assert response.status_code == 409
    assert "cancelled" in response.json()["detail"]


def test_bad_quote_requests_are_problems_and_create_nothing(shop: TestClient, world: World) -> None:
    unknown_instance = shop.post(
        "/api/v1/quotes",
        headers=world.auth("acme_admin"),
        json={
            "host_instance_id": "00000000-0000-0000-0000-000000000000",
            "items": [{"action": "new", "product_key": MOCKUPS, "tier": "100"}],
        },
    )
    assert unknown_instance.status_code == 404
    not_sold = quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "30"}])
    assert not_sold.status_code == 422 and not_sold.json()["type"] == "/api/v1/problems/tier-not-sold"
    unknown_license = quote(shop, world, [{"action": "renewal", "license": "SEN-0000"}])
    assert unknown_license.status_code == 404
    malformed = shop.post(
        "/api/v1/quotes",
        content=b"{",
        headers={**world.auth("acme_admin"), "content-type": "application/json"},
    )
    assert malformed.status_code == 400
    no_items = quote(shop, world, [])
    assert no_items.status_code == 422
    assert shop.get("/api/v1/quotes?include=total", headers=world.auth("acme_admin")).json()["total"] == 0


def test_an_idempotency_key_replays_the_same_answer_and_cannot_be_reused_for_another_quote(
    shop: TestClient, world: World
) -> None:
    first = quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}]).json()
    second = quote(shop, world, [{"action": "new", "product_key": SSO, "tier": "100"}]).json()
    headers = {**world.auth("acme_admin"), "Idempotency-Key": "accept-1"}
    original = shop.post(f"/api/v1/quotes/{first['id']}/accept", headers=headers)
    replay = shop.post(f"/api/v1/quotes/{first['id']}/accept", headers=headers)
    assert (original.status_code, replay.status_code) == (201, 201)
    assert replay.json() == original.json()
    without_key = shop.post(f"/api/v1/quotes/{first['id']}/accept", headers=world.auth("acme_admin"))
    assert without_key.status_code == 200
    assert without_key.json()["invoice"]["id"] == original.json()["invoice"]["id"]
    reused = shop.post(f"/api/v1/quotes/{second['id']}/accept", headers=headers)
    assert reused.status_code == 422
    assert reused.json()["type"] == "/api/v1/problems/idempotency-key-reused"
