"""Journeys across the pages, as people make them: each test is one story told by clicking through the real
pages of a live server (issue #13's list), so a form that posts what the next page does not take, a missing link
or a wrong redirect breaks it.

An app is licensed once per host instance, so each journey buys on a host that does not hold the app yet: the
first on Acme's 100-user wiki server, the refund and direct-store journeys on hosts they register themselves.
Other people (the operator, the vendor, a signed-out visitor) use browser contexts of their own.
"""

from __future__ import annotations

import io
import re

from playwright.sync_api import Browser, BrowserContext, Page, expect
from pypdf import PdfReader

from support.browser import BUYER, DESKTOP, OPERATOR, VENDOR, LiveServer, sign_in
from support.browser_checks import check_page

MOCKUPS = "com.example.mockups.wiki"


def _operator_page(browser: Browser, live_server: LiveServer) -> Page:
    """The operator, signed in in a browser of its own (another person, another set of cookies)."""
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, OPERATOR)
    return page


def test_a_buyer_finds_prices_buys_pays_copies_and_checks_the_key(
    page: Page, context: BrowserContext, browser: Browser, live_server: LiveServer
) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, BUYER)

    # Find the app on the storefront.
    page.get_by_role("link", name="Mercato", exact=True).first.click()
    page.get_by_role("searchbox", name="Search").fill("mockups")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Mockups for Wiki").click()
    expect(page.get_by_role("heading", name="Mockups for Wiki", level=1)).to_be_visible()

    # Price it for a 100-user host: the marketplace refuses the 10-user tier, the direct store sells it.
    calculator = page.locator("#calculator")
    calculator.get_by_label("Hosting").select_option(label="Server")
    calculator.get_by_label("Your Northwind Wiki's user tier").select_option("100")
    calculator.get_by_label("App tier").select_option("10")
    calculator.get_by_label("Buy on").select_option("marketplace")
    calculator.get_by_role("button", name="Show the price").click()
    tier = page.locator("#calculator").get_by_label("App tier")
    expect(tier).to_have_attribute("aria-invalid", "true")
    refusal = page.locator("#" + (tier.get_attribute("aria-describedby") or "tier-error"))
    expect(refusal).to_contain_text("must be licensed for at least 100 users on the marketplace")
    expect(refusal).to_contain_text("Choose the 100-user tier")

    page.locator("#calculator").get_by_label("Buy on").select_option("direct")
    page.locator("#calculator").get_by_role("button", name="Show the price").click()
    calculator = page.locator("#calculator")
    expect(calculator.get_by_label("App tier")).not_to_have_attribute("aria-invalid", "true")
    expect(calculator.get_by_role("heading", name="Bought from Example Mockups Ltd")).to_be_visible()
    expect(calculator.get_by_role("row", name=re.compile("Total"))).to_contain_text("$10.00")

    # Buy the 100-user tier on the marketplace for Acme's wiki server.
    calculator.get_by_label("App tier").select_option("100")
    calculator.get_by_label("Buy on").select_option("marketplace")
    calculator.get_by_role("button", name="Show the price").click()
    calculator = page.locator("#calculator")
    expect(calculator.get_by_role("row", name=re.compile("Total"))).to_contain_text("$1,100.00")
    calculator.get_by_label("For your host").select_option(label="Acme wiki (Server, 100 users)")
    calculator.get_by_role("button", name="Buy").click()

    expect(page.get_by_role("heading", name="Your cart")).to_be_visible()
    expect(page.get_by_role("heading", name="Marketplace quote for Acme wiki")).to_be_visible()
    page.get_by_role("button", name="Create quote").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Quote Q-"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Total"))).to_contain_text("$1,100.00")
    page.get_by_role("button", name="Accept quote").click()
    invoice_heading = page.get_by_role("heading", name=re.compile(r"^Invoice MKT-"))
    expect(invoice_heading).to_be_visible()
    number = invoice_heading.inner_text().removeprefix("Invoice ").strip()
    expect(page.locator("#balance-due")).to_have_text("$1,100.00")

    # The operator, in its own browser, records the bank transfer in the admin.
    operator = _operator_page(browser, live_server)
    operator.get_by_role("link", name="Admin", exact=True).click()
    operator.get_by_role("link", name=re.compile("Unpaid invoices")).click()
    operator.get_by_role("link", name=number).click()
    expect(operator.get_by_role("heading", name=f"Invoice {number}")).to_be_visible()
    operator.get_by_label("Reference").fill("BANK-JOURNEY-0001")
    operator.get_by_role("button", name="Record the payment").click()
    expect(operator.get_by_role("heading", name=f"Invoice {number}")).to_contain_text("paid")
    operator.context.close()

    # The buyer opens the invoice again and copies the key.
    page.reload()
    expect(page.locator("#balance-due")).to_have_text("$0.00")
    expect(page.get_by_role("heading", name="License keys")).to_be_visible()
    key_block = page.locator(".key-block").filter(has=page.get_by_role("heading", name=re.compile(MOCKUPS)))
    key_block.get_by_role("button", name=f"Copy key of {MOCKUPS}").click()
    expect(key_block.get_by_role("button")).to_have_text("Copied")
    # Then the button reads as before: "Copy key", the app it copies named for screen readers only.
    restored = key_block.get_by_role("button", name=f"Copy key of {MOCKUPS}")
    expect(restored.locator(".visually-hidden")).to_have_text(f" of {MOCKUPS}")
    key = page.evaluate("navigator.clipboard.readText()")
    assert len(key) > 40

    # From the license's page to the license check, the host's details filled in: paste the key.
    page.get_by_role("link", name="My licenses").first.click()
    wiki = page.locator("section", has=page.get_by_role("heading", name="Acme wiki", exact=True))
    wiki.get_by_role("link", name=MOCKUPS).click()
    page.get_by_role("link", name="Check this key on the license check page").click()
    expect(page.get_by_role("heading", name="Check a license key", level=1)).to_be_visible()
    expect(page.get_by_label("App key")).to_have_value(MOCKUPS)
    expect(page.get_by_label("Server id or cloud site")).not_to_have_value("")
    expect(page.get_by_label("Host user tier")).to_have_value("100")
    page.get_by_label("License key").focus()
    page.keyboard.press("ControlOrMeta+V")
    expect(page.get_by_label("License key")).to_have_value(key)
    page.get_by_role("button", name="Check the key").click()
    expect(page.locator(".verdict-status")).to_have_text("VALID")
    check_page(page)


