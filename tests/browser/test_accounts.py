"""Accounts in a real browser: an invitation accepted from its e-mail, a password reset link that works once and
expires by the server's clock, signing up, and the API tokens page."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from support.browser import BUYER, LiveServer, sign_in
from support.browser_checks import check_page

OPERATOR_TOKEN = {"Authorization": "Bearer mct_demo_operator"}
PASSWORD = "a long enough pass phrase"
NEW_PASSWORD = "another long pass phrase"


def link_in_email(live_server: LiveServer, address: str, count: int = 1) -> str:
    """The path of the link in the ``count``-th e-mail to ``address`` (waiting for it to arrive)."""
    for _ in range(50):
        emails = live_server.emails_to(address)
        if len(emails) >= count:
            break
        time.sleep(0.2)
    assert len(emails) >= count, f"no e-mail number {count} to {address}"
    text = emails[count - 1].message.get_body(preferencelist=("plain",)).get_content()
    found = re.search(r"https?://[^/\s]+(/\S+)", text)
    assert found, text
    return found.group(1)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in", exact=True)).to_be_visible()


def test_an_invited_user_accepts_signs_in_and_a_reset_link_works_once_and_expires(
    page: Page, live_server: LiveServer
) -> None:
    invited = "new.colleague@acme.example"
    sign_in(page, BUYER)
    page.goto("/account")
    page.get_by_role("link", name="Acme Corp").click()
    expect(page.get_by_role("heading", name="Members of Acme Corp")).to_be_visible()
    page.get_by_label("E-mail address").fill(invited)
    page.get_by_label("Role").select_option(label="Billing contact")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_role("status")).to_contain_text(f"Invitation sent to {invited}")
    expect(page.get_by_role("cell", name=invited)).to_be_visible()
    check_page(page, "accounts-members")
    sign_out(page)

    page.goto(link_in_email(live_server, invited))
    expect(page.get_by_role("heading", name="Join Acme Corp")).to_be_visible()
    check_page(page)
    page.get_by_label("Your name").fill("Nova Colleague")
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_role("button", name="Accept and sign in").click()
    expect(page.get_by_role("cell", name="Nova Colleague")).to_be_visible()
    sign_out(page)
    sign_in(page, invited, PASSWORD)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    sign_out(page)

    # A reset link works once.
    page.goto("/password-reset")
    check_page(page)
    page.get_by_label("E-mail address").fill(invited)
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    reset = link_in_email(live_server, invited, count=2)
    page.goto(reset)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password was changed")
    check_page(page)  # the profile, with the roles the invitation gave
    page.goto(reset)
    expect(page.get_by_role("heading", name="This link was used already")).to_be_visible()
    sign_out(page)
    sign_in(page, invited, NEW_PASSWORD)
    sign_out(page)

    # And expires after 30 minutes by the server's clock.
    page.goto("/password-reset")
    page.get_by_label("E-mail address").fill(invited)
    page.get_by_role("button", name="Send the link").click()
    late = link_in_email(live_server, invited, count=3)
    later = (datetime.now(UTC) + timedelta(minutes=31)).isoformat()
    try:
        moved = page.request.put("/api/v1/test-clock", data={"now": later}, headers=OPERATOR_TOKEN)
        assert moved.ok, moved.text()
        page.goto(late)
        expect(page.get_by_role("heading", name="This link has expired")).to_be_visible()
        check_page(page)
    finally:
        page.request.delete("/api/v1/test-clock", headers=OPERATOR_TOKEN)


def test_sign_up_shows_errors_next_to_fields_and_answers_check_your_email(page: Page) -> None:
    page.goto("/sign-up")
    page.get_by_label("Your name").fill("Sam Signup")
    page.get_by_label("E-mail address").fill("sam@signup.example")
    page.get_by_label("Password").fill("too short")
    page.get_by_label("Organisation to create (optional)").fill("Sam's Shop")
    page.get_by_role("button", name="Sign up").click()
    password = page.get_by_label("Password")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("A password needs at least 12 characters").first).to_be_visible()
    check_page(page, "accounts-sign-up")
    password.fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()


def test_a_token_is_made_shown_once_with_a_copy_button_and_revoked(page: Page) -> None:
    sign_in(page, BUYER)
    page.goto("/account/tokens")
    page.get_by_label("Name").fill("Nightly license report")
    page.get_by_label("Write (change things: buy, renew, revoke)").check()
    page.get_by_label("Expires after (days)").fill("30")
    page.get_by_role("button", name="Make the token").click()
    expect(page.get_by_text("Copy it now: it is not shown again.")).to_be_visible()
    expect(page.locator("#new-token")).to_contain_text("mct_")
    copy = page.get_by_role("button", name="Copy the token")
    copy.click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    check_page(page, "accounts-tokens")
    page.reload()
    expect(page.get_by_text("Copy it now: it is not shown again.")).to_have_count(0)
    page.get_by_role("button", name=re.compile(r"^Revoke Nightly license report")).click()
    expect(page.get_by_role("row", name=re.compile("Nightly license report"))).to_contain_text("Revoked")
