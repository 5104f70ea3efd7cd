"""Invoices and keys reach the customer by e-mail, through the outbox and a real SMTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from mail.smtp_server import SmtpTestServer
from mercato.outbox.models import OutboxMessage
from mercato.outbox.worker import OutboxWorker
from outbox.doubles import smtp_handlers
from support.world import World

from .test_seed_scenarios import MOCKUPS, buy, quote


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    server = SmtpTestServer().start()
    yield server
    server.stop()


def test_the_invoice_and_then_the_keys_are_emailed_to_the_billing_contact(
    shop: TestClient, world: World, session_factory: sessionmaker[Session], smtp_server: SmtpTestServer
) -> None:
    invoice = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    OutboxWorker(session_factory, smtp_handlers(smtp_server.port)).drain()
    received = smtp_server.received
    # The invoice to the billing address; the keys to the organisation's admins, who may see them.
    assert [email.rcpt_tos for email in received] == [["billing@acme.example"], ["acme_admin@test.example"]]
    invoice_mail, keys_mail = (email.message for email in received)
    assert invoice_mail["Subject"] == f"Invoice {invoice['number']} from Northwind Marketplace"
    invoice_text = invoice_mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "USD 1,100.00" in invoice_text and "Due: 2026-12-26" in invoice_text
    assert keys_mail["Subject"] == f"License keys for invoice {invoice['number']}"
    keys_text = keys_mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert invoice["lines"][0]["license"] in keys_text
    assert "eyJ" in keys_text  # the key itself, a JWS
    assert "Keys you received earlier" not in keys_text  # a new license has no earlier keys


def test_a_refused_request_queues_no_email(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    refused = quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "10"}])
    assert refused.status_code == 422
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_free_evaluation_sends_its_keys_but_no_invoice(
    shop: TestClient, world: World, session_factory: sessionmaker[Session], smtp_server: SmtpTestServer
) -> None:
    buy(shop, world, [{"action": "evaluation", "product_key": MOCKUPS}])
    OutboxWorker(session_factory, smtp_handlers(smtp_server.port)).drain()
    assert [email.message["Subject"].split(" ")[0] for email in smtp_server.received] == ["License"]
