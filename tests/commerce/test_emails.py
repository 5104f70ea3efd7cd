"""Invoices and keys reach the customer by e-mail, through the outbox and a real SMTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from mail.smtp_server import SmtpTestServer
from mercato.licenses.events import subscribers_linking_to
from mercato.outbox.models import OutboxMessage
from mercato.outbox.worker import OutboxWorker
from outbox.doubles import smtp_handlers
from support.world import World

from .test_seed_scenarios import MOCKUPS, SSO, buy, quote


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


def test_a_payment_refused_in_the_middle_of_issuing_keys_sends_no_keys_and_changes_nothing(
    shop: TestClient, world: World, session_factory: sessionmaker[Session], smtp_server: SmtpTestServer
) -> None:
    # Five evaluations of the mockups app are granted; two open quotes each ask for the sixth and last. The
    # second also buys an app, so accepting it only sends the invoice: the evaluation is granted (or refused)
    # when the invoice is paid, after the purchased app's key is signed and just before the keys e-mail.
    for _ in range(5):
        buy(shop, world, [{"action": "evaluation", "product_key": MOCKUPS}])
    sixth = quote(shop, world, [{"action": "evaluation", "product_key": MOCKUPS}]).json()
    late = quote(
        shop,
        world,
        [
            {"action": "new", "product_key": SSO, "tier": "100"},
            {"action": "evaluation", "product_key": MOCKUPS},
        ],
    ).json()
    assert (
        shop.post(f"/api/v1/quotes/{sixth['id']}/accept", headers=world.auth("acme_admin")).status_code == 201
    )
    invoice = shop.post(f"/api/v1/quotes/{late['id']}/accept", headers=world.auth("acme_admin")).json()[
        "invoice"
    ]
    with session_factory() as session:
        queued_before = session.scalar(select(func.count()).select_from(OutboxMessage))

    refused = shop.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        json={"amount": invoice["amount_due"], "reference": "TRF-LATE"},
        headers=world.auth("operator"),
    )

    assert refused.status_code == 422
    assert refused.json()["type"] == "/api/v1/problems/evaluation-limit-reached"
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == queued_before
    OutboxWorker(session_factory, smtp_handlers(smtp_server.port)).drain()
    subjects = [email.message["Subject"] for email in smtp_server.received]
    assert len(subjects) == queued_before
    assert f"Invoice {invoice['number']} from Northwind Marketplace" in subjects
    assert f"License keys for invoice {invoice['number']}" not in subjects
    after = shop.get(f"/api/v1/invoices/{invoice['id']}", headers=world.auth("acme_admin")).json()
    assert (after["status"], after["amount_paid"], after["payments"]) == ("open", "0.00", [])
    sso_licenses = shop.get(
        f"/api/v1/licenses?product_key={SSO}&include=total", headers=world.auth("acme_admin")
    ).json()
    assert sso_licenses["total"] == 0


def test_a_free_evaluation_sends_its_keys_but_no_invoice(
    shop: TestClient, world: World, session_factory: sessionmaker[Session], smtp_server: SmtpTestServer
) -> None:
    buy(shop, world, [{"action": "evaluation", "product_key": MOCKUPS}])
    OutboxWorker(session_factory, smtp_handlers(smtp_server.port)).drain()
    assert [email.message["Subject"].split(" ")[0] for email in smtp_server.received] == ["License"]


def test_the_invoice_and_keys_e_mails_link_to_their_pages_at_the_public_address(
    shop: TestClient, world: World, session_factory: sessionmaker[Session], smtp_server: SmtpTestServer
) -> None:
    shop.app.state.services = replace(
        shop.app.state.services,
        public_url="https://market.example",
        license_subscribers=subscribers_linking_to("https://market.example"),
    )
    invoice = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    with session_factory() as session:
        texts = [str(m.payload["text"]) for m in session.scalars(select(OutboxMessage)).all()]
    invoice_mail = next(t for t in texts if t.startswith("Invoice ") and "license keys" not in t)
    keys_mail = next(t for t in texts if "Here are your license keys" in t)
    assert f"https://market.example/invoices/{invoice['id']}" in invoice_mail
    assert "https://market.example/licenses" in keys_mail
