"""The storefront and the license check page in a real browser: a buyer finds the mockup app, prices it for a
100-user host, sees the marketplace refuse a 10-user tier and the direct store accept it; an admin pastes a
garbage key and is shown what fixes it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from support.browser import BUYER, DESKTOP, LiveServer, sign_in
from support.browser_checks import check_page


def test_a_buyer_browses_and_searches_the_catalog(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Apps for your host products")).to_be_visible()
    expect(page.get_by_role("link", name="Gatekeeper SSO for Wiki")).to_be_visible()
    check_page(page, "storefront-home")
    page.get_by_role("searchbox", name="Search").fill("mockups")
    page.get_by_label("Host product").select_option(label="Northwind Wiki")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status")).to_contain_text("1 app")
    expect(page.get_by_role("link", name="Mockups for Wiki")).to_be_visible()
    expect(page.get_by_role("link", name="Gatekeeper SSO for Wiki")).to_have_count(0)
    page.get_by_role("searchbox", name="Search").fill("")
    page.get_by_label("Host product").select_option(label="Any host product")
    page.get_by_label("Vendor").select_option(label="Gatekeeper Security")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Gatekeeper SSO for Wiki")).to_be_visible()
    expect(page.get_by_role("link", name="Mockups for Wiki")).to_have_count(0)


def test_the_marketplace_refuses_a_10_user_tier_and_the_direct_store_accepts_it(page: Page) -> None:
    page.goto("/?q=mockups")
    page.get_by_role("link", name="Mockups for Wiki").click()
    # htmx (a deferred script) sends the calculator once the page has loaded; before, the form is sent as a
    # plain GET, which works but leaves the page (on a busy machine the test was faster than the script).
    page.wait_for_url(re.compile(r"/apps/com\.example\.mockups\.wiki$"), wait_until="load")
    expect(page.get_by_role("heading", name="Mockups for Wiki", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Where to buy it")).to_be_visible()

    calculator = page.locator("#calculator")
    calculator.get_by_label("Hosting").select_option(label="Server")
    calculator.get_by_label("Your Northwind Wiki's user tier").select_option("100")
    calculator.get_by_label("App tier").select_option("10")
    calculator.get_by_label("Buy on").select_option("marketplace")
    calculator.get_by_role("button", name="Show the price").click()
    tier = page.locator("#calculator").get_by_label("App tier")
    expect(tier).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#tier-error")).to_contain_text(
        "must be licensed for at least 100 users on the marketplace"
    )
    expect(page.locator("#tier-error")).to_contain_text("Choose the 100-user tier")
    expect(page).to_have_url(re.compile(r"/apps/com\.example\.mockups\.wiki$"))  # htmx: the page stays
    check_page(page)

    calculator = page.locator("#calculator")
    calculator.get_by_label("Buy on").select_option("direct")
    calculator.get_by_role("button", name="Show the price").click()
    expect(page.locator("#tier-error")).to_have_count(0)
    expect(
        page.locator("#calculator").get_by_role("heading", name="Bought from Example Mockups Ltd")
    ).to_be_visible()
    expect(page.locator("#calculator td.total")).to_have_text("$10.00")
    expect(page.get_by_role("link", name="Sign in to buy")).to_be_visible()
    check_page(page, "storefront-app")


@pytest.fixture
def page_without_js(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP, java_script_enabled=False)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_the_calculator_works_without_javascript(page_without_js: Page) -> None:
    page = page_without_js
    page.goto("/apps/com.example.mockups.wiki")
    calculator = page.locator("#calculator")
    calculator.get_by_label("App tier").select_option("10")
    calculator.get_by_role("button", name="Show the price").click()
    expect(page).to_have_url(re.compile(r"/apps/com\.example\.mockups\.wiki/price\?"))
    expect(page.locator("#tier-error")).to_contain_text("Choose the 100-user tier")


def test_a_signed_in_buyer_prices_its_own_host_by_keyboard_and_gets_the_buy_form(page: Page) -> None:
    sign_in(page, BUYER)
    page.goto("/apps/com.example.mockups.wiki")
    calculator = page.locator("#calculator")
    calculator.get_by_label("Your host", exact=True).select_option(label="Acme wiki (Server, 100 users)")
    calculator.get_by_label("App tier").select_option("10")
    calculator.get_by_label("Years of maintenance").focus()
    page.keyboard.press("Enter")  # the form is sent from the keyboard
    expect(page.locator("#tier-error")).to_contain_text("Choose the 100-user tier")
    page.locator("#calculator").get_by_label("App tier").select_option("100")
    page.locator("#calculator").get_by_role("button", name="Show the price").click()
    calculator = page.locator("#calculator")
    expect(calculator.locator("td.total")).to_have_text("$1,100.00")
    expect(calculator.get_by_role("button", name="Buy")).to_be_visible()
    expect(calculator.get_by_label("For your host")).to_have_value(
        calculator.get_by_label("Your host", exact=True).input_value()
    )
    check_page(page)


def test_a_garbage_key_on_the_license_check_page_shows_the_fix(page: Page) -> None:
    page.goto("/license-check")
    check_page(page)
    page.get_by_label("License key").fill("this is not a license key")
    page.get_by_label("App key").fill("com.example.mockups.wiki")
    page.get_by_label("Server id or cloud site").fill("BX7Q-2M9L-33KD-W1PA")
    page.get_by_label("Host user tier").fill("100")
    page.get_by_role("button", name="Check the key").click()
    expect(page.locator(".verdict-status")).to_have_text("MALFORMED")
    expect(page.get_by_role("status")).to_contain_text("This is not a complete license key")
    fix = page.get_by_role("link", name="Get the new key")
    expect(fix).to_have_attribute("href", "/licenses")
    check_page(page, "license-check")
