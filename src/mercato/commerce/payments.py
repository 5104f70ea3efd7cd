"""How money reaches an invoice. Card processors and the like plug in behind ``PaymentProvider``; Mercato ships
the manual provider that operators and vendors use to record bank transfers and purchase orders."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Protocol

from mercato.commerce.models import Invoice, Payment
from mercato.problems import InvalidInput


class PaymentProvider(Protocol):
    name: str

    def record(
        self,
        invoice: Invoice,
        amount_minor: int,
        reference: str,
        received_on: date,
        recorded_by: uuid.UUID | None,
    ) -> Payment:
        """A payment of ``amount_minor`` against ``invoice`` (not yet added to the session)."""
        ...


class ManualPaymentProvider:
    """Money received outside Mercato and recorded by the seller: a bank transfer or a purchase order."""

    KINDS = ("bank_transfer", "purchase_order")

    def __init__(self, kind: str) -> None:
        if kind not in self.KINDS:
            raise InvalidInput(f"{kind!r} is not a payment method here; use one of {', '.join(self.KINDS)}.")
        self.name = kind

    def record(
        self,
        invoice: Invoice,
        amount_minor: int,
        reference: str,
        received_on: date,
        recorded_by: uuid.UUID | None,
    ) -> Payment:
        return Payment(
            invoice_id=invoice.id,
            provider=self.name,
            reference=reference.strip(),
            amount_minor=amount_minor,
            received_on=received_on,
            recorded_by_id=recorded_by,
        )
