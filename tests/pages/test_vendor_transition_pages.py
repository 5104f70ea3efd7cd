"""The vendor portal's transition campaigns: the list with its form (CSRF-checked), announcing one and its
refusals next to their fields, the status table with totals and CSV, cancelling, and another vendor's 404."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from mercato.clock import FixedClock
from support.pages import HTML, csrf_of, sign_in
from support.world import World, build_world

VENDOR = "mockups_vendor@test.example"
MOCKUPS = "com.example.mockups.wiki"
API = "/api/v1"
PAGE = "/vendor/example-mockups/transitions"


@pytest.fixture
def world(session: Session) -> World:
    built = build_world(session)
    session.commit()
    return built


def direct_license(client: TestClient, world: World) -> str:
    """A paid direct Mockups license (10 users) on Acme's 100-user wiki server: it needs an upgrade to move."""
    quote = client.post(
        f"{API}/quotes",
        json={
            "host_instance_id": str(world.wiki_server.id),
            "channel": "direct",
            "items": [{"action": "new", "product_key": MOCKUPS, "tier": "10"}],
        },
        headers=world.auth("acme_admin"),
    )
    assert quote.status_code == 201, quote.text
    invoice = client.post(
        f"{API}/quotes/{quote.json()['id']}/accept", headers=world.auth("acme_admin")
    ).json()["invoice"]
    paid = client.post(
        f"{API}/invoices/{invoice['id']}/payments",
        json={
            "amount": invoice["total"],
            "provider": "bank_transfer",
            "reference": f"REF-{invoice['number']}",
        },
        headers=world.auth("mockups_vendor"),
    )
    assert paid.status_code == 200, paid.text
    return str(paid.json()["lines"][0]["license"])


def test_a_vendor_announces_a_campaign_and_follows_it_license_by_license(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    entitlement = direct_license(client, world)
    sign_in(client, session, VENDOR, server_clock.now())
    dashboard = client.get("/vendor/example-mockups", headers=HTML)
    assert f'href="{PAGE}"' in dashboard.text

    listed = client.get(PAGE, headers=HTML)
    assert listed.status_code == 200 and "No campaigns yet." in listed.text
    csrf = csrf_of(listed.text)
    today = server_clock.today()
    form = {"csrf_token": csrf, "notice_date": today.isoformat(), "message": "We move to the marketplace."}

    without_csrf = client.post(PAGE, data={k: v for k, v in form.items() if k != "csrf_token"}, headers=HTML)
    assert without_csrf.status_code == 403

    too_soon = client.post(
        PAGE, data=form | {"deadline": (today + timedelta(days=10)).isoformat()}, headers=HTML
    )
    assert too_soon.status_code == 422
    assert (
        'id="deadline-error"' in too_soon.text and "less than 30 days after the notice date" in too_soon.text
    )

    deadline = (today + timedelta(days=45)).isoformat()
    made = client.post(
        PAGE, data=form | {"deadline": deadline, "apps": MOCKUPS}, headers=HTML, follow_redirects=False
    )
    assert made.status_code == 303, made.text
    location = made.headers["location"]
    assert re.fullmatch(rf"{PAGE}/[0-9a-f-]{{36}}", location)

    shown = client.get(location, headers=HTML)
    assert shown.status_code == 200
    assert entitlement in shown.text and "needs upgrade to 100" in shown.text and "$1,090.00" in shown.text
    assert re.search(r'id="total-members">1<', shown.text) and re.search(
        r'id="total-needs_upgrade">1<', shown.text
    )
    assert ">running<" in shown.text and "We move to the marketplace." in shown.text
    assert deadline in client.get(PAGE, headers=HTML).text

    table = client.get(f"{location}/licenses.csv", headers=HTML)
    assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(table.text)))
    assert (row["entitlement_number"], row["status"], row["upgrade_to"], row["price"]) == (
        entitlement,
        "needs_upgrade",
        "100",
        "1090.00",
    )

    cancelled = client.post(
        f"{location}/cancel", data={"csrf_token": csrf_of(shown.text)}, headers=HTML, follow_redirects=False
    )
    assert cancelled.status_code == 303
    after = client.get(location, headers=HTML).text
    assert "cancelled" in after and "Cancel the campaign" not in after


def test_another_vendors_campaigns_are_404_pages(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    direct_license(client, world)
    made = client.post(
        f"{API}/vendors/example-mockups/transitions",
        json={
            "notice_date": server_clock.today().isoformat(),
            "deadline": (server_clock.today() + timedelta(days=30)).isoformat(),
        },
        headers=world.auth("operator"),
    )
    assert made.status_code == 201, made.text
    sign_in(client, session, VENDOR, server_clock.now())
    assert client.get("/vendor/gatekeeper/transitions", headers=HTML).status_code == 404
    assert client.get(f"/vendor/gatekeeper/transitions/{made.json()['id']}", headers=HTML).status_code == 404
    assert client.get(f"{PAGE}/{made.json()['id']}", headers=HTML).status_code == 200
