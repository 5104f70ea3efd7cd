"""A vendor's transition campaign through HTTP: its customers are told once on the notice date with their
migration quote (free, or the upgrade to the host's tier and its price), reminded 30, 7 and 1 days before the
deadline until they move, and the vendor sees who has moved; the rules of a campaign and who may see it."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mercato.clock import FixedClock
from mercato.commerce.models import Quote
from mercato.pricing import format_money
from mercato.transitions.models import TransitionEmail
from support.world import World

from .campaigns import (
    API,
    MOCKUPS,
    PUBLIC_URL,
    SSO,
    accept_and_pay,
    announce,
    buy,
    by_license,
    campaign,
    direct_license,
    run_emails,
    transition_emails,
)

NOTICE = date(2027, 11, 1)
DEADLINE = date(2028, 1, 15)
RENEWAL_DAY = date(2027, 11, 26)
"""The licenses bought on 2026-11-26 may renew (at most 12 months ahead in the direct channel) from this day."""


def move_to(clock: FixedClock, day: date) -> None:
    clock.advance(days=(day - clock.today()).days)


def quote_of(session: Session, entitlement: str, kind: str) -> Quote:
    """The quote the campaign's e-mail of ``kind`` about the license offered."""
    from mercato.licenses.models import License

    row = session.scalars(
        select(TransitionEmail)
        .join(License, License.id == TransitionEmail.license_id)
        .where(License.entitlement_number == entitlement, TransitionEmail.kind == kind)
    ).one()
    quote = session.get(Quote, row.quote_id)
    assert quote is not None
    return quote


