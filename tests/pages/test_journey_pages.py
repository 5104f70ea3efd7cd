"""Pages fixed because a journey across them broke: each test shows the step a person could not take before."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from mercato.clock import FixedClock
from support.pages import HTML, sign_in
from support.world import World, build_world

VENDOR = "mockups_vendor@test.example"
MOCKUPS = "com.example.mockups.wiki"
API = "/api/v1"


@pytest.fixture
def world(session: Session) -> World:
    built = build_world(session)
    session.commit()
    return built


def _accepted(client: TestClient, world: World, channel: str, tier: str) -> dict[str, Any]:
    """Acme's admin buys the mockup app for its wiki server on ``channel`` and accepts: the unpaid invoice."""
    quote = client.post(
        f"{API}/quotes",
        json={
            "host_instance_id": str(world.wiki_server.id),
            "channel": channel,
            "items": [{"action": "new", "product_key": MOCKUPS, "tier": tier}],
        },
        headers=world.auth("acme_admin"),
    )
    assert quote.status_code == 201, quote.text
    accepted = client.post(f"{API}/quotes/{quote.json()['id']}/accept", headers=world.auth("acme_admin"))
    assert accepted.status_code in (200, 201), accepted.text
    invoice: dict[str, Any] = accepted.json()["invoice"]
    return invoice


def test_the_vendor_finds_its_open_direct_store_invoice_and_records_its_payment(
    client: TestClient, session: Session, server_clock: FixedClock, world: World
) -> None:
    """A direct-store invoice is paid to the vendor, who records the payment on the invoice's page; the portal
    had no way to that page (only the buyer's e-mail had its number)."""
    direct = _accepted(client, world, "direct", "10")
    sign_in(client, session, VENDOR, server_clock.now())

    store = client.get("/vendor/example-mockups/store", headers=HTML)
    assert store.status_code == 200
    assert f'<a href="/invoices/{direct["id"]}">{direct["number"]}</a>' in store.text
    assert "Direct-store invoices" in store.text

    invoice = client.get(f"/invoices/{direct['id']}", headers=HTML)
    assert invoice.status_code == 200
    assert "Record a payment" in invoice.text


def test_the_store_lists_only_the_vendors_own_invoices(
    client: TestClient, session: Session, server_clock: FixedClock, world: World
) -> None:
    """Operator staff may open any vendor's portal: its store lists that vendor's invoices, not the
    marketplace's."""
    marketplace = _accepted(client, world, "marketplace", "100")
    sign_in(client, session, "operator@test.example", server_clock.now())
    store = client.get("/vendor/example-mockups/store", headers=HTML)
    assert store.status_code == 200
    assert marketplace["number"] not in store.text
    assert "No direct-store invoice yet." in store.text


def test_a_license_links_to_the_license_check_with_its_host_filled_in(
    client: TestClient, session: Session, server_clock: FixedClock, world: World
) -> None:
    """The license check takes the host's details from its address "for a link from a license's page", but no
    page linked there: the admin had to find the server id and tier elsewhere."""
    invoice = _accepted(client, world, "marketplace", "100")
    paid = client.post(
        f"{API}/invoices/{invoice['id']}/payments",
        json={"amount": invoice["total"], "provider": "bank_transfer", "reference": "REF-CHECK-1"},
        headers=world.auth("operator"),
    )
    assert paid.status_code == 200, paid.text
    entitlement = paid.json()["lines"][0]["license"]
    sign_in(client, session, "acme_admin@test.example", server_clock.now())

    detail = client.get(f"/licenses/{entitlement}", headers=HTML)
    assert detail.status_code == 200
    found = re.search(r'<a href="(/license-check\?[^"]+)">Check this key', detail.text)
    assert found, "the license page links to the license check"
    link = html.unescape(found.group(1))
    assert parse_qs(urlsplit(link).query) == {
        "app_key": [MOCKUPS],
        "hosting": ["server"],
        "server_id": ["ACME-WIKI-0001"],
        "host_tier": ["100"],
    }
    assert "key" not in parse_qs(urlsplit(link).query)  # the key is pasted, never put in an address

    check = client.get(link, headers=HTML)
    assert check.status_code == 200
    assert 'id="server_id" name="server_id" required value="ACME-WIKI-0001"' in check.text
    assert 'id="host_tier" name="host_tier" required value="100"' in check.text
