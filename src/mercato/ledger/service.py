"""Statements, payouts and adjustments, computed from the ledger.

A statement is one vendor's month in one currency: the opening balance (every marketplace entry before the
month, less every payout of earlier months), the month's entries, the month's payout, and the closing balance.
Both balances count everything before an instant, so a month's closing balance is the next month's opening
balance, always.

A payout run for a month pays, per vendor and currency, the entries up to the month's end that no payout has
claimed yet, when they add up to at least the threshold; the payout claims each entry it pays (an entry can be
claimed once: ``payout_items`` has it as its primary key) and is unique per vendor, currency and month. A run
locks each vendor's row while it pays it, so two runs at once pay each vendor once; a run killed half-way has
paid the vendors it committed, and the next run pays the others. Below the threshold the balance waits for a
later month.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from mercato.accounts.access import Principal
from mercato.accounts.errors import OperatorOnly
from mercato.catalog.models import Vendor
from mercato.catalog.vendors import VendorService
from mercato.commerce.models import Invoice, InvoiceLine
from mercato.ledger.domain import Month, StatementTotals, split_minor, threshold_minor
from mercato.ledger.errors import (
    InvalidAdjustment,
    InvalidMonth,
    LedgerEntryNotFound,
    MonthNotOver,
    PayoutNotFound,
)
from mercato.ledger.models import EntryKind, LedgerEntry, Payout, PayoutStatus
from mercato.ledger.repository import LedgerRepository
from mercato.licenses.models import License
from mercato.paging import Page, PageRequest
from mercato.pricing.money import from_minor_units, is_known_currency
from mercato.problems import InvalidInput
from mercato.services import Services
from mercato.webhooks.payloads import WebhookEventType
from mercato.webhooks.service import queue_webhook

DEFAULT_REFERENCE_PREFIX = "PAYOUT-"


def parse_month(text: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError as error:
        raise InvalidMonth(str(error)) from None


@dataclass(frozen=True)
class Statement:
    vendor: Vendor
    currency: str
    month: Month
    totals: StatementTotals
    entries: Sequence[LedgerEntry]
    payouts: Sequence[Payout]
    direct_sales_minor: int
    """Direct-channel sales of the month: the vendor's own, collected by it; shown, never in the balance."""


@dataclass(frozen=True)
class EntryDetail:
    """An entry with what a vendor reconciles it by: the license's entitlement number and the invoice."""

    entry: LedgerEntry
    entitlement_number: str | None
    invoice_number: str | None


@dataclass(frozen=True)
class Remittance:
    payout: Payout
    vendor: Vendor
    entries: Sequence[EntryDetail]

    @property
    def entries_total_minor(self) -> int:
        return sum(detail.entry.vendor_amount_minor for detail in self.entries)


@dataclass(frozen=True)
class PayoutDecision:
    """What a run did for one vendor and currency: ``paid`` (a new payout), ``already_paid`` (this month's
    payout exists), ``below_threshold`` or ``nothing_owed`` (the balance waits)."""

    vendor_slug: str
    currency: str
    outcome: str
    balance_minor: int
    payout: Payout | None = None


@dataclass
class PayoutReport:
    month: str
    decisions: list[PayoutDecision] = field(default_factory=list)

    @property
    def paid(self) -> list[PayoutDecision]:
        return [d for d in self.decisions if d.outcome == "paid"]


