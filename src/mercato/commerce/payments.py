"""How money reaches an invoice. Card processors and the like plug in behind ``PaymentProvider`` (chosen once,
in ``mercato.services.Services``); Mercato ships the manual provider that operators and vendors use to record
bank transfers and purchase orders."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Protocol

from mercato.commerce.errors import UnknownPaymentMethod
from mercato.commerce.models import Invoice, Payment


class PaymentProvider(Protocol):
    def record(
        self,
        invoice: Invoice,
        method: str,
        amount_minor: int,
        reference: str,
        received_on: date,
        recorded_by: uuid.UUID | None,
    ) -> Payment:
        """A payment of ``amount_minor`` by ``method`` against ``invoice`` (not yet added to the session)."""
        ...


class ManualPaymentProvider:
    """Money received outside Mercato and recorded by the seller: a bank transfer or a purchase order."""

    METHODS = ("bank_transfer", "purchase_order")

    def record(
        self,
        invoice: Invoice,
        method: str,
        amount_minor: int,
        reference: str,
        received_on: date,
        recorded_by: uuid.UUID | None,
    ) -> Payment:
        if method not in self.METHODS:
            raise UnknownPaymentMethod(
                f"{method!r} is not a payment method here; use one of {', '.join(self.METHODS)}."
            )
        return Payment(
            invoice_id=invoice.id,
            provider=method,
            reference=reference.strip(),
            amount_minor=amount_minor,
            received_on=received_on,
            recorded_by_id=recorded_by,
        )
