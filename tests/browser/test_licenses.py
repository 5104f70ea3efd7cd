"""My licenses in a real browser: Acme's admin buys apps through the API (as docs/buying.md does), finds them on
/licenses by host, copies a key, opens a license and starts its renewal."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from support.browser import BUYER, LiveServer, sign_in
from support.browser_checks import check_page

MOCKUPS = "com.example.mockups.wiki"
SSO = "com.gatekeeper.sso.wiki"
ACME = {"Authorization": "Bearer mct_demo_acme_admin"}
OPERATOR = {"Authorization": "Bearer mct_demo_operator"}


@pytest.fixture(scope="module")
def bought(live_server: LiveServer) -> dict[str, Any]:
    """Acme's wiki server gets the mockups and SSO apps on the marketplace, paid: the paid invoice."""
    with httpx.Client(base_url=f"{live_server.url}/api/v1", timeout=10) as api:
        hosts = api.get("/organisations/acme/host-instances?host_product=wiki&hosting=server", headers=ACME)
        wiki = hosts.json()["items"][0]["id"]
        items = [{"action": "new", "product_key": key, "tier": "100"} for key in (MOCKUPS, SSO)]
        quote = api.post("/quotes", json={"host_instance_id": wiki, "items": items}, headers=ACME)
        assert quote.status_code == 201, quote.text
        accepted = api.post(f"/quotes/{quote.json()['id']}/accept", headers=ACME)
        assert accepted.status_code == 201, accepted.text
        invoice = accepted.json()["invoice"]
        paid = api.post(
            f"/invoices/{invoice['id']}/payments",
            json={"amount": invoice["amount_due"], "reference": "BANK-LICENSES-1"},
            headers=OPERATOR,
        )
        assert paid.status_code == 200, paid.text
        entitlement = next(line["license"] for line in paid.json()["lines"] if line["product_key"] == MOCKUPS)
        detail = api.get(f"/licenses/{entitlement}", headers=ACME).json()
        key = next(k["key"] for k in detail["keys"] if k["state"] == "current")
        return {"entitlement": entitlement, "key": key}


def test_a_buyer_copies_a_key_and_starts_a_renewal(
    page: Page, context: BrowserContext, bought: dict[str, Any]
) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, BUYER)
    page.get_by_role("link", name="My licenses").click()

    expect(page.get_by_role("heading", name="My licenses", level=1)).to_be_visible()
    wiki = page.locator("section", has=page.get_by_role("heading", name="Acme wiki", exact=True))
    expect(wiki.get_by_role("link", name=MOCKUPS)).to_be_visible()
    expect(wiki.get_by_role("link", name=SSO)).to_be_visible()
    expect(wiki.get_by_text("Active").first).to_be_visible()
    check_page(page, "licenses-list")

    copy = wiki.get_by_role("button", name=f"Copy key of {bought['entitlement']}")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == bought["key"]

    wiki.get_by_role("link", name=MOCKUPS).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(bought["entitlement"])
    history = page.locator("section", has=page.get_by_role("heading", name="History"))
    expect(history.get_by_role("row", name=re.compile("Sale"))).to_be_visible()
    expect(history.get_by_role("link")).to_have_attribute("href", re.compile(r"^/invoices/[0-9a-f-]{36}$"))
    check_page(page, "licenses-detail")

    page.get_by_label("Years of maintenance").fill("2")
    page.get_by_role("button", name="Quote renewal").click()
    expect(page).to_have_url(re.compile(r"/quotes/[0-9a-f-]{36}$"))


def test_a_refused_renewal_is_shown_by_its_field(page: Page, bought: dict[str, Any]) -> None:
    sign_in(page, BUYER)
    page.goto(f"/licenses/{bought['entitlement']}")
    page.get_by_label("Years of maintenance").fill("3")
    page.get_by_role("button", name="Quote renewal").click()
    years = page.get_by_label("Years of maintenance")
    expect(years).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#years-error")).to_contain_text("36 months")
    check_page(page)


def test_the_list_filters_by_host_and_status(page: Page, bought: dict[str, Any]) -> None:
    sign_in(page, BUYER)
    page.goto("/licenses")
    page.get_by_label("Status").select_option("cancelled")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No license matches these filters.")).to_be_visible()
    page.get_by_label("Status").select_option("")
    page.get_by_label("Host instance").select_option(label="Acme tracker")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("heading", name="Acme tracker")).to_be_visible()
    expect(page.get_by_role("heading", name="Acme wiki", exact=True)).to_have_count(0)


def test_a_buyer_moves_a_direct_license_to_the_marketplace(live_server: LiveServer, page: Page) -> None:
    """A 50-user direct license on Acme's 50-user tracker: its migration is quoted from its page, free, and once
    accepted it is a marketplace license with the same number and a new key."""
    tracker_app = "com.example.mockups.tracker"
    with httpx.Client(base_url=f"{live_server.url}/api/v1", timeout=10) as api:
        hosts = api.get("/organisations/acme/host-instances?host_product=tracker", headers=ACME)
        tracker = hosts.json()["items"][0]["id"]
        item = {"action": "new", "product_key": tracker_app, "tier": "50"}
        quote = api.post(
            "/quotes", json={"host_instance_id": tracker, "channel": "direct", "items": [item]}, headers=ACME
        )
        invoice = api.post(f"/quotes/{quote.json()['id']}/accept", headers=ACME).json()["invoice"]
        paid = api.post(
            f"/invoices/{invoice['id']}/payments",
            json={"amount": invoice["amount_due"], "reference": "BANK-DIRECT-TRACKER"},
            headers={"Authorization": "Bearer mct_demo_mockups_vendor"},
        )
        assert paid.status_code == 200, paid.text
        entitlement = paid.json()["lines"][0]["license"]

    sign_in(page, BUYER)
    page.goto(f"/licenses/{entitlement}")
    expect(page.get_by_role("heading", name="Move to the marketplace")).to_be_visible()
    page.get_by_role("button", name="Quote the migration").click()
    expect(page).to_have_url(re.compile(r"/quotes/[0-9a-f-]{36}$"))
    expect(page.get_by_text("covers the host; nothing to pay")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Accept quote").click()

    page.goto(f"/licenses/{entitlement}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(entitlement)
    expect(page.get_by_text("Northwind Marketplace").first).to_be_visible()
    expect(page.get_by_role("heading", name="Move to the marketplace")).to_have_count(0)
    history = page.locator("section", has=page.get_by_role("heading", name="History"))
    expect(history.get_by_role("row", name=re.compile("Migration"))).to_be_visible()
    check_page(page)
