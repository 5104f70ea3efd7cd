"""Rows a service writes are stamped by the server's clock, not the wall clock: with the clock moved a year
ahead, a purchase's quote, order, invoice, payment, license and key, the remembered idempotent answer, and an API
token made through the API all carry the clock's time (the wall clock would say a year earlier)."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mercato.accounts.models import ApiToken
from mercato.clock import FixedClock
from mercato.commerce.models import IdempotentRequest, Invoice, Order, Payment, Quote
from mercato.licenses.models import License, LicenseKey
from support.world import World

API = "/api/v1"
MOCKUPS = "com.example.mockups.wiki"


def _same_moment(stamp: datetime, clock: FixedClock) -> bool:
    """SQLite gives the moment back without its zone: compare as UTC wall time."""
    return stamp.replace(tzinfo=None) == clock.now().replace(tzinfo=None)


def test_a_purchase_a_year_later_is_stamped_by_the_clock(
    shop: TestClient, world: World, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    clock.advance(days=365)
    quote = shop.post(
        f"{API}/quotes",
        json={
            "host_instance_id": str(world.wiki_server.id),
            "channel": "marketplace",
            "items": [{"action": "new", "product_key": MOCKUPS, "tier": "100"}],
        },
        headers=world.auth("acme_admin") | {"Idempotency-Key": "clock-quote"},
    )
    assert quote.status_code == 201, quote.text
    accepted = shop.post(f"{API}/quotes/{quote.json()['id']}/accept", headers=world.auth("acme_admin"))
    assert accepted.status_code in (200, 201), accepted.text
    invoice = accepted.json()["invoice"]
    paid = shop.post(
        f"{API}/invoices/{invoice['id']}/payments",
        json={"amount": invoice["total"], "provider": "bank_transfer", "reference": "CLOCK-1"},
        headers=world.auth("operator"),
    )
    assert paid.status_code == 200, paid.text

    with session_factory() as session:
        license = session.scalars(
            select(License).where(
                License.host_instance_id == world.wiki_server.id, License.product_key == MOCKUPS
            )
        ).one()
        assert license.created_at.year == clock.now().year == 2027
        assert _same_moment(license.created_at, clock) and _same_moment(license.updated_at, clock)
        [key] = session.scalars(select(LicenseKey).where(LicenseKey.license_id == license.id))
        stamps = [
            key.issued_at,
            session.scalars(select(Quote.created_at).where(Quote.number == quote.json()["number"])).one(),
            session.scalars(select(Order.created_at)).one(),
            session.scalars(select(Invoice.created_at).where(Invoice.number == invoice["number"])).one(),
            session.scalars(select(Payment.created_at).where(Payment.reference == "CLOCK-1")).one(),
            session.scalars(
                select(IdempotentRequest.created_at).where(IdempotentRequest.key == "clock-quote")
            ).one(),
        ]
        assert all(_same_moment(stamp, clock) for stamp in stamps), stamps


def test_a_token_made_through_the_api_is_stamped_by_the_clock(
    shop: TestClient, world: World, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    clock.advance(days=365)
    made = shop.post(
        f"{API}/tokens", json={"name": "CI", "expires_in_days": 30}, headers=world.auth("acme_admin")
    )
    assert made.status_code == 201, made.text
    assert made.json()["created_at"].startswith("2027-11-26T12:00:00")
    assert made.json()["expires_at"].startswith("2027-12-26T12:00:00")
    with session_factory() as session:
        token = session.get(ApiToken, uuid.UUID(made.json()["id"]))
        assert token is not None and _same_moment(token.created_at, clock)
