"""Buying, refunding and reading the ledger through the API, for the ledger's tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mercato.accounts.models import ApiToken, Membership, Role, User
from mercato.accounts.tokens import new_token
from mercato.catalog.models import Vendor
from mercato.ledger.models import LedgerEntry
from support.world import World

MOCKUPS = "com.example.mockups.wiki"
SSO = "com.gatekeeper.sso.wiki"


def buy(
    shop: TestClient,
    world: World,
    items: list[dict[str, Any]],
    channel: str = "marketplace",
    instance: str = "wiki_server",
) -> dict[str, Any]:
    """Quote, accept and pay in full (by the seller); returns the paid invoice."""
    host = getattr(world, instance)
    created = shop.post(
        "/api/v1/quotes",
        json={"host_instance_id": str(host.id), "channel": channel, "items": items},
        headers=world.auth("acme_admin"),
    )
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


def refund(shop: TestClient, world: World, invoice: dict[str, Any], position: int = 0) -> dict[str, Any]:
    line = invoice["lines"][position]
    refunded = shop.post(
        f"/api/v1/invoices/{invoice['id']}/lines/{line['id']}/refund",
        json={"reason": "bought by mistake"},
        headers=world.auth("operator" if invoice["seller"] == "operator" else "mockups_vendor"),
    )
    assert refunded.status_code == 200, refunded.text
    return dict(refunded.json())


def entries(session: Session) -> list[LedgerEntry]:
    return list(session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)))


def vendor_member(session: Session, slug: str) -> str:
    """A member of vendor ``slug`` with a read+write token; returns the token."""
    vendor = session.scalars(select(Vendor).where(Vendor.slug == slug)).one()
    user = User(email=f"{slug}-member@test.example", name=slug)
    session.add(user)
    session.flush()
    session.add(Membership(user_id=user.id, role=Role.VENDOR_MEMBER, vendor_id=vendor.id))
    token, prefix, token_hash = new_token()
    session.add(
        ApiToken(user_id=user.id, name="test", prefix=prefix, token_hash=token_hash, scopes=["read", "write"])
    )
    session.flush()
    return token