KANBAN = "com.example.mockups.kanban.wiki"
KANBAN_PRICES = {"10 users": "10.00", "25 users": "200.00", "50 users": "400.00", "100 users": "700.00",
                 "250 users": "1400.00", "500 users": "2400.00", "2,000 users": "4400.00",
                 "10,000 users": "7400.00", "Unlimited users": "9400.00"}  # fmt: skip


def test_a_vendor_lists_an_app_the_operator_approves_it_and_a_visitor_finds_it(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    # The vendor lists a new app and submits its server listing for review.
    sign_in(page, VENDOR)
    page.get_by_role("link", name="Vendor portal").click()
    page.get_by_role("link", name="Apps and listings").click()
    page.get_by_label("App key").fill(KANBAN)
    page.get_by_label("Name").fill("Kanban Boards for Wiki")
    page.get_by_label("Host product").select_option("wiki")
    page.get_by_label("Summary").fill("Plan work on kanban boards inside any wiki page.")
    page.get_by_label("Description").fill("## Kanban boards\n\nCards, columns and swimlanes in the page.")
    page.get_by_role("button", name="Create the app").click()
    expect(page.get_by_role("heading", name="Kanban Boards for Wiki", level=1)).to_be_visible()
    page.get_by_role("link", name="Create a server listing").click()
    for label, amount in KANBAN_PRICES.items():
        page.get_by_label(label, exact=True).fill(amount)
    page.get_by_role("button", name="Save and submit for review").click()
    expect(page.get_by_role("status")).to_contain_text("Submitted for review")

    # Waiting for review, it is not on the storefront yet.
    visitor_context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    visitor_context.set_default_timeout(10_000)
    visitor = visitor_context.new_page()
    visitor.goto("/?q=kanban")
    expect(visitor.get_by_role("link", name="Kanban Boards for Wiki")).to_have_count(0)

    # The operator approves it from the review queue.
    operator = _operator_page(browser, live_server)
    operator.get_by_role("link", name="Admin", exact=True).click()
    operator.get_by_role("link", name=re.compile("Listings in review")).click()
    operator.get_by_role("link", name="Kanban Boards for Wiki").click()
    expect(operator.get_by_role("row", name="100 users")).to_contain_text("$700.00")
    operator.get_by_label("Note to the vendor (optional)").fill("Welcome to the marketplace.")
    operator.get_by_role("button", name="Approve").click()
    expect(operator.get_by_role("status")).to_contain_text("Approved")
    operator.context.close()

    # The vendor sees the decision on its listing.
    page.reload()
    expect(page.get_by_role("cell", name="Welcome to the marketplace.")).to_be_visible()

    # A signed-out visitor finds it on the storefront and opens its page.
    visitor.get_by_role("link", name="Mercato", exact=True).click()
    visitor.get_by_role("searchbox", name="Search").fill("kanban")
    visitor.get_by_role("button", name="Search").click()
    visitor.get_by_role("link", name="Kanban Boards for Wiki").click()
    expect(visitor.get_by_role("heading", name="Kanban Boards for Wiki", level=1)).to_be_visible()
    expect(visitor.get_by_text("Plan work on kanban boards inside any wiki page.")).to_be_visible()
    expect(visitor.get_by_role("heading", name="Kanban boards", exact=True)).to_be_visible()
    expect(visitor.get_by_role("row", name=re.compile("100 users"))).to_contain_text("$700.00")
    expect(visitor.get_by_role("link", name="Sign in to buy")).to_be_visible()
    check_page(visitor)
    visitor_context.close()


def _pdf_text(path: str) -> str:
    with open(path, "rb") as pdf:
        return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.read())).pages)


