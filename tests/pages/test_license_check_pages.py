"""The license check page: the validate service's verdict for a pasted key, its sentence, and the button that
fixes it; the server's clock decides, whatever the form says."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from mercato.clock import FixedClock
from mercato.licenses.service import IssuedKey, IssueRequest, LicenseService
from mercato.pages.license_check_pages import fix_for
from support.licenses import SERVER_ID, license_services
from support.pages import HTML, csrf_of

MOCKUPS = "com.example.mockups.wiki"


def issue(session: Session, **overrides: Any) -> IssuedKey:
    fields: dict[str, Any] = {
        "app_key": MOCKUPS,
        "hosting": "server",
        "channel": "marketplace",
        "tier": 100,
        "license_type": "commercial",
        "host_binding": SERVER_ID,
        "maintenance_end": date(2027, 11, 26),
    } | overrides
    issued = LicenseService(session, license_services()).issue(IssueRequest(**fields))
    session.commit()
    return issued


def check(client: TestClient, **fields: str) -> tuple[int, str]:
    token = csrf_of(client.get("/license-check", headers=HTML).text)
    form = {"app_key": MOCKUPS, "hosting": "server", "server_id": SERVER_ID, "host_tier": "100"} | fields
    answer = client.post("/license-check", data=form | {"csrf_token": token}, headers=HTML)
    return answer.status_code, answer.text


def status_of(html: str) -> str:
    found = re.search(r'<p class="verdict-status">([A-Z_]+)</p>', html)
    assert found, "the page shows no verdict"
    return found.group(1)


def fix_of(html: str) -> tuple[str, str] | None:
    found = re.search(r'<p class="fix"><a class="button primary" href="([^"]+)">([^<]+)</a></p>', html)
    return (found.group(1), found.group(2)) if found else None


def test_the_form_needs_no_sign_in(client: TestClient) -> None:
    page = client.get("/license-check", headers=HTML)
    assert page.status_code == 200
    assert '<label for="key">License key</label>' in page.text
    assert f'<option value="{MOCKUPS}">' in page.text  # the app keys are offered as one types
    assert "verdict-status" not in page.text


def test_a_garbage_key_is_a_verdict_with_its_fix(client: TestClient) -> None:
    status, html = check(client, key="certainly not a key")
    assert status == 200
    assert status_of(html) == "MALFORMED"
    assert "This is not a complete license key" in html
    assert fix_of(html) == ("/licenses", "Get the new key")


def test_a_fresh_key_is_valid_and_needs_no_fix(client: TestClient, session: Session) -> None:
    issued = issue(session)
    status, html = check(client, key=issued.token)
    assert status == 200
    assert status_of(html) == "VALID"
    assert fix_of(html) is None
    assert issued.license.entitlement_number in html
    assert "26 Nov 2027" in html  # maintenance end, from the key


def test_a_tier_below_the_host_offers_the_upgrade_of_that_license(
    client: TestClient, session: Session
) -> None:
    issued = issue(session)
    _, html = check(client, key=issued.token, host_tier="250")
    assert status_of(html) == "USER_MISMATCH"
    assert fix_of(html) == (f"/licenses/{issued.license.entitlement_number}", "Upgrade the license")


def test_a_direct_key_used_by_more_users_than_its_tier(client: TestClient, session: Session) -> None:
    issued = issue(session, channel="direct", tier=10)
    _, html = check(client, key=issued.token, app_users="50")
    assert status_of(html) == "USERS_EXCEEDED"
    assert fix_of(html) == (f"/licenses/{issued.license.entitlement_number}", "Upgrade the license")


def test_a_revoked_key_sends_the_admin_to_the_seller(client: TestClient, session: Session) -> None:
    issued = issue(session)
    LicenseService(session, license_services()).revoke_key(issued.key.serial, "chargeback")
    session.commit()
    _, html = check(client, key=issued.token)
    assert status_of(html) == "REVOKED"
    assert fix_of(html) == ("mailto:billing@northwind.example", "Contact the seller")


def test_the_server_clock_decides_and_a_date_in_the_form_is_ignored(
    client: TestClient, session: Session, server_clock: FixedClock
) -> None:
    issued = issue(
        session, hosting="datacenter", maintenance_end=date(2026, 12, 31), term_end=date(2026, 12, 31)
    )
    _, html = check(client, key=issued.token, hosting="datacenter")
    assert status_of(html) == "VALID"
    server_clock.advance(days=60)  # past the term's end, by the server's calendar
    _, html = check(client, key=issued.token, hosting="datacenter", today="2026-11-26")
    assert status_of(html) == "EXPIRED"
    assert fix_of(html) == (f"/licenses/{issued.license.entitlement_number}", "Renew the license")


def test_invalid_fields_are_told_next_to_them(client: TestClient) -> None:
    status, html = check(client, key="", app_key="", server_id="", host_tier="lots", app_users="many")
    assert status == 422
    for name in ("key", "app_key", "server_id", "host_tier", "app_users"):
        assert f'aria-describedby="{name}-error"' in html, name
        assert f'<p class="field-error" id="{name}-error">' in html, name
    assert 'the host tier is a positive number of users or "unlimited"' in html.replace("&#34;", '"')
    assert "verdict-status" not in html


@pytest.mark.parametrize("token", [None, "", "forged-token-of-another-site-xxxxx"])
def test_the_form_refuses_a_post_without_its_token(client: TestClient, token: str | None) -> None:
    client.get("/license-check", headers=HTML)  # the browser has its form cookie
    form = {"key": "x", "app_key": MOCKUPS, "hosting": "server", "server_id": SERVER_ID, "host_tier": "100"}
    if token is not None:
        form["csrf_token"] = token
    answer = client.post("/license-check", data=form, headers=HTML)
    assert answer.status_code == 403
    assert "verdict-status" not in answer.text


def test_each_action_has_its_button() -> None:
    terms = {"entitlement_number": "SEN-1"}
    assert fix_for("BUY", MOCKUPS, None, None) == fix_for("BUY", MOCKUPS, terms, None)
    assert fix_for("BUY", MOCKUPS, None, None).href == f"/apps/{MOCKUPS}"  # type: ignore[union-attr]
    assert fix_for("RENEW", MOCKUPS, None, None).href == "/cart"  # type: ignore[union-attr]
    assert fix_for("RENEW", MOCKUPS, terms, None).href == "/licenses/SEN-1"  # type: ignore[union-attr]
    assert fix_for("NONE", MOCKUPS, terms, None) is None
    assert fix_for("CONTACT_SELLER", MOCKUPS, None, None).href == f"/apps/{MOCKUPS}"  # type: ignore[union-attr]
    assert fix_for("MIGRATE", MOCKUPS, terms, None).href == "/licenses/SEN-1"  # type: ignore[union-attr]


def test_the_hosts_details_can_be_filled_in_from_the_address(client: TestClient) -> None:
    page = client.get(
        "/license-check",
        params={"app_key": MOCKUPS, "hosting": "datacenter", "server_id": "ACME-1", "host_tier": "250"},
        headers=HTML,
    ).text
    assert f'name="app_key" list="app-keys" required value="{MOCKUPS}"' in page
    assert '<option value="datacenter" selected>' in page
    assert 'value="ACME-1"' in page and 'value="250"' in page
