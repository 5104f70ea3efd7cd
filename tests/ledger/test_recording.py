"""The revenue ledger: one entry per money-moving license event of a vendor's app, written on the license-event
path, split as the sale recorded it; refunds at the sale's rate; corrections are new entries, never edits."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from mercato.clock import FixedClock
from mercato.ledger.models import EntryKind
from mercato.ledger.recording import backfill
from mercato.ledger.service import Ledger
from mercato.licenses.emails import queue_key_emails
from mercato.services import Services
from support.ledger import MOCKUPS, SSO, buy, entries, refund
from support.world import World


def test_a_marketplace_sale_enters_the_vendors_ledger_with_the_split_of_its_invoice_line(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    invoice = buy(
        shop,
        world,
        [
            {"action": "new", "product_key": "wiki", "tier": "250"},
            {"action": "new", "product_key": MOCKUPS, "tier": "250"},
            {"action": "new", "product_key": SSO, "tier": "250"},
        ],
    )
    with session_factory() as session:
        written = entries(session)
    # The host product is the operator's own: no vendor, no entry.
    assert len(written) == 2
    app_lines = invoice["lines"][1:]
    for entry, line in zip(written, app_lines, strict=True):
        split = line["revenue_split"]
        assert entry.kind is EntryKind.NEW
        assert entry.source == f"line:{line['id']}:new"
        assert entry.invoice_line_id == line["id"]
        assert entry.amount_minor == round(Decimal(line["amount"]) * 100)
        assert entry.gross_minor - entry.discount_minor == entry.amount_minor
        assert entry.vendor_amount_minor == round(Decimal(split["vendor_amount"]) * 100)
        assert entry.operator_amount_minor == round(Decimal(split["operator_amount"]) * 100)
        assert entry.vendor_share_rate == Decimal("0.75")
        assert entry.license_id is not None and entry.app_id is not None


def test_an_evaluation_moves_no_money_and_enters_no_ledger(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    buy(shop, world, [{"action": "evaluation", "product_key": MOCKUPS}])
    with session_factory() as session:
        assert entries(session) == []


def test_a_refund_is_a_new_entry_at_the_rate_of_the_original_sale(
    shop: TestClient, world: World, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    invoice = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    # The vendor's agreement changes after the sale: the refund still reverses at the sale's 75%.
    changed = shop.put(
        "/api/v1/vendors/example-mockups/revenue-share",
        json={"rates": [{"hosting": "server", "effective_from": "2026-11-27", "vendor_share": "0.90"}]},
        headers=world.auth("operator"),
    )
    assert changed.status_code == 200, changed.text
    clock.advance(days=3)
    refund(shop, world, invoice)
    with session_factory() as session:
        sale, refunded = entries(session)
    assert (sale.kind, refunded.kind) == (EntryKind.NEW, EntryKind.REFUND)
    assert refunded.corrects_entry_id == sale.id
    assert refunded.vendor_share_rate == sale.vendor_share_rate == Decimal("0.75")
    assert (refunded.amount_minor, refunded.vendor_amount_minor, refunded.operator_amount_minor) == (
        -110000,
        -82500,
        -27500,
    )
    assert sale.vendor_amount_minor + refunded.vendor_amount_minor == 0


def test_a_direct_sale_is_the_vendors_whole_and_stays_out_of_its_balance(
    shop: TestClient, world: World, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "10"}], channel="direct")
    with session_factory() as session:
        (entry,) = entries(session)
        assert (entry.channel.value, entry.vendor_share_rate, entry.operator_amount_minor) == (
            "direct",
            Decimal("1"),
            0,
        )
        assert entry.vendor_amount_minor == entry.amount_minor > 0
    statements = shop.get(
        "/api/v1/vendors/example-mockups/statements?month=2026-11", headers=world.auth("mockups_vendor")
    ).json()["statements"]
    (statement,) = statements
    assert statement["closing_balance"] == "0.00"
    assert statement["entries"] == []
    assert Decimal(statement["direct_sales"]) == Decimal(entry.amount_minor) / 100


def test_the_database_refuses_to_change_or_delete_an_entry(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    for statement in ("UPDATE ledger_entries SET vendor_amount_minor = 0", "DELETE FROM ledger_entries"):
        with session_factory() as session, pytest.raises(DBAPIError, match="append-only"), session.begin():
            session.execute(text(statement))
    with session_factory() as session:
        assert len(entries(session)) == 1


def test_an_adjustment_is_a_new_entry_at_the_original_rate_and_is_recorded_once_per_key(
    shop: TestClient, world: World, session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    services = Services(secret_key="test-secret-key", clock=clock)
    with session_factory() as session, session.begin():
        (sale,) = entries(session)
        ledger = Ledger(session, services)
        first = ledger.adjust(sale.id, -1001, "goodwill credit", "ticket-42")
        again = ledger.adjust(sale.id, -1001, "goodwill credit", "ticket-42")
        assert first.id == again.id
        assert (first.kind, first.corrects_entry_id, first.vendor_share_rate) == (
            EntryKind.ADJUSTMENT,
            sale.id,
            Decimal("0.75"),
        )
        # 75% of -10.01 is -7.5075: the vendor's share rounds half-even once, the operator keeps the rest.
        assert (first.vendor_amount_minor, first.operator_amount_minor) == (-751, -250)
        assert len(entries(session)) == 2


def test_the_backfill_writes_the_entries_of_sales_made_before_the_ledger_and_is_idempotent(
    shop: TestClient, world: World, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    live = shop.app.state.services  # type: ignore[attr-defined]
    shop.app.state.services = dataclasses.replace(live, license_subscribers=(queue_key_emails,))  # type: ignore[attr-defined]
    invoice = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    buy(shop, world, [{"action": "new", "product_key": SSO, "tier": "100"}])
    clock.advance(days=1)
    refund(shop, world, invoice)
    shop.app.state.services = live  # type: ignore[attr-defined]
    with session_factory() as session:
        assert entries(session) == []
    with session_factory() as session, session.begin():
        assert backfill(session) == 3
    with session_factory() as session, session.begin():
        assert backfill(session) == 0
        written = entries(session)
    assert [e.kind for e in written] == [EntryKind.NEW, EntryKind.NEW, EntryKind.REFUND]
    assert sum(e.amount_minor for e in written) == written[1].amount_minor
    assert written[2].corrects_entry_id == written[0].id
    assert written[2].occurred_at > written[0].occurred_at
