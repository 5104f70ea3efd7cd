"""Buying in a real browser: Acme's admin puts the mockup app for the 100-user Acme wiki in the cart, makes the
marketplace quote and accepts it; the marketplace's operator records the bank transfer (the seller records
payments); the admin then sees and copies the key and downloads the invoice PDF."""

from __future__ import annotations

import io
import re

from playwright.sync_api import BrowserContext, Page, expect
from pypdf import PdfReader

from support.browser import BUYER, OPERATOR, sign_in
from support.browser_checks import check_page

MOCKUPS = "com.example.mockups.wiki"


def test_a_host_with_a_tier_the_host_product_lacks_is_refused_by_the_field(page: Page) -> None:
    sign_in(page, BUYER)
    page.get_by_role("link", name="Hosts").click()
    expect(page.get_by_role("cell", name="Acme wiki", exact=True)).to_be_visible()
    page.get_by_label("Server id, or the cloud site's hostname").fill("ACME-LAB-0007")
    page.get_by_label("User tier of the host license").fill("77")
    page.get_by_role("button", name="Register host").click()
    field = page.get_by_label("User tier of the host license")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#user_tier-error")).to_contain_text("licensed in user tiers")
    check_page(page)
    field.fill("100")
    page.get_by_role("button", name="Register host").click()
    expect(page.get_by_role("cell", name="ACME-LAB-0007")).to_be_visible()


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in", exact=True)).to_be_visible()


def test_a_buyer_buys_the_mockup_app_on_the_marketplace_and_gets_its_key(
    page: Page, context: BrowserContext
) -> None:
    sign_in(page, BUYER)
    page.get_by_role("link", name="Cart").click()
    expect(page.get_by_role("heading", name="Your cart")).to_be_visible()
    page.get_by_label("App key").fill(MOCKUPS)
    page.get_by_label("Host", exact=True).select_option(label="Acme wiki (wiki server)")
    page.get_by_label("Buy on").select_option("marketplace")
    page.get_by_label("Tier (users)").fill("100")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("heading", name="Marketplace quote for Acme wiki")).to_be_visible()
    expect(page.get_by_role("button", name="Remove Mockups for Wiki")).to_be_visible()
    check_page(page, "buying-cart")

    page.get_by_role("button", name="Create quote").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Quote Q-"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Total"))).to_contain_text("$1,100.00")
    check_page(page, "buying-quote")

    page.get_by_role("button", name="Accept quote").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Invoice MKT-"))).to_be_visible()
    expect(page.locator("#balance-due")).to_have_text("$1,100.00")
    invoice_url = page.url

    # Payments are recorded by the seller of record: on the marketplace, its operator.
    _sign_out(page)
    sign_in(page, OPERATOR)
    page.goto(invoice_url)
    page.get_by_label("Bank reference or PO number").fill("BANK-2026-11-0042")
    page.get_by_role("button", name="Record payment").click()
    expect(page.locator("#balance-due")).to_have_text("$0.00")
    _sign_out(page)

    sign_in(page, BUYER)
    page.goto(invoice_url)
    expect(page.get_by_role("heading", name="License keys")).to_be_visible()
    key = page.locator("pre.key").first
    key_text = key.inner_text().strip()
    assert len(key_text) > 40
    check_page(page, "buying-invoice")
    copy = page.get_by_role("button", name=re.compile("^Copy key")).first
    target = copy.get_attribute("data-copy-target")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=page.url.split("/invoices")[0])
    copy.click()
    expect(page.locator(f'[data-copy-target="{target}"]')).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == key_text
    expect(page.get_by_role("link", name="My licenses").first).to_be_visible()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    pdf_path = download_info.value.path()
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_path.read_bytes())).pages)
    number = (
        page.get_by_role("heading", name=re.compile(r"^Invoice MKT-")).inner_text().removeprefix("Invoice ")
    )
    assert number in text
    assert MOCKUPS in text
    assert "USD 1,100.00" in text
    assert "BANK-2026-11-0042" in text