def test_the_operator_refunds_a_purchase_the_license_is_cancelled_and_the_pdf_says_so(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    # The buyer registers a new wiki server and buys the mockup app for it from the cart.
    sign_in(page, BUYER)
    page.get_by_role("link", name="Hosts").click()
    page.get_by_label("Host product").select_option(label="Northwind Wiki")
    page.get_by_label("Hosting").select_option("server")
    page.get_by_label("Server id, or the cloud site's hostname").fill("ACME-LAB-0013")
    page.get_by_label("Name (optional)").fill("Acme lab wiki")
    page.get_by_label("User tier of the host license").fill("100")
    page.get_by_role("button", name="Register host").click()
    expect(page.get_by_role("cell", name="Acme lab wiki", exact=True)).to_be_visible()
    page.get_by_role("link", name="Go to your cart").click()
    page.get_by_label("App key").fill(MOCKUPS)
    page.get_by_label("Host", exact=True).select_option(label="Acme lab wiki (wiki server)")
    page.get_by_label("Buy on").select_option("marketplace")
    page.get_by_label("Tier (users)").fill("100")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("button", name="Create quote").click()
    page.get_by_role("button", name="Accept quote").click()
    invoice_heading = page.get_by_role("heading", name=re.compile(r"^Invoice MKT-"))
    number = invoice_heading.inner_text().removeprefix("Invoice ").strip()

    # The operator records the payment, then refunds the line.
    operator = _operator_page(browser, live_server)
    operator.goto("/admin/invoices?status=open")
    operator.get_by_role("link", name=number).click()
    operator.get_by_label("Reference").fill("BANK-JOURNEY-0013")
    operator.get_by_role("button", name="Record the payment").click()
    expect(operator.get_by_role("heading", name=f"Invoice {number}")).to_contain_text("paid")
    operator.get_by_label("Reason for refunding line 1").fill("Bought for a host that was never set up")
    operator.get_by_role("button", name="Refund line 1").click()
    expect(operator.get_by_role("row").filter(has_text=MOCKUPS)).to_contain_text("Refunded")
    operator.context.close()

    # The buyer's license is cancelled.
    page.get_by_role("link", name="My licenses").click()
    lab = page.locator("section", has=page.get_by_role("heading", name="Acme lab wiki", exact=True))
    expect(lab.get_by_role("row").filter(has_text=MOCKUPS)).to_contain_text("Cancelled")
    check_page(page)

    # From the license's history to its invoice, and the invoice as a PDF.
    lab.get_by_role("link", name=MOCKUPS).click()
    history = page.locator("section", has=page.get_by_role("heading", name="History"))
    expect(history).to_contain_text("Bought for a host that was never set up")
    history.get_by_role("link", name=number).first.click()
    expect(page.get_by_role("heading", name=f"Invoice {number}")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"{number}.pdf"
    text = _pdf_text(str(download.path()))
    assert number in text
    assert MOCKUPS in text
    assert "(refunded)" in text
    assert "Refunded USD 1,100.00" in text


def test_a_buyer_buys_on_the_direct_store_and_the_vendor_records_the_payment_from_its_portal(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    # The buyer registers another wiki server and buys the 10-user tier the direct store sells for it.
    sign_in(page, BUYER)
    page.get_by_role("link", name="Hosts").click()
    page.get_by_label("Host product").select_option(label="Northwind Wiki")
    page.get_by_label("Server id, or the cloud site's hostname").fill("ACME-LAB-0021")
    page.get_by_label("Name (optional)").fill("Acme team wiki")
    page.get_by_label("User tier of the host license").fill("100")
    page.get_by_role("button", name="Register host").click()
    page.goto(f"/apps/{MOCKUPS}")
    calculator = page.locator("#calculator")
    calculator.get_by_label("Your host", exact=True).select_option(label="Acme team wiki (Server, 100 users)")
    calculator.get_by_label("App tier").select_option("10")
    calculator.get_by_label("Buy on").select_option("direct")
    calculator.get_by_role("button", name="Show the price").click()
    calculator = page.locator("#calculator")
    expect(calculator.get_by_role("heading", name="Bought from Example Mockups Ltd")).to_be_visible()
    expect(calculator.get_by_role("row", name=re.compile("Total"))).to_contain_text("$10.00")
    calculator.get_by_role("button", name="Buy").click()
    page.get_by_role("button", name=re.compile("^Create quote")).click()
    expect(page.get_by_text("Example Mockups Ltd (direct store)")).to_be_visible()
    page.get_by_role("button", name="Accept quote").click()
    invoice_heading = page.get_by_role("heading", name=re.compile(r"^Invoice "))
    number = invoice_heading.inner_text().removeprefix("Invoice ").strip()
    expect(page.locator("#balance-due")).to_have_text("$10.00")

    # The vendor is the seller: it finds the invoice in its portal and records the payment.
    vendor_context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    vendor_context.set_default_timeout(10_000)
    vendor = vendor_context.new_page()
    sign_in(vendor, VENDOR)
    vendor.get_by_role("link", name="Vendor portal").click()
    vendor.get_by_role("link", name="Direct store").click()
    vendor.get_by_role("link", name=number).click()
    vendor.get_by_label("Bank reference or PO number").fill("DIRECT-JOURNEY-0021")
    vendor.get_by_role("button", name="Record payment").click()
    expect(vendor.locator("#balance-due")).to_have_text("$0.00")
    vendor.get_by_role("link", name="Vendor portal").click()
    vendor.get_by_role("link", name="Direct store").click()
    expect(vendor.get_by_role("row").filter(has_text=number)).to_contain_text("paid")
    check_page(vendor)
    vendor_context.close()

    # The buyer's key is there.
    page.reload()
    expect(page.get_by_role("heading", name="License keys")).to_be_visible()
