"""The operator admin in a real browser: an operator approves a listing a vendor submitted, and refunds a paid
purchase, after which the buyer's license is cancelled. The vendor's and the buyer's sides go through the API
with the demo tokens (their pages are tested elsewhere)."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import Page, expect

from support.browser import OPERATOR, LiveServer, sign_in
from support.browser_checks import check_page

VENDOR_TOKEN, BUYER_TOKEN, OPERATOR_TOKEN = (
    "mct_demo_mockups_vendor",
    "mct_demo_acme_admin",
    "mct_demo_operator",
)
APP_KEY = "com.example.mockups.storyboards.wiki"
SERVER_PRICES = {
    "10": "20.00", "25": "250.00", "50": "500.00", "100": "900.00", "250": "1800.00", "500": "2800.00",
    "2000": "4800.00", "10000": "7800.00", "unlimited": "9800.00",
}  # fmt: skip


def call(server: LiveServer, token: str, method: str, path: str, json: Any = None) -> Any:
    answer = httpx.request(
        method,
        f"{server.url}/api/v1{path}",
        headers={"Authorization": f"Bearer {token}"},
        json=json,
        timeout=10,
    )
    assert answer.status_code < 300, answer.text
    return answer.json()


def test_an_operator_approves_a_listing_a_vendor_submitted(page: Page, live_server: LiveServer) -> None:
    call(
        live_server,
        VENDOR_TOKEN,
        "POST",
        "/vendors/example-mockups/apps",
        {
            "key": APP_KEY,
            "name": "Storyboards for Wiki",
            "host_product": "wiki",
            "summary": "Storyboards of mockups in any wiki page.",
            "description": "## Storyboards\n\nLay **mockups** out as a story.",
        },
    )
    listing = {"hosting": "server", "marketplace": {"sold": True}, "prices": SERVER_PRICES}
    call(live_server, VENDOR_TOKEN, "PUT", f"/apps/{APP_KEY}/listings/server/draft", {"listing": listing})
    call(live_server, VENDOR_TOKEN, "POST", f"/apps/{APP_KEY}/listings/server/draft/submit")

    sign_in(page, OPERATOR)
    page.get_by_role("link", name="Admin", exact=True).click()
    expect(page.get_by_role("heading", name="Admin", level=1)).to_be_visible()
    check_page(page, "admin-dashboard")
    page.get_by_role("link", name="Listings in review").click()
    page.get_by_role("link", name="Storyboards for Wiki").click()
    expect(page.get_by_role("heading", name="Storyboards for Wiki")).to_be_visible()
    expect(page.get_by_role("row", name="100 users")).to_contain_text("$900.00")
    check_page(page, "admin-review")
    page.get_by_label("Note to the vendor (optional)").fill("Prices and channels look right.")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("Approved")
    expect(page.get_by_role("status")).to_contain_text("Prices and channels look right.")
    check_page(page)
    assert httpx.get(f"{live_server.url}/api/v1/apps/{APP_KEY}").status_code == 200


def test_an_operator_refunds_a_purchase_and_the_buyers_license_is_cancelled(
    page: Page, live_server: LiveServer
) -> None:
    hosts = call(
        live_server, BUYER_TOKEN, "GET", "/organisations/acme/host-instances?host_product=wiki&hosting=server"
    )
    quote = call(
        live_server,
        BUYER_TOKEN,
        "POST",
        "/quotes",
        {
            "host_instance_id": hosts["items"][0]["id"],
            "items": [{"action": "new", "product_key": "com.example.mockups.wiki", "tier": "100"}],
        },
    )
    invoice = call(live_server, BUYER_TOKEN, "POST", f"/quotes/{quote['id']}/accept")["invoice"]
    sign_in(page, OPERATOR)
    page.goto("/admin/invoices?status=open")
    page.get_by_role("link", name=invoice["number"]).click()
    page.get_by_label("Reference").fill("BANK-2026-0042")
    page.get_by_role("button", name="Record the payment").click()
    expect(page.get_by_role("heading", name=f"Invoice {invoice['number']}")).to_contain_text("paid")
    entitlement = call(live_server, BUYER_TOKEN, "GET", f"/invoices/{invoice['id']}")["lines"][0]["license"]
    assert call(live_server, BUYER_TOKEN, "GET", f"/licenses/{entitlement}")["status"] == "active"

    check_page(page, "admin-invoice")
    page.get_by_label("Reason for refunding line 1").fill("Bought for the wrong host instance")
    page.get_by_role("button", name="Refund line 1").click()
    expect(page.get_by_role("row").filter(has_text=entitlement)).to_contain_text("Refunded")
    licenses = call(live_server, BUYER_TOKEN, "GET", "/licenses?product_key=com.example.mockups.wiki")
    statuses = {item["entitlement_number"]: item["status"] for item in licenses["items"]}
    assert statuses[entitlement] == "cancelled"
    page.get_by_role("link", name=entitlement).click()
    expect(page.get_by_role("heading", name=f"License {entitlement}")).to_contain_text("cancelled")
    check_page(page)


def test_every_other_admin_page_is_accessible_and_reached_by_its_links(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, OPERATOR)
    page.goto("/admin")
    for link, heading in (
        ("Vendors", "Vendors"),
        ("Host products", "Host products"),
        ("Invoices", "Orders and invoices"),
        ("Outbox", "Outbox and e-mail log"),
    ):
        page.get_by_role("navigation", name="Admin").get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        check_page(page)
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Vendors").click()
    page.get_by_label("Status").select_option("active")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("link", name="Example Mockups Ltd").click()
    expect(page.get_by_role("heading", name="Revenue share")).to_be_visible()
    check_page(page)

    # An accepted quote e-mails its invoice: a message in the outbox, whatever ran before this test.
    hosts = call(live_server, BUYER_TOKEN, "GET", "/organisations/acme/host-instances?host_product=tracker")
    quote = call(
        live_server,
        BUYER_TOKEN,
        "POST",
        "/quotes",
        {
            "host_instance_id": hosts["items"][0]["id"],
            "items": [{"action": "new", "product_key": "com.example.mockups.tracker", "tier": "50"}],
        },
    )
    invoice = call(live_server, BUYER_TOKEN, "POST", f"/quotes/{quote['id']}/accept")["invoice"]
    statuses = "&".join(f"status={s}" for s in ("pending", "retrying", "sending", "delivered", "dead"))
    messages = call(live_server, OPERATOR_TOKEN, "GET", f"/outbox/messages?{statuses}")["items"]
    message = next(m for m in messages if invoice["number"] in m["summary"])
    page.goto(f"/admin/outbox/{message['id']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(invoice["number"])
    expect(page.get_by_role("term").filter(has_text="Recipients")).to_be_visible()
    check_page(page)
