"""Customers with renewals due around a price change are told once, by e-mail through the outbox: one e-mail
per organisation naming the app, the date and both prices of each license's renewal; again and at the same
time, nothing more."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from commerce.conftest import START
from commerce.test_seed_scenarios import MOCKUPS, buy, quote
from mail.smtp_server import SmtpTestServer
from mercato.app import create_app
from mercato.catalog.demo import load_demo_catalog
from mercato.catalog.models import UNLIMITED_USERS, PriceTable, TierPrice
from mercato.catalog.price_notices import PriceNotices, announce_price_changes
from mercato.catalog.price_notices_models import PriceChangeNotice
from mercato.catalog.repository import CatalogRepository
from mercato.cli import app as cli
from mercato.clock import FixedClock
from mercato.database import make_engine, make_session_factory, transaction
from mercato.licenses.models import License
from mercato.migrations import upgrade_to_head
from mercato.outbox.models import OutboxMessage
from mercato.outbox.worker import OutboxWorker
from mercato.services import Services
from mercato.settings import Settings, get_settings
from outbox.doubles import smtp_handlers
from support.prices import schedule
from support.secrets import COMMAND_SECRET
from support.world import World, build_world

SERVER_CHANGE = date(2027, 11, 1)  # licenses bought on 2026-11-26 renew on 2027-11-26: inside the window
CLOUD_CHANGE = date(2027, 1, 1)  # the cloud site bills on 2026-12-10, before it


def buy_for_globex(shop: TestClient, world: World, tier: str) -> str:
    """Globex's admin buys the server app for Globex's wiki; the operator records the payment. The license."""
    created = quote(
        shop,
        world,
        [{"action": "new", "product_key": MOCKUPS, "tier": tier}],
        instance="globex_wiki",
        role="globex_admin",
    )
    assert created.status_code == 201, created.text
    accepted = shop.post(f"/api/v1/quotes/{created.json()['id']}/accept", headers=world.auth("globex_admin"))
    invoice = accepted.json()["invoice"]
    paid = shop.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        json={"amount": invoice["amount_due"], "reference": f"TRF-{invoice['number']}"},
        headers=world.auth("operator"),
    )
    assert paid.status_code == 200, paid.text
    return str(paid.json()["lines"][0]["license"])


def services(clock: FixedClock) -> Services:
    return Services(secret_key=COMMAND_SECRET, clock=clock)


def price_change_emails(session: Session) -> list[OutboxMessage]:
    return [
        message
        for message in session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at))
        if "new prices from" in message.payload["subject"]
    ]


def test_customers_with_renewals_due_are_told_both_prices_and_the_date_once(
    shop: TestClient,
    world: World,
    clock: FixedClock,
    session_factory: sessionmaker[Session],
    smtp_server: SmtpTestServer,
) -> None:
    acme_server = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    buy(shop, world, [{"action": "new", "product_key": MOCKUPS}], instance="wiki_cloud")
    globex = buy_for_globex(shop, world, "250")
    with session_factory() as session, session.begin():
        # Globex renews long after the change (and 30 days past it): not told.
        late = session.scalars(select(License).where(License.entitlement_number == globex)).one()
        late.maintenance_end = date(2028, 6, 30)
    schedule(session_factory, MOCKUPS, "server", SERVER_CHANGE, Decimal("1.2"))
    schedule(session_factory, MOCKUPS, "cloud", CLOUD_CHANGE)
    OutboxWorker(session_factory, smtp_handlers(smtp_server.port)).drain()  # the purchases' e-mails
    already = len(smtp_server.received)

    with session_factory() as session, session.begin():
        assert announce_price_changes(session, services(clock)) == 2
    with session_factory() as session, session.begin():
        assert announce_price_changes(session, services(clock)) == 0  # told once
        tables = session.scalars(select(PriceTable).where(PriceTable.effective_from > START.date())).all()
        assert tables and all(table.announced_at == clock.now() for table in tables)
        notices = session.scalars(select(PriceChangeNotice)).all()
        assert [n.organisation_id for n in notices] == [world.acme.id, world.acme.id]
        assert acme_server["lines"][0]["license"] in notices[0].licenses + notices[1].licenses

    OutboxWorker(session_factory, smtp_handlers(smtp_server.port)).drain()
    received = smtp_server.received[already:]
    assert [email.rcpt_tos for email in received] == [["acme_admin@test.example"]] * 2
    by_subject = {email.message["Subject"]: email.message for email in received}
    cloud = by_subject["Mockups for Wiki (Cloud): new prices from 2027-01-01"]
    server = by_subject["Mockups for Wiki (Server): new prices from 2027-11-01"]

    server_text = server.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert acme_server["lines"][0]["license"] in server_text
    assert "Renewal due on 2027-11-26." in server_text
    # A year of maintenance for 100 users: half the license price, USD 1,100.00 now and USD 1,320.00 after.
    assert "Until 2027-11-01: USD 550.00 a year." in server_text
    assert "From 2027-11-01: USD 660.00 a year." in server_text
    assert "Renew before 2027-11-01 to renew at today's price of USD 550.00." in server_text
    assert globex not in server_text
    server_html = server.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "USD 660.00 a year" in server_html and "Mockups for Wiki" in server_html

    cloud_text = cloud.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "40 users" in cloud_text
    assert "Until 2027-01-01: USD 55.00 a month." in cloud_text
    assert "From 2027-01-01: USD 110.00 a month." in cloud_text
    assert "Your bill on 2026-12-10 is still at USD 55.00" in cloud_text
    assert "Renew before" not in cloud_text  # a cloud subscription renews with its site


def test_unchanged_prices_and_a_change_that_leaves_the_customer_s_tier_alone_tell_nobody(
    shop: TestClient, world: World, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    schedule(session_factory, MOCKUPS, "server", SERVER_CHANGE, Decimal(1))  # the same prices: no new table
    with session_factory() as session, session.begin():
        listing = CatalogRepository(session).listing(MOCKUPS, "server")
        assert listing is not None and listing.prices_after(START.date()) == []
        before = len(price_change_emails(session))
        # A change of another tier's price only: the 100-user license's renewal costs the same.
        table = listing.prices_on(START.date())
        raised = PriceTable(effective_from=SERVER_CHANGE)
        raised.tier_prices = [
            TierPrice(
                price_list=price.price_list,
                tier_users=price.tier_users,
                amount_minor=price.amount_minor * (2 if price.tier_users == UNLIMITED_USERS else 1),
            )
            for price in table.tier_prices
        ]
        listing.price_tables.append(raised)
        session.flush()
        assert announce_price_changes(session, services(clock)) == 0
        assert raised.announced_at is not None
        assert len(price_change_emails(session)) == before


def seeded(url: str) -> tuple[sessionmaker[Session], World]:
    """A database of its own (real commits): Acme and Globex each bought the server app, whose price rises."""
    engine = make_engine(url)
    upgrade_to_head(engine)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        load_demo_catalog(CatalogRepository(session))
        world = build_world(session)
    settings = Settings(database_url=url, secret_key=COMMAND_SECRET, validation_cache_seconds=0)
    with TestClient(create_app(settings, engine, clock=FixedClock(START))) as shop:
        buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
        buy_for_globex(shop, world, "250")
    schedule(factory, MOCKUPS, "server", SERVER_CHANGE)
    return factory, world


def test_two_announcing_runs_at_once_send_one_email_per_customer(backend: str, fresh_database_url) -> None:  # type: ignore[no-untyped-def]
    factory, _ = seeded(fresh_database_url(backend))
    clock = FixedClock(START)
    start = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            # As the billing run does it: both see the change unannounced, then each announces it in a unit
            # of work of its own.
            with transaction(factory) as session:
                due = PriceNotices(session, services(clock)).due()
            assert len(due) == 1
            start.wait(timeout=10)
            with transaction(factory) as session:
                announced = PriceNotices(session, services(clock)).announce(due[0])
            counts.append(announced.emails if announced else 0)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(counts) == [0, 2]
    with transaction(factory) as session:
        emails = price_change_emails(session)
        assert sorted(email.payload["to"][0] for email in emails) == [
            "acme_admin@test.example",
            "globex_admin@test.example",
        ]
        assert session.scalar(select(func.count()).select_from(PriceChangeNotice)) == 2
    factory.kw["bind"].dispose()


def test_the_billing_run_announces_price_changes_as_a_step_of_its_own(
    fresh_database_url, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    url = fresh_database_url("sqlite")
    factory, _ = seeded(url)
    monkeypatch.setenv("MERCATO_DATABASE_URL", url)
    get_settings.cache_clear()
    runner = CliRunner()
    first = runner.invoke(cli, ["billing", "run", "--today", "2026-11-27"])
    assert first.exit_code == 0, first.output
    said = " ".join(first.stderr.split())
    assert "Price changes: 1 announced, 2 e-mail(s) to customers with renewals due." in said
    assert f"Price changes announced: {MOCKUPS} (server) from 2027-11-01: 2 e-mail(s)" in said
    again = runner.invoke(cli, ["billing", "run", "--today", "2026-11-27"])
    assert again.exit_code == 0, again.output
    assert "Price changes: 0 announced, 0 e-mail(s)" in " ".join(again.stderr.split())
    with transaction(factory) as session:
        assert len(price_change_emails(session)) == 2
    factory.kw["bind"].dispose()