class Ledger:
    """What operator staff and a vendor's members read: statements, payouts, remittances; and the operator's
    adjustments."""

    def __init__(self, session: Session, services: Services) -> None:
        self.session = session
        self.services = services
        self.clock = services.clock
        self.repo = LedgerRepository(session)
        self.vendors = VendorService(session, services.secret_key, services.clock)

    def statements_for(
        self, principal: Principal, slug: str, month_text: str, currency: str | None = None
    ) -> list[Statement]:
        vendor = self.vendors.vendor_for(principal, slug)
        if currency is not None and not is_known_currency(currency):
            raise InvalidInput(f"{currency} is not a currency code (ISO 4217), such as USD or EUR.")
        return self.statements(vendor, parse_month(month_text), currency)

    def statements(self, vendor: Vendor, month: Month, currency: str | None = None) -> list[Statement]:
        """The vendor's statement of ``month`` in each currency it has entries in up to the month's end."""
        currencies = [currency] if currency else self.repo.currencies_of(vendor.id, month.end)
        return [self.statement(vendor, month, c) for c in currencies]

    def statement(self, vendor: Vendor, month: Month, currency: str) -> Statement:
        label = str(month)
        opening = self.repo.earned_before(vendor.id, currency, month.start) - self.repo.paid_before(
            vendor.id, currency, label
        )
        entries = self.repo.entries_of(vendor.id, currency, month.start, month.end)
        payouts = self.repo.payouts_in(vendor.id, currency, label)
        totals = StatementTotals(
            opening_minor=opening,
            entries_minor=sum(entry.vendor_amount_minor for entry in entries),
            payouts_minor=sum(payout.amount_minor for payout in payouts),
        )
        direct = self.repo.direct_sales(vendor.id, currency, month.start, month.end)
        return Statement(vendor, currency, month, totals, entries, payouts, direct)

    def payouts_for(
        self, principal: Principal, slug: str, page: PageRequest = PageRequest()
    ) -> tuple[Vendor, Page[Payout]]:
        vendor = self.vendors.vendor_for(principal, slug)
        return vendor, self.repo.payouts_of(vendor.id, page)

    def remittance_for(self, principal: Principal, payout_id: uuid.UUID) -> Remittance:
        payout = self.repo.payout(payout_id)
        if payout is None or not (principal.operator or payout.vendor_id in principal.vendor_member_of):
            raise PayoutNotFound(f"There is no payout {payout_id} that you can see.")
        return self.remittance(payout)

    def remittance(self, payout: Payout) -> Remittance:
        vendor = self.session.get(Vendor, payout.vendor_id)
        assert vendor is not None
        return Remittance(payout, vendor, self.details(self.repo.entries_paid_by(payout.id)))

    def details(self, entries: Sequence[LedgerEntry]) -> list[EntryDetail]:
        license_ids = {e.license_id for e in entries if e.license_id}
        line_ids = {e.invoice_line_id for e in entries if e.invoice_line_id}
        numbers: dict[uuid.UUID, str] = {
            license_id: number
            for license_id, number in self.session.execute(
                select(License.id, License.entitlement_number).where(License.id.in_(license_ids))
            )
        }
        invoices: dict[int, str] = {
            line_id: number
            for line_id, number in self.session.execute(
                select(InvoiceLine.id, Invoice.number)
                .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                .where(InvoiceLine.id.in_(line_ids))
            )
        }
        return [
            EntryDetail(
                e,
                numbers.get(e.license_id) if e.license_id else None,
                invoices.get(e.invoice_line_id) if e.invoice_line_id else None,
            )
            for e in entries
        ]

    # -- corrections ---------------------------------------------------------------------------------------

    def adjust(self, entry_id: int, amount_minor: int, reason: str, key: str) -> LedgerEntry:
        """A correction of entry ``entry_id`` by ``amount_minor`` (negative: money back from the vendor's
        side), split at the original entry's rate, recorded as a new entry. ``key`` names the adjustment: the
        same key again answers the entry it made, so a retried correction is recorded once."""
        existing = self.repo.entry_by_source(f"adjustment:{key}")
        if existing is not None:
            return existing
        original = self.repo.entry(entry_id)
        if original is None:
            raise LedgerEntryNotFound(f"There is no ledger entry {entry_id}.")
        if original.kind is EntryKind.ADJUSTMENT and original.corrects_entry_id is not None:
            # Corrections of a correction are corrections of the sale: the rate stays the sale's.
            base = self.repo.entry(original.corrects_entry_id)
            original = base or original
        if amount_minor == 0 or not reason.strip() or not key.strip():
            raise InvalidAdjustment("An adjustment needs a non-zero amount, a reason and a key.")
        split = split_minor(amount_minor, original.vendor_share_rate, original.currency)
        return self.repo.add(
            LedgerEntry(
                source=f"adjustment:{key}",
                kind=EntryKind.ADJUSTMENT,
                channel=original.channel,
                vendor_id=original.vendor_id,
                app_id=original.app_id,
                license_id=original.license_id,
                invoice_line_id=original.invoice_line_id,
                hosting=original.hosting,
                currency=original.currency,
                gross_minor=amount_minor,
                discount_minor=0,
                amount_minor=amount_minor,
                vendor_share_rate=split.vendor_share_rate,
                vendor_amount_minor=split.vendor_amount_minor,
                operator_amount_minor=split.operator_amount_minor,
                corrects_entry_id=original.id,
                description=f"Adjustment: {reason.strip()}",
                occurred_at=self.clock.now(),
                recorded_at=self.clock.now(),
            )
        )


