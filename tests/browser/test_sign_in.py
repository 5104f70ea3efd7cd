"""Signing in and out in a real browser, by keyboard alone."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from support.browser import BUYER, sign_in
from support.browser_checks import check_page


def test_a_buyer_signs_in_and_out(page: Page) -> None:
    page.goto("/sign-in")
    check_page(page, "sign-in")
    sign_in(page, BUYER)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in", exact=True)).to_be_visible()


def test_the_sign_in_form_works_from_the_keyboard(page: Page) -> None:
    page.goto("/sign-in")
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.get_by_label("E-mail address").focus()
    page.keyboard.type(BUYER)
    page.keyboard.press("Tab")
    page.keyboard.type("mercato-demo-password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_a_wrong_password_is_shown_on_the_form(page: Page) -> None:
    sign_in(page, BUYER, password="certainly not the password")
    expect(page.get_by_role("alert")).to_contain_text("The e-mail address or the password is not right.")
    check_page(page)