def test_a_campaign_tells_each_license_once_reminds_those_not_moved_and_shows_who_moved(
    shop: TestClient, world: World, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    ready = direct_license(shop, world, "100", "wiki_server")
    upgrade = direct_license(shop, world, "10", "wiki_lab")
    globex = direct_license(shop, world, "250", "globex_wiki", buyer="globex_admin")

    created = announce(
        shop,
        world,
        apps=[MOCKUPS],
        notice_date=NOTICE.isoformat(),
        deadline=DEADLINE.isoformat(),
        message="From February our server apps are sold on the marketplace.",
    )
    assert created.status_code == 201, created.text
    document = created.json()
    assert (document["state"], document["members"]) == ("scheduled", 3)
    assert document["totals"] | {} == {
        "members": 3,
        "migrated": 0,
        "ready": 2,
        "needs_upgrade": 1,
        "awaiting_payment": 0,
        "blocked": 0,
        "closed": 0,
    }
    members = by_license(document)
    assert members[upgrade]["status"] == "needs_upgrade"
    assert (members[upgrade]["upgrade_to"], members[upgrade]["price"]) == ("100", "1090.00")
    assert (members[ready]["status"], members[ready]["price"]) == ("ready", "0.00")
    campaign_id = document["id"]

    assert run_emails(session_factory, clock) == []  # before the notice date: nothing
    move_to(clock, NOTICE)
    assert run_emails(session_factory, clock) == sorted(
        f"{sen}:announcement" for sen in (ready, upgrade, globex)
    )
    assert run_emails(session_factory, clock) == []  # once

    with session_factory() as session:
        emails = {sen: transition_emails(session, sen) for sen in (ready, upgrade, globex)}
        assert [len(found) for found in emails.values()] == [1, 1, 1]
        assert emails[ready][0].payload["to"] == ["acme_admin@test.example"]
        assert emails[globex][0].payload["to"] == ["globex_admin@test.example"]
        upgrade_quote = quote_of(session, upgrade, "announcement")
        ready_quote = quote_of(session, ready, "announcement")
        globex_quote = quote_of(session, globex, "announcement")
    text = emails[upgrade][0].payload["text"]
    assert DEADLINE.isoformat() in text and upgrade_quote.number in text
    assert format_money(Decimal("1090.00"), "USD") in text and "upgraded to 100 users" in text
    assert f"{PUBLIC_URL}/quotes/{upgrade_quote.id}" in text
    assert "keeps working for 30 days" in text and "same terms" in text
    assert (
        "Price: free" in emails[ready][0].payload["text"]
        and ready_quote.number in emails[ready][0].payload["text"]
    )
    assert (upgrade_quote.channel, upgrade_quote.seller, upgrade_quote.total_minor) == (
        "marketplace",
        "operator",
        109000,
    )

    # Globex accepts its free quote: its license is a marketplace license now.
    accept_and_pay(shop, world, str(globex_quote.id), "globex_admin")
    shown = campaign(shop, world, campaign_id)
    assert shown["state"] == "running"
    assert (shown["totals"]["migrated"], shown["totals"]["ready"], shown["totals"]["needs_upgrade"]) == (
        1,
        1,
        1,
    )
    assert by_license(shown)[globex]["status"] == "migrated"
    assert by_license(shown)[ready]["quote_number"] == ready_quote.number

    # Until they move, direct licenses renew in the direct channel.
    move_to(clock, RENEWAL_DAY)
    renewal = buy(shop, world, [{"action": "renewal", "license": upgrade}], instance="wiki_lab")
    assert (renewal["seller"], renewal["lines"][0]["license"]) == ("vendor:example-mockups", upgrade)
    assert by_license(campaign(shop, world, campaign_id))[upgrade]["status"] == "needs_upgrade"

    move_to(clock, DEADLINE - timedelta(days=30))
    assert run_emails(session_factory, clock) == sorted(f"{sen}:30_days_before" for sen in (ready, upgrade))
    move_to(clock, DEADLINE - timedelta(days=7))
    assert run_emails(session_factory, clock) == sorted(f"{sen}:7_days_before" for sen in (ready, upgrade))
    assert run_emails(session_factory, clock) == []
    move_to(clock, DEADLINE - timedelta(days=1))
    assert run_emails(session_factory, clock) == sorted(f"{sen}:1_day_before" for sen in (ready, upgrade))
    move_to(clock, DEADLINE)
    assert run_emails(session_factory, clock) == []

    with session_factory() as session:
        assert len(transition_emails(session, globex)) == 1
        reminders = transition_emails(session, ready)
        assert len(reminders) == 4
        assert "1 day left" in reminders[-1].payload["subject"]
        # The announcement's quote had expired by the 30-day reminder, which offered a fresh one; the 7-day
        # reminder offered that one again, still valid.
        fresh = quote_of(session, ready, "30_days_before")
        assert fresh.id != ready_quote.id and fresh.number in reminders[1].payload["text"]
        assert quote_of(session, ready, "7_days_before").id == fresh.id

    listed = shop.get(f"{API}/vendors/example-mockups/transitions", headers=world.auth("mockups_vendor"))
    assert [item["id"] for item in listed.json()["items"]] == [campaign_id]
    table = shop.get(
        f"{API}/vendors/example-mockups/transitions/{campaign_id}?format=csv", headers=world.auth("operator")
    )
    assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
    rows = {row["entitlement_number"]: row for row in csv.DictReader(io.StringIO(table.text))}
    assert {sen: rows[sen]["status"] for sen in rows} == {
        ready: "ready",
        upgrade: "needs_upgrade",
        globex: "migrated",
    }
    assert rows[ready]["emails"] == "announcement 30_days_before 7_days_before 1_day_before"


def test_a_cancelled_campaign_sends_nothing_more(
    shop: TestClient, world: World, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    direct_license(shop, world, "100", "wiki_server")
    created = announce(shop, world, notice_date=NOTICE.isoformat(), deadline=DEADLINE.isoformat())
    assert created.status_code == 201, created.text
    assert (
        created.json()["apps"] == [MOCKUPS, "com.example.mockups.tracker"]
        or MOCKUPS in created.json()["apps"]
    )
    path = f"{API}/vendors/example-mockups/transitions/{created.json()['id']}/cancel"
    cancelled = shop.post(path, headers=world.auth("mockups_vendor"))
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["state"]) == ("cancelled", "cancelled")
    again = shop.post(path, headers=world.auth("operator"))
    assert again.status_code == 200 and again.json()["cancelled_at"] == cancelled.json()["cancelled_at"]
    move_to(clock, NOTICE)
    assert run_emails(session_factory, clock) == []


def test_a_retried_announcement_makes_one_campaign(shop: TestClient, world: World) -> None:
    direct_license(shop, world, "100", "wiki_server")
    body = {"notice_date": NOTICE.isoformat(), "deadline": DEADLINE.isoformat()}
    headers = world.auth("mockups_vendor") | {"Idempotency-Key": "announce-1"}
    first = shop.post(f"{API}/vendors/example-mockups/transitions", json=body, headers=headers)
    second = shop.post(f"{API}/vendors/example-mockups/transitions", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    other = shop.post(
        f"{API}/vendors/example-mockups/transitions", json=body | {"message": "another"}, headers=headers
    )
    assert other.status_code == 422 and other.json()["type"].endswith("idempotency-key-reused"), other.text
    listed = shop.get(f"{API}/vendors/example-mockups/transitions", headers=world.auth("mockups_vendor"))
    assert listed.json()["total"] == 1


def test_what_a_campaign_refuses_and_who_may_see_it(
    shop: TestClient, world: World, clock: FixedClock
) -> None:
    direct_license(shop, world, "100", "wiki_server")
    today = clock.today()

    def refused(expected: str, **body: object) -> None:
        answer = announce(shop, world, **body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["type"].endswith(expected), answer.json()

    refused(
        "deadline-too-soon", notice_date=today.isoformat(), deadline=(today + timedelta(days=29)).isoformat()
    )
    refused(
        "notice-date-in-the-past",
        notice_date=(today - timedelta(days=1)).isoformat(),
        deadline=(today + timedelta(days=60)).isoformat(),
    )
    refused("not-the-vendors-app", apps=[SSO], notice_date=today.isoformat(), deadline=DEADLINE.isoformat())
    refused(
        "nothing-to-transition",
        apps=["com.example.mockups.tracker"],
        notice_date=today.isoformat(),
        deadline=DEADLINE.isoformat(),
    )
    # Exactly 30 days is enough.
    made = announce(
        shop, world, notice_date=today.isoformat(), deadline=(today + timedelta(days=30)).isoformat()
    )
    assert made.status_code == 201, made.text
    campaign_id = made.json()["id"]

    base = f"{API}/vendors/example-mockups/transitions"
    for role in ("gatekeeper_vendor", "acme_admin"):
        assert shop.get(base, headers=world.auth(role)).status_code == 404
        assert shop.get(f"{base}/{campaign_id}", headers=world.auth(role)).status_code == 404
        assert shop.post(f"{base}/{campaign_id}/cancel", headers=world.auth(role)).status_code == 404
        posted = announce(
            shop, world, role=role, notice_date=today.isoformat(), deadline=DEADLINE.isoformat()
        )
        assert posted.status_code == 404
    # The campaign under another vendor's address is not there either, even for operator staff.
    elsewhere = shop.get(
        f"{API}/vendors/gatekeeper/transitions/{campaign_id}", headers=world.auth("operator")
    )
    assert elsewhere.status_code == 404
    assert elsewhere.json()["type"].endswith("transition-campaign-not-found")
    assert campaign(shop, world, campaign_id, role="operator")["members"] == 1


def test_a_direct_upgrade_during_the_campaign_changes_the_quote_the_next_reminder_offers(
    shop: TestClient, world: World, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    small = direct_license(shop, world, "10", "wiki_lab")
    notice, deadline = date(2026, 12, 1), date(2027, 1, 5)
    made = announce(shop, world, notice_date=notice.isoformat(), deadline=deadline.isoformat())
    assert made.status_code == 201, made.text
    move_to(clock, notice)
    assert run_emails(session_factory, clock) == [f"{small}:announcement"]

    upgraded = buy(shop, world, [{"action": "upgrade", "license": small, "tier": "100"}], instance="wiki_lab")
    assert (upgraded["seller"], upgraded["lines"][0]["license"]) == ("vendor:example-mockups", small)
    assert by_license(campaign(shop, world, made.json()["id"]))[small]["status"] == "ready"

    move_to(
        clock, deadline - timedelta(days=30)
    )  # the announcement's quote is still valid, but no longer right
    assert run_emails(session_factory, clock) == [f"{small}:30_days_before"]
    with session_factory() as session:
        announced, reminded = (
            quote_of(session, small, "announcement"),
            quote_of(session, small, "30_days_before"),
        )
        assert (announced.total_minor, reminded.total_minor) == (109000, 0)
        [_, reminder] = transition_emails(session, small)
    assert reminded.number in reminder.payload["text"] and "Price: free" in reminder.payload["text"]
