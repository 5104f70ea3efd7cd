"""Invoices and payments: an accepted quote becomes one order and one invoice from the seller of record,
numbered in the seller's gapless series; money recorded against it settles it, and a settled invoice is
fulfilled in the same transaction."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from mercato import pricing
from mercato.accounts.access import Principal
from mercato.accounts.models import HostInstance
from mercato.commerce import schemas
from mercato.commerce.emails import queue_invoice_emails
from mercato.commerce.errors import (
    AmountNotInCurrency,
    InvoiceAlreadyPaid,
    InvoiceCancelled,
    InvoiceNotFound,
    NotTheSeller,
    Overpayment,
    PaymentInFuture,
    PaymentReferenceUsed,
    PaymentTooOld,
)
from mercato.commerce.fulfilment import Fulfilment
from mercato.commerce.idempotency import Answer, Idempotency, request_fingerprint
from mercato.commerce.models import Invoice, InvoiceLine, InvoiceStatus, Order, Quote, QuoteStatus
from mercato.commerce.repository import CommerceRepository
from mercato.database import new_id
from mercato.keys.models import OPERATOR_ISSUER
from mercato.services import Services

PAYMENT_TERMS_DAYS = 30


def _prefix(seller: str) -> str:
    """The invoice numbers' prefix: the whole vendor slug, as two vendors must never print the same number."""
    return "MKT" if seller == OPERATOR_ISSUER else seller.removeprefix("vendor:").upper()


def _invoice(quote: Quote, order: Order, number: str, today: date, now: datetime) -> Invoice:
    return Invoice(
        id=new_id(),
        number=number,
        seller=quote.seller,
        order_id=order.id,
        organisation_id=quote.organisation_id,
        currency=quote.currency,
        total_minor=quote.total_minor,
        amount_paid_minor=0,
        status=InvoiceStatus.OPEN,
        po_number=quote.po_number,
        issued_on=today,
        due_on=today + timedelta(days=PAYMENT_TERMS_DAYS),
        created_at=now,
        payments=[],
        lines=[
            InvoiceLine(
                position=line.position,
                quote_line=line,
                license=line.license,
                description=f"{line.product_key}: {line.explanation}",
                amount_minor=line.amount_minor,
                vendor_id=line.vendor_id,
                vendor_share_rate=line.vendor_share_rate,
                vendor_amount_minor=line.vendor_amount_minor,
                operator_amount_minor=line.operator_amount_minor,
            )
            for line in quote.lines
        ],
    )


