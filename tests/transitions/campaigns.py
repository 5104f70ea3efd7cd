"""What the transition tests share: buying direct licenses through the API, announcing a campaign, running the
e-mail step as the billing run does, and reading the e-mails it queued."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mercato.clock import FixedClock
from mercato.outbox.models import OutboxMessage
from mercato.services import Services
from mercato.transitions.mailing import send_due_transition_emails
from support.world import World

MOCKUPS = "com.example.mockups.wiki"
SSO = "com.gatekeeper.sso.wiki"
API = "/api/v1"
PUBLIC_URL = "https://mercato.example"


def buy(
    shop: TestClient,
    world: World,
    items: list[dict[str, Any]],
    *,
    channel: str = "direct",
    instance: str = "wiki_server",
    buyer: str = "acme_admin",
) -> dict[str, Any]:
    """Quote, accept and pay in full (by the seller); the paid invoice."""
    body = {"host_instance_id": str(getattr(world, instance).id), "channel": channel, "items": items}
    quote = shop.post(f"{API}/quotes", json=body, headers=world.auth(buyer))
    assert quote.status_code == 201, quote.text
    return accept_and_pay(shop, world, quote.json()["id"], buyer)


def accept_and_pay(shop: TestClient, world: World, quote_id: str, buyer: str) -> dict[str, Any]:
    accepted = shop.post(f"{API}/quotes/{quote_id}/accept", headers=world.auth(buyer))
    assert accepted.status_code == 201, accepted.text
    invoice = accepted.json()["invoice"]
    if invoice["status"] == "paid":
        return dict(invoice)
    paid = shop.post(
        f"{API}/invoices/{invoice['id']}/payments",
        json={
            "amount": invoice["amount_due"],
            "provider": "bank_transfer",
            "reference": f"TRF-{invoice['number']}",
        },
        headers=world.auth("operator" if invoice["seller"] == "operator" else "mockups_vendor"),
    )
    assert paid.status_code == 200, paid.text
    return dict(paid.json())


def direct_license(
    shop: TestClient, world: World, tier: str, instance: str, buyer: str = "acme_admin"
) -> str:
    """A direct Mockups server license of ``tier`` on ``instance``; its entitlement number."""
    invoice = buy(
        shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": tier}], instance=instance, buyer=buyer
    )
    return str(invoice["lines"][0]["license"])


def announce(
    shop: TestClient, world: World, role: str = "mockups_vendor", slug: str = "example-mockups", **body: Any
) -> Any:
    return shop.post(f"{API}/vendors/{slug}/transitions", json=body, headers=world.auth(role))


def campaign(
    shop: TestClient, world: World, campaign_id: str, role: str = "mockups_vendor"
) -> dict[str, Any]:
    shown = shop.get(f"{API}/vendors/example-mockups/transitions/{campaign_id}", headers=world.auth(role))
    assert shown.status_code == 200, shown.text
    return dict(shown.json())


def by_license(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {member["entitlement_number"]: member for member in document["licenses"]}


def run_emails(session_factory: sessionmaker[Session], clock: FixedClock) -> list[str]:
    """The billing run's transition step, as of the clock: ``<entitlement>:<kind>`` for each e-mail sent."""
    services = Services(secret_key="test-secret-key", clock=clock, public_url=PUBLIC_URL)
    return sorted(sent.describe() for sent in send_due_transition_emails(session_factory, services))


def transition_emails(session: Session, entitlement: str | None = None) -> list[OutboxMessage]:
    """The campaign e-mails in the outbox (about one license, if given), oldest first."""
    messages = session.scalars(
        select(OutboxMessage).where(OutboxMessage.topic == "email").order_by(OutboxMessage.created_at)
    )
    return [
        message
        for message in messages
        if "to the marketplace" in message.payload["subject"]
        and (entitlement is None or entitlement in message.payload["subject"])
    ]


def day(text: str) -> date:
    return date.fromisoformat(text)
