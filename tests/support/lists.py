"""Many sales at once for the list tests: copies of one real sale (its quote with its lines, order, invoice with
its lines and payment, and license), each at a time of the test's choosing, written straight to the tables."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, TypeVar

from fastapi.testclient import TestClient
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from mercato.commerce.models import Invoice, InvoiceLine, Order, Payment, Quote, QuoteLine
from mercato.licenses.models import License
from support.world import World

Row = TypeVar("Row")


def sell(shop: TestClient, world: World, buyer: str = "acme_admin") -> dict[str, Any]:
    """One real marketplace sale through the API, paid: a quote, an order, an invoice and a license."""
    body = {
        "host_instance_id": str(world.wiki_server.id),
        "items": [{"action": "new", "product_key": "com.example.mockups.wiki", "tier": "100"}],
    }
    quote = shop.post("/api/v1/quotes", json=body, headers=world.auth(buyer))
    assert quote.status_code == 201, quote.text
    accepted = shop.post(f"/api/v1/quotes/{quote.json()['id']}/accept", headers=world.auth(buyer))
    invoice = accepted.json()["invoice"]
    paid = shop.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        json={"amount": invoice["amount_due"], "reference": "TRF-LISTS"},
        headers=world.auth("operator"),
    )
    assert paid.status_code == 200, paid.text
    return paid.json()


def _copy(session: Session, row: Row, **changes: Any) -> Row:
    mapper = inspect(type(row))
    values = {attribute.key: getattr(row, attribute.key) for attribute in mapper.column_attrs}
    values.update(changes)
    if "id" in values and isinstance(values["id"], int):
        del values["id"]  # a new serial
    copied = type(row)(**values)
    session.add(copied)
    session.flush()  # one by one: the copies refer to each other by key, not by relationship
    return copied


def copy_sales(session: Session, moments: list[datetime], tag: str) -> list[tuple[Quote, Invoice, License]]:
    """A copy of the newest sale for each moment: quote, order and invoice (with their lines and payments) and
    license, all created at that moment. ``tag`` keeps numbers unique across calls."""
    quote = session.scalars(select(Quote).order_by(Quote.created_at.desc()).limit(1)).one()
    order = session.scalars(select(Order).where(Order.quote_id == quote.id)).one()
    invoice = session.scalars(select(Invoice).where(Invoice.order_id == order.id)).one()
    quote_lines = session.scalars(select(QuoteLine).where(QuoteLine.quote_id == quote.id)).all()
    invoice_lines = session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)).all()
    payments = session.scalars(select(Payment).where(Payment.invoice_id == invoice.id)).all()
    license = session.get(License, invoice_lines[0].license_id)
    assert license is not None
    made = []
    for n, moment in enumerate(moments):
        number = f"{tag}{n}"
        new_license = _copy(
            session, license, id=uuid.uuid4(), entitlement_number=f"SEN-{number}", created_at=moment
        )
        new_quote = _copy(session, quote, id=uuid.uuid4(), number=f"Q-{number}", created_at=moment)
        new_order = _copy(session, order, id=uuid.uuid4(), quote_id=new_quote.id, created_at=moment)
        new_invoice = _copy(
            session, invoice, id=uuid.uuid4(), number=f"I-{number}", order_id=new_order.id, created_at=moment
        )
        session.flush()
        copied_lines = {}
        for line in quote_lines:
            copied_lines[line.id] = _copy(
                session, line, id=0, quote_id=new_quote.id, license_id=new_license.id
            )
        session.flush()
        for line in invoice_lines:
            quote_line = copied_lines[line.quote_line_id]
            _copy(
                session,
                line,
                id=0,
                invoice_id=new_invoice.id,
                quote_line_id=quote_line.id,
                license_id=new_license.id,
            )
        for payment in payments:
            _copy(session, payment, id=0, invoice_id=new_invoice.id, reference=f"TRF-{number}")
        made.append((new_quote, new_invoice, new_license))
    session.flush()
    return made