class PayoutRun:
    """A month's payouts, vendor by vendor. The CLI pays each vendor in a transaction of its own
    (``pay_vendor``); the API pays them all in the request's (``run_for``)."""

    def __init__(self, session: Session, services: Services) -> None:
        self.session = session
        self.clock = services.clock
        self.repo = LedgerRepository(session)

    def checked_month(self, month_text: str) -> Month:
        month = parse_month(month_text)
        if month.end > self.clock.now():
            raise MonthNotOver(
                f"{month} is not over yet (the server's time is {self.clock.now():%Y-%m-%d %H:%M} UTC): "
                f"its payouts can run from {month.end:%Y-%m-%d} on.",
                month=str(month),
            )
        return month

    def vendors_due(self, month: Month) -> list[uuid.UUID]:
        """Vendors with entries up to the month's end that no payout has claimed."""
        return self.repo.vendor_ids_with_unclaimed(month.end)

    def pay_vendor(
        self, vendor_id: uuid.UUID, month: Month, threshold: Decimal, reference_prefix: str
    ) -> list[PayoutDecision]:
        """Pays the vendor's unclaimed balance up to the month's end, per currency, when it reaches the
        threshold. Holds the vendor's row lock until the transaction ends."""
        vendor = self.repo.lock_vendor(vendor_id)
        if vendor is None:
            return []
        label = str(month)
        by_currency: dict[str, list[LedgerEntry]] = {}
        for entry in self.repo.unclaimed(vendor.id, month.end):
            by_currency.setdefault(entry.currency, []).append(entry)
        decisions = []
        for currency, entries in sorted(by_currency.items()):
            balance = sum(entry.vendor_amount_minor for entry in entries)
            if self.repo.payout_of(vendor.id, currency, label) is not None:
                decisions.append(PayoutDecision(vendor.slug, currency, "already_paid", balance))
                continue
            if balance <= 0:
                decisions.append(PayoutDecision(vendor.slug, currency, "nothing_owed", balance))
                continue
            if balance < threshold_minor(threshold, currency):
                decisions.append(PayoutDecision(vendor.slug, currency, "below_threshold", balance))
                continue
            payout = self.repo.add_payout(
                Payout(
                    vendor_id=vendor.id,
                    currency=currency,
                    month=label,
                    amount_minor=balance,
                    entry_count=len(entries),
                    reference=f"{reference_prefix}{label}-{vendor.slug}-{currency}",
                    status=PayoutStatus.PAID,
                    method=(vendor.payout_details or {}).get("method"),
                    paid_at=self.clock.now(),
                ),
                entries,
            )
            queue_webhook(
                self.session,
                WebhookEventType.PAYOUT_PAID.value,
                vendor.id,
                {
                    "payout_id": str(payout.id),
                    "vendor": vendor.slug,
                    "month": label,
                    "currency": currency,
                    "amount": from_minor_units(balance, currency),
                    "reference": payout.reference,
                    "paid_at": payout.paid_at,
                },
                occurred_at=payout.paid_at,
                event_id=f"payout-{payout.id}",
            )
            decisions.append(PayoutDecision(vendor.slug, currency, "paid", balance, payout))
        return decisions

    def run_for(
        self, principal: Principal, month_text: str, threshold: Decimal, reference_prefix: str
    ) -> PayoutReport:
        if not principal.operator:
            raise OperatorOnly("Only operator staff may run payouts.")
        month = self.checked_month(month_text)
        report = PayoutReport(str(month))
        for vendor_id in self.vendors_due(month):
            report.decisions.extend(self.pay_vendor(vendor_id, month, threshold, reference_prefix))
        return report
