"""What commerce tells customers by e-mail: the invoice when a quote is accepted, the keys when it is paid.

Messages are composed here and queued in the outbox in the same transaction as the change, so a rolled-back
acceptance or payment sends nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from mercato import pricing
from mercato.accounts.models import Membership, Organisation, Role, User
from mercato.catalog.repository import CatalogRepository
from mercato.commerce.models import Invoice
from mercato.licenses.models import License
from mercato.outbox.service import enqueue_email


def seller_name(catalog: CatalogRepository, seller: str) -> str:
    if seller == "operator":
        operator = catalog.operator()
        return operator.name if operator else "the marketplace"
    vendor = catalog.vendor_by_slug(seller.removeprefix("vendor:"))
    return vendor.name if vendor else seller


def _money(minor: int, currency: str) -> str:
    return pricing.format_money(pricing.from_minor_units(minor, currency), currency)


def invoice_text(invoice: Invoice, organisation: Organisation, seller: str) -> str:
    lines = [
        f"Invoice {invoice.number}",
        f"From: {seller}",
        f"To: {organisation.name}",
        f"Issued: {invoice.issued_on}    Due: {invoice.due_on}",
    ]
    if invoice.po_number:
        lines.append(f"Your PO number: {invoice.po_number}")
    lines.append("")
    for line in invoice.lines:
        lines.append(
            f"{line.position:>3}. {_money(line.amount_minor, invoice.currency):>16}  {line.description}"
        )
    lines += [
        "",
        f"Total: {_money(invoice.total_minor, invoice.currency)}",
        f"Paid: {_money(invoice.amount_paid_minor, invoice.currency)}",
        f"Due: {_money(invoice.total_minor - invoice.amount_paid_minor, invoice.currency)}",
        "",
        "License keys are issued as soon as the invoice is paid in full.",
    ]
    return "\n".join(lines)


def queue_invoice_email(session: Session, invoice: Invoice, organisation: Organisation) -> None:
    """The invoice, to the organisation's billing address. Nothing to pay (an evaluation), nothing to send."""
    if invoice.total_minor == 0:
        return
    seller = seller_name(CatalogRepository(session), invoice.seller)
    enqueue_email(
        session,
        [organisation.billing_email],
        f"Invoice {invoice.number} from {seller}",
        invoice_text(invoice, organisation, seller),
    )


def key_recipients(session: Session, organisation: Organisation) -> list[str]:
    """The organisation's admins, who may see keys (billing contacts may not); the billing address if none."""
    admins = session.scalars(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation.id, Membership.role == Role.CUSTOMER_ADMIN)
        .order_by(User.email)
    ).all()
    return list(admins) or [organisation.billing_email]


def queue_keys_email(
    session: Session,
    invoice: Invoice,
    organisation: Organisation,
    licenses: Sequence[tuple[License, str, bool]],
) -> None:
    """The keys of every license an invoice issued or changed, each with its entitlement number, to the
    organisation's admins."""
    if not licenses:
        return
    seller = seller_name(CatalogRepository(session), invoice.seller)
    body = [f"Invoice {invoice.number} from {seller} is paid. Here are your license keys.", ""]
    for license, token, _ in licenses:
        body += [
            f"{license.product_key} ({license.hosting}) — {license.entitlement_number}",
            f"Bound to: {license.host_binding}",
            "Paste this key into the app's license field in your host product:",
            token,
            "",
        ]
    if any(replaced for _, _, replaced in licenses):
        body.append(
            "Keys you received earlier for these licenses keep working for a grace period; replace them."
        )
    enqueue_email(
        session,
        key_recipients(session, organisation),
        f"License keys for invoice {invoice.number}",
        "\n".join(body),
    )