class Invoicing:
    def __init__(self, repo: CommerceRepository, services: Services) -> None:
        self.repo = repo
        self.session = repo.session
        self.services = services
        self.clock = services.clock

    # -- visibility ----------------------------------------------------------------------------------------

    def invoice_for(
        self, principal: Principal, invoice_id: uuid.UUID, *, for_update: bool = False
    ) -> Invoice:
        invoice = self.repo.invoice(invoice_id, for_update=for_update)
        if invoice is None or not self.repo.can_read_invoice(principal, invoice):
            raise InvoiceNotFound(f"There is no invoice {invoice_id} that you can see.")
        return invoice

    def seller_invoice_for(self, principal: Principal, invoice_id: uuid.UUID, action: str) -> Invoice:
        """The invoice, locked, for an action only its seller takes (record a payment, refund)."""
        invoice = self.invoice_for(principal, invoice_id, for_update=True)
        if not self.repo.acts_for_seller(principal, invoice.seller):
            raise NotTheSeller(f"Only the seller ({invoice.seller}) {action} invoice {invoice.number}.")
        return invoice

    # -- issuing -------------------------------------------------------------------------------------------

    def issue(self, quote: Quote) -> tuple[Order, Invoice]:
        """The order and invoice of an accepted quote, numbered in the seller's series and e-mailed to the
        organisation; an invoice of nothing to pay is settled at once."""
        [issued] = self.issue_all([quote])
        return issued

    def issue_all(self, quotes: Sequence[Quote]) -> list[tuple[Order, Invoice]]:
        """``issue`` for many accepted quotes at once (a billing run's batch of renewals): each seller's
        numbers are taken as one block, in the quotes' order, and each table's rows are written together (the
        orders in a first flush, as invoices name them by id)."""
        today, now = self.clock.today(), self.clock.now()
        first_numbers: dict[str, int] = {}
        for seller, count in Counter(quote.seller for quote in quotes).items():
            first_numbers[seller] = self.repo.take_invoice_numbers(seller, _prefix(seller), count)
        issued: list[tuple[Order, Invoice]] = []
        for quote in quotes:
            number = first_numbers[quote.seller]
            first_numbers[quote.seller] += 1
            order = Order(
                id=new_id(),  # known before the flush: the invoice names it
                quote_id=quote.id,
                organisation_id=quote.organisation_id,
                seller=quote.seller,
                created_at=now,
            )
            invoice = _invoice(quote, order, f"{_prefix(quote.seller)}-{today:%Y}-{number:06d}", today, now)
            quote.status = QuoteStatus.ACCEPTED
            quote.accepted_at = now
            issued.append((order, invoice))
        # Orders first: an invoice names its order by id alone (no relationship orders the two inserts).
        self.session.add_all([order for order, _ in issued])
        self.session.flush()
        self.session.add_all([invoice for _, invoice in issued])
        queue_invoice_emails(self.session, [invoice for _, invoice in issued], self.services.public_url)
        self.session.flush()
        for quote, (_, invoice) in zip(quotes, issued, strict=True):
            if invoice.total_minor == 0:
                self._settle(invoice, quote)
                self.session.flush()
        return issued

    # -- payments ------------------------------------------------------------------------------------------

    def record_payment_once(
        self,
        principal: Principal,
        invoice_id: uuid.UUID,
        payment: schemas.PaymentIn,
        idempotency_key: str | None,
        present: Callable[[Invoice], dict[str, Any]],
    ) -> Answer:
        """``record_payment``, once per ``Idempotency-Key`` (the reference makes it safe without one too)."""
        return Idempotency(self.repo, self.clock).run(
            f"{principal.user_id}:record-payment",
            idempotency_key,
            request_fingerprint(str(invoice_id), payment.model_dump(mode="json")),
            "for another payment",
            lambda: Answer(200, present(self.record_payment(principal, invoice_id, payment))),
        )

    def record_payment(
        self, principal: Principal, invoice_id: uuid.UUID, payment: schemas.PaymentIn
    ) -> Invoice:
        """Record money received against an invoice; paid in full, its licenses and keys are issued at once.

        A payment is known by its reference on the invoice: the same reference, amount and method again (a retry
        whose answer was lost) changes nothing and answers the invoice as it is; the same reference with another
        amount is refused, so money is never counted twice."""
        today = self.clock.today()
        invoice = self.seller_invoice_for(principal, invoice_id, "records payments of")
        reference = payment.reference.strip()
        earlier = next((p for p in invoice.payments if p.reference == reference), None)
        if earlier is not None:
            if (earlier.amount_minor, earlier.provider) == (
                self._minor(payment, invoice),
                payment.provider,
            ):
                return invoice
            raise PaymentReferenceUsed(
                f"Invoice {invoice.number} already has a payment with reference {reference!r} of "
                f"{pricing.format_money(self._money(earlier.amount_minor, invoice), invoice.currency)} "
                f"({earlier.provider}). If this is another payment, record it with its own reference.",
                reference=reference,
            )
        if invoice.status == InvoiceStatus.CANCELLED:
            raise InvoiceCancelled(f"Invoice {invoice.number} was cancelled; it cannot be paid.")
        if invoice.status == InvoiceStatus.PAID:
            raise InvoiceAlreadyPaid(f"Invoice {invoice.number} is already paid in full.")
        amount_minor = self._minor(payment, invoice)
        due = invoice.total_minor - invoice.amount_paid_minor
        if amount_minor > due:
            due_text = pricing.format_money(self._money(due, invoice), invoice.currency)
            paid_text = pricing.format_money(payment.amount, invoice.currency)
            raise Overpayment(
                f"Invoice {invoice.number} has {due_text} due; {paid_text} is more. Record at most the amount due.",
                amount_due=str(self._money(due, invoice)),
            )
        if payment.received_on is not None and payment.received_on > today:
            raise PaymentInFuture(
                f"A payment cannot be received in the future ({payment.received_on}; today is {today})."
            )
        if payment.received_on is not None and payment.received_on < invoice.issued_on - timedelta(days=365):
            raise PaymentTooOld(
                f"Invoice {invoice.number} was issued on {invoice.issued_on}; a payment received on "
                f"{payment.received_on} cannot be for it. Check the date."
            )
        # The quote of an invoice this payment settles is read before the invoice changes: the invoice's row is
        # then written once, paid, rather than flushed half-way by the read.
        settled_by = self.repo.quote_of_invoice(invoice) if amount_minor == due else None
        record = self.services.payments.record(
            invoice,
            payment.provider,
            amount_minor,
            reference,
            payment.received_on or today,
            principal.user_id,
        )
        record.created_at = self.clock.now()  # recorded now by the server's clock, whatever the provider
        invoice.payments.append(record)
        invoice.amount_paid_minor += amount_minor
        if settled_by is not None:
            quote, instance = settled_by
            self._settle(invoice, quote, instance)
        self.session.flush()
        return invoice

    @staticmethod
    def _minor(payment: schemas.PaymentIn, invoice: Invoice) -> int:
        try:
            return pricing.to_minor_units(payment.amount, invoice.currency)
        except ValueError:
            raise AmountNotInCurrency(
                f"{payment.amount} is not an amount of {invoice.currency}: too many decimals."
            ) from None

    @staticmethod
    def _money(minor: int, invoice: Invoice) -> Decimal:
        return pricing.from_minor_units(minor, invoice.currency)

    def _settle(self, invoice: Invoice, quote: Quote, instance: HostInstance | None = None) -> None:
        """Paid in full: issue or change every license of the invoice and sign its keys, in this transaction.
        ``instance``: the quote's host instance, when the caller read it with the quote."""
        invoice.status = InvoiceStatus.PAID
        invoice.paid_at = self.clock.now()
        Fulfilment(self.repo, self.services).fulfil(invoice, quote, instance)
