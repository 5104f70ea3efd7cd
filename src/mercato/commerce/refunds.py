"""Refunds of new purchases within 30 days of payment: the license is cancelled, its keys revoked, and the
revenue split reversed at the rate of the original sale (the amounts the sale recorded, negated)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from mercato.accounts.access import Principal
from mercato.commerce.errors import (
    AlreadyRefunded,
    ChangedSinceSale,
    InvoiceLineNotFound,
    NotRefundable,
    RefundWindowClosed,
)
from mercato.commerce.invoicing import Invoicing
from mercato.commerce.models import InvoiceLine
from mercato.commerce.repository import CommerceRepository
from mercato.licenses.events import LicenseEvent, LicenseEvents, MoneyMoved
from mercato.licenses.models import License, LicenseEventKind, LicenseState
from mercato.licenses.service import LicenseService
from mercato.services import Services

REFUND_WINDOW_DAYS = 30


class Refunds:
    def __init__(self, repo: CommerceRepository, services: Services) -> None:
        self.repo = repo
        self.session = repo.session
        self.services = services
        self.clock = services.clock

    def refund_line(
        self, principal: Principal, invoice_id: uuid.UUID, line_id: int, reason: str
    ) -> InvoiceLine:
        invoice = Invoicing(self.repo, self.services).seller_invoice_for(principal, invoice_id, "refunds")
        line = next((candidate for candidate in invoice.lines if candidate.id == line_id), None)
        if line is None:
            raise InvoiceLineNotFound(f"Invoice {invoice.number} has no line {line_id}.")
        if line.refunded_at is not None:
            raise AlreadyRefunded(f"Line {line.position} of invoice {invoice.number} was already refunded.")
        if not line.quote_line.action.refundable or invoice.paid_at is None or line.license is None:
            raise NotRefundable("Only a paid new purchase can be refunded.")
        window_end = invoice.paid_at.date() + timedelta(days=REFUND_WINDOW_DAYS)
        if self.clock.today() > window_end:
            raise RefundWindowClosed(
                f"New purchases can be refunded within {REFUND_WINDOW_DAYS} days; this one was paid on "
                f"{invoice.paid_at:%Y-%m-%d}, so the window closed on {window_end}."
            )
        license = line.license
        later = [
            entry.kind
            for entry in self.repo.transactions_of(license.id)
            if entry.invoice_line_id != line.id and entry.amount_minor
        ]
        if later:
            raise ChangedSinceSale(
                f"License {license.entitlement_number} was changed after this purchase ({', '.join(later)}). "
                "Refunding only the purchase would keep those payments, and Mercato does not refund the later "
                "changes: credit the customer outside Mercato and cancel the license with "
                "`mercato license revoke --entitlement`."
            )
        license.status = LicenseState.CANCELLED
        LicenseService(self.session, self.services).revoke_all_keys(license, reason)
        self._restore_host(license, line.id)
        line.refunded_at = self.clock.now()
        sale = MoneyMoved(
            currency=invoice.currency,
            amount_minor=line.amount_minor,
            vendor_share_rate=line.vendor_share_rate,
            vendor_amount_minor=line.vendor_amount_minor,
            operator_amount_minor=line.operator_amount_minor,
        )
        LicenseEvents(self.session, self.services.license_subscribers).record(
            LicenseEvent(
                kind=LicenseEventKind.REFUND,
                license=license,
                occurred_at=self.clock.now(),
                description=f"Refund: {reason}",
                money=sale.reversed(),
                invoice_line_id=line.id,
                invoice_number=invoice.number,
                details={"line": line.position},
            )
        )
        return line

    def _restore_host(self, license: License, sale_line_id: int) -> None:
        """A refunded host license: the instance gets back the tier and maintenance it had before the sale."""
        sale = self.repo.history_entry_of_line(license.id, sale_line_id)
        before = (sale.details or {}).get("host_before") if sale else None
        instance = self.repo.host_instance(license.host_instance_id) if license.host_instance_id else None
        if not before or instance is None:
            return
        instance.user_tier = before["user_tier"]
        end = before["host_maintenance_end"]
        instance.host_maintenance_end = date.fromisoformat(end) if end else None
