"""The vendor's money pages in a real browser: a vendor registers a webhook endpoint and sees its secret once,
then sees the delivery of a sale paid through the API in the endpoint's log; the operator runs the previous
month's payouts (the test clock moved into the next month) and the vendor sees the payout and its remittance."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from support.browser import OPERATOR, VENDOR, LiveServer, sign_in
from support.browser_checks import check_page

OPERATOR_TOKEN = {"Authorization": "Bearer mct_demo_operator"}
BUYER_TOKEN = {"Authorization": "Bearer mct_demo_acme_admin"}
MOCKUPS = "com.example.mockups.wiki"
HOOK = "https://hooks.mockups.example/mercato"


def _api(live_server: LiveServer, token: dict[str, str], method: str, path: str, body: Any = None) -> Any:
    answer = httpx.request(method, f"{live_server.url}/api/v1{path}", json=body, headers=token, timeout=10)
    assert answer.is_success, answer.text
    return answer.json() if answer.content else None


def _sell(live_server: LiveServer, server_id: str) -> None:
    """Acme registers a wiki server, buys the mockups app for it on the marketplace and the operator records
    the payment, through the API. Each test sells on a host of its own: an app is licensed once per host, and
    the tests of a module share one server in any order."""
    host = _api(
        live_server,
        BUYER_TOKEN,
        "POST",
        "/organisations/acme/host-instances",
        {
            "host_product": "wiki",
            "hosting": "server",
            "server_id": server_id,
            "name": f"Acme wiki {server_id}",
            "user_tier": 100,
            "host_maintenance_end": "2027-06-30",
        },
    )
    items = [{"action": "new", "product_key": MOCKUPS, "tier": "100"}]
    quote = _api(
        live_server, BUYER_TOKEN, "POST", "/quotes", {"host_instance_id": host["id"], "items": items}
    )
    invoice = _api(live_server, BUYER_TOKEN, "POST", f"/quotes/{quote['id']}/accept")["invoice"]
    _api(
        live_server,
        OPERATOR_TOKEN,
        "POST",
        f"/invoices/{invoice['id']}/payments",
        {"amount": invoice["amount_due"], "reference": "BANK-MONEY-1"},
    )


def test_a_vendor_registers_a_webhook_and_sees_a_sales_delivery(page: Page, live_server: LiveServer) -> None:
    sign_in(page, VENDOR)
    page.goto("/vendor/example-mockups")
    page.get_by_role("navigation", name="Vendor portal").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
    page.get_by_label("Address (https://)").fill(HOOK)
    page.get_by_label("Description (optional)").fill("Our CRM")
    page.get_by_label("license.created").check()
    page.get_by_label("transaction.created").check()
    page.get_by_role("button", name="Register the endpoint").click()

    expect(page.get_by_role("heading", name="Endpoint registered")).to_be_visible()
    secret = page.locator("#webhook-secret").inner_text()
    assert secret.startswith("whsec_")
    expect(page.get_by_role("button", name="Copy the secret")).to_be_visible()
    page.get_by_role("link", name="Go to the endpoint and its delivery log").click()
    expect(page.get_by_role("heading", name=f"Endpoint {HOOK}")).to_be_visible()
    expect(page.get_by_text(secret)).to_have_count(0)  # shown once, never again
    page.goto("/vendor/example-mockups/webhooks")
    expect(page.get_by_role("link", name=HOOK)).to_be_visible()
    expect(page.get_by_text(secret)).to_have_count(0)
    check_page(page, "vendor-webhooks")

    _sell(live_server, "MONEY-HOOK-0001")
    page.get_by_role("link", name=HOOK).click()
    log = page.get_by_role("region", name="Deliveries (scrolls sideways)")
    expect(log.get_by_role("row").filter(has_text="license.created")).to_have_count(1)
    expect(log.get_by_role("row").filter(has_text="transaction.created")).to_have_count(1)
    expect(log.get_by_role("button", name=re.compile("^Resend license.created"))).to_be_visible()
    check_page(page)


def test_the_operator_pays_last_month_and_the_vendor_sees_the_remittance(
    page: Page, live_server: LiveServer
) -> None:
    _sell(live_server, "MONEY-PAYOUT-0001")  # a sale this month (the real clock, until moved below)
    now = datetime.now(UTC)
    following = datetime(now.year + now.month // 12, now.month % 12 + 1, 2, 9, tzinfo=UTC)
    month = f"{now:%Y-%m}"
    _api(live_server, OPERATOR_TOKEN, "PUT", "/test-clock", {"now": following.isoformat()})
    try:
        sign_in(page, OPERATOR)
        page.goto("/admin")
        page.get_by_role("navigation", name="Admin").get_by_role("link", name="Payouts").click()
        expect(page.get_by_label("Month (YYYY-MM)")).to_have_value(month)  # the previous month by default
        page.get_by_label("Reference prefix").fill("BANK-")
        page.get_by_role("button", name="Run the payouts").click()
        reference = f"BANK-{month}-example-mockups-USD"
        expect(page.get_by_role("row").filter(has_text="example-mockups")).to_contain_text(reference)
        page.get_by_role("button", name="Run the payouts").click()  # again: nobody is paid twice
        expect(page.get_by_role("status")).to_contain_text("0 payouts made")
        expect(page.get_by_text(f"No vendor had unpaid entries up to the end of {month}")).to_be_visible()
        check_page(page)

        page.context.clear_cookies()
        sign_in(page, VENDOR)
        page.goto("/vendor/example-mockups/payouts")
        page.get_by_role("link", name=reference).click()
        expect(page.get_by_role("heading", name=f"Payout {reference}")).to_be_visible()
        expect(page.get_by_text("Reconciled")).to_be_visible()
        with page.expect_download() as download:
            page.get_by_role("link", name="Download the remittance as CSV").click()
        assert download.value.suggested_filename.endswith(".csv")
        check_page(page)

        page.get_by_role("navigation", name="Vendor portal").get_by_role("link", name="Statements").click()
        expect(page.get_by_role("textbox", name="Month")).to_have_value(month)
        expect(page.get_by_role("heading", name=f"{month} in USD")).to_be_visible()
        expect(page.get_by_role("link", name=reference)).to_be_visible()
        check_page(page, "vendor-statements")
    finally:
        _api(live_server, OPERATOR_TOKEN, "DELETE", "/test-clock")
