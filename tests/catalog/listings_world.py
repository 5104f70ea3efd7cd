"""A new vendor with one member, and the requests the listing tests send: an app, its server and cloud
listings, their review, and a purchase paid in full."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from mercato.accounts.models import Membership, Role, User
from mercato.app import create_app
from mercato.catalog.models import Vendor, VendorStatus
from mercato.clock import FixedClock
from mercato.settings import Settings
from support.world import World, _token, build_world

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
VENDOR = "whiteboard-co"
KEY = "com.whiteboard.board.wiki"
SERVER_PRICES = {
    "10": "20.00", "25": "250.00", "50": "500.00", "100": "900.00", "250": "1800.00", "500": "2800.00",
    "2000": "4800.00", "10000": "7800.00", "unlimited": "9800.00",
}  # fmt: skip
APP = {
    "key": KEY,
    "name": "Whiteboards for Wiki",
    "host_product": "wiki",
    "summary": "Sketch together in any wiki page.",
    "description": "## Whiteboards\n\nDraw **together**. See the [guide](https://whiteboard.example/guide).",
    "links": {"documentation": "https://whiteboard.example/docs"},
}


def server_listing(**overrides: Any) -> dict[str, Any]:
    return {
        "hosting": "server",
        "marketplace": {"sold": True},
        "direct": {"sold": True},
        "license_types": ["academic"],
        "prices": dict(SERVER_PRICES),
    } | overrides


def cloud_listing(**overrides: Any) -> dict[str, Any]:
    return {
        "hosting": "cloud",
        "cloud_prices": {
            "flat_monthly": "10.00",
            "brackets": [
                {"up_to_users": 100, "per_user_monthly": "2.00"},
                {"up_to_users": None, "per_user_monthly": "1.00"},
            ],
            "annual_tiers": ["10", "25", "50", "100"],
        },
    } | overrides


class Shop:
    """The API as each person of the world (and the new vendor's member, ``board``) calls it."""

    def __init__(self, client: TestClient, world: World, tokens: dict[str, str]) -> None:
        self.client = client
        self.world = world
        self.tokens = tokens

    def call(self, method: str, path: str, role: str, json: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return self.client.request(method, f"/api/v1{path}", headers=headers, json=json)

    def ok(self, method: str, path: str, role: str, json: Any = None, status: int = 200) -> Any:
        response = self.call(method, path, role, json)
        assert response.status_code == status, response.text
        return response.json()

    def publish(self, key: str = KEY, *listings: dict[str, Any]) -> None:
        """Draft, submit and approve each listing."""
        for listing in listings or (server_listing(), cloud_listing()):
            hosting = listing["hosting"]
            self.ok("PUT", f"/apps/{key}/listings/{hosting}/draft", "board", {"listing": listing})
            revision = self.ok("POST", f"/apps/{key}/listings/{hosting}/draft/submit", "board")
            self.ok("POST", f"/revisions/{revision['id']}/approve", "operator", {"note": "fine"})

    def quote(
        self, items: list[dict[str, Any]], channel: str = "marketplace", instance: str = "wiki_server"
    ) -> httpx.Response:
        body = {"host_instance_id": str(getattr(self.world, instance).id), "channel": channel, "items": items}
        return self.call("POST", "/quotes", "acme_admin", body)

    def buy(
        self, items: list[dict[str, Any]], channel: str = "marketplace", instance: str = "wiki_server"
    ) -> Any:
        """Quote, accept and pay in full (by the seller of record); the paid invoice."""
        created = self.quote(items, channel, instance)
        assert created.status_code == 201, created.text
        invoice = self.ok("POST", f"/quotes/{created.json()['id']}/accept", "acme_admin", status=201)[
            "invoice"
        ]
        if invoice["status"] == "paid":
            return invoice
        payer = "operator" if invoice["seller"] == "operator" else "board"
        payment = {"amount": invoice["amount_due"], "provider": "bank_transfer", "reference": "TRF-1"}
        return self.ok("POST", f"/invoices/{invoice['id']}/payments", payer, payment)

    def license(self, entitlement: str) -> Any:
        return self.ok("GET", f"/licenses/{entitlement}", "acme_admin")

    def validate(self, key: str, **host: Any) -> Any:
        body = {
            "key": key,
            "app_key": KEY,
            "hosting": "server",
            "server_id": "ACME-WIKI-0001",
            "host_tier": "100",
            "host_license_type": "commercial",
        } | host
        return self.client.post("/api/v1/licenses/validate", json=body).json()


def add_vendor(session: Session, slug: str, status: VendorStatus = VendorStatus.ACTIVE) -> tuple[Vendor, str]:
    """A vendor with one member; the member's read+write token."""
    vendor = Vendor(
        slug=slug,
        name=slug.title(),
        legal_name=slug.title(),
        email=f"sales@{slug}.example",
        status=status,
        direct_store=True,
    )
    session.add(vendor)
    session.flush()
    user = User(email=f"member@{slug}.example", name=f"{slug} member")
    session.add(user)
    session.flush()
    session.add(Membership(user_id=user.id, role=Role.VENDOR_MEMBER, vendor_id=vendor.id))
    token = _token(session, user, ["read", "write"])
    session.flush()
    return vendor, token


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    with session_factory() as session, session.begin():
        world = build_world(session)
        _, world.tokens["board"] = add_vendor(session, VENDOR)
        _, world.tokens["rival"] = add_vendor(session, "rival-apps")
        return world


@pytest.fixture
def shop(
    settings: Settings,
    engine: Engine,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    world: World,
) -> Iterator[Shop]:
    with TestClient(
        create_app(settings, engine, session_factory, clock), raise_server_exceptions=False
    ) as client:
        yield Shop(client, world, world.tokens)
