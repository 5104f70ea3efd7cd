"""The invoice e-mail, queued in the outbox with the acceptance that issued the invoice (so a rolled-back
acceptance sends nothing). Its wording is the ``invoice`` template; the keys e-mail is the license-event
path's (``mercato.licenses.emails``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from mercato import pricing
from mercato.catalog.repository import CatalogRepository
from mercato.commerce.models import Invoice
from mercato.commerce.repository import CommerceRepository
from mercato.mail.templates import render_email
from mercato.outbox.service import enqueue_rendered_email


def _money(minor: int, currency: str) -> str:
    return pricing.format_money(pricing.from_minor_units(minor, currency), currency)


def invoice_context(invoice: Invoice, organisation_name: str, seller: str) -> dict[str, Any]:
    currency = invoice.currency
    return {
        "invoice": invoice,
        "seller": seller,
        "organisation": organisation_name,
        "lines": [
            {
                "position": line.position,
                "amount": _money(line.amount_minor, currency),
                "description": line.description,
            }
            for line in invoice.lines
        ],
        "total": _money(invoice.total_minor, currency),
        "paid": _money(invoice.amount_paid_minor, currency),
        "due": _money(invoice.total_minor - invoice.amount_paid_minor, currency),
    }


def queue_invoice_emails(session: Session, invoices: Sequence[Invoice], public_url: str = "") -> None:
    """Each invoice, to its organisation's billing address, pointing to its page (a link when ``public_url`` is
    set). Nothing to pay (an evaluation), nothing to send. The organisations and the sellers' names are read
    once for all the invoices (a billing run's batch)."""
    to_send = [invoice for invoice in invoices if invoice.total_minor != 0]
    if not to_send:
        return
    organisations = CommerceRepository(session).organisations(i.organisation_id for i in to_send)
    catalog = CatalogRepository(session)
    sellers = {seller: catalog.seller_name(seller) for seller in {invoice.seller for invoice in to_send}}
    for invoice in to_send:
        organisation = organisations[invoice.organisation_id]
        context = invoice_context(invoice, organisation.name, sellers[invoice.seller])
        context["invoice_url"] = f"{public_url.rstrip('/')}/invoices/{invoice.id}" if public_url else None
        enqueue_rendered_email(session, [organisation.billing_email], render_email("invoice", context))
