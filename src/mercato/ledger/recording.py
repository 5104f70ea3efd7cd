"""Writing the ledger: the license-event subscriber, and the backfill of sales made before the ledger existed.

Both read a money movement the same way, so an entry is the same whichever wrote it, and both name it by its
source (``line:<invoice line>:<kind>``): the unique ``source`` makes the second writer a no-op, so the backfill
can run any number of times, before or after live sales, and never counts a sale twice.

What enters a vendor's ledger: every sale, renewal, upgrade, co-term, migration and refund of an app line that
has a vendor, on both channels. Marketplace entries carry the split the invoice line recorded (the rate of the
revenue-share schedule in force on the sale date; a refund reuses the sale's rate). Direct-channel entries have
rate 1 and no operator share: the vendor was the seller of record and collected the money itself, so they show
in the vendor's ledger and reports but never in its statements' balance or its payouts. Evaluations move no
money and the operator's own host products have no vendor: neither enters.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mercato.catalog.models import Listing, Vendor
from mercato.commerce.models import Invoice, InvoiceLine
from mercato.ledger.domain import Split, channel_split, split_minor
from mercato.ledger.models import EntryKind, LedgerEntry
from mercato.ledger.repository import LedgerRepository
from mercato.licenses.models import License, LicenseTransaction
from mercato.pricing import Channel, Hosting
from mercato.pricing.money import from_minor_units
from mercato.webhooks.payloads import WebhookEventType
from mercato.webhooks.service import WebhookEvent, enabled_endpoints, queue_webhooks

if TYPE_CHECKING:
    from mercato.licenses.events import LicenseEvent

LEDGER_KINDS = frozenset(kind.value for kind in EntryKind if kind is not EntryKind.ADJUSTMENT)
"""The license event kinds that move a vendor's money (an adjustment is the operator's, not a license event)."""


@dataclass(frozen=True)
class Movement:
    """Money that one license event moved, as the event or its history entry tells it."""

    kind: str
    license_id: uuid.UUID
    invoice_line_id: int
    currency: str
    amount_minor: int
    vendor_share_rate: Decimal | None
    vendor_amount_minor: int | None
    operator_amount_minor: int | None
    description: str
    occurred_at: datetime

    @property
    def source(self) -> str:
        return f"line:{self.invoice_line_id}:{self.kind}"


def record_revenue(session: Session, events: Sequence[LicenseEvent]) -> None:
    """The license-event subscriber: one ledger entry per money-moving event of a vendor's app (all the events
    of a paid invoice written together)."""
    movements = []
    for event in events:
        money = event.money
        if money is None or event.invoice_line_id is None:
            continue
        movements.append(
            Movement(
                kind=event.kind.value,
                license_id=event.license.id,
                invoice_line_id=event.invoice_line_id,
                currency=money.currency,
                amount_minor=money.amount_minor,
                vendor_share_rate=money.vendor_share_rate,
                vendor_amount_minor=money.vendor_amount_minor,
                operator_amount_minor=money.operator_amount_minor,
                description=event.description,
                occurred_at=event.occurred_at,
            )
        )
    LedgerWriter(session).record_all(movements)


@dataclass(frozen=True)
class _Written:
    entry: LedgerEntry
    license: License
    line: InvoiceLine


class LedgerWriter:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.repo = LedgerRepository(session)

    def record(self, movement: Movement, announce: bool = True) -> LedgerEntry | None:
        """The entry of ``movement``, written once; ``None`` when it is not a vendor's money. A new entry is
        announced to the vendor's (and the operator's) webhooks as ``transaction.created``, unless
        ``announce`` is off (the backfill of history)."""
        if movement.kind not in LEDGER_KINDS:
            return None
        existing = self.repo.entry_by_source(movement.source)
        if existing is not None:
            return existing
        written = self._entry(movement)
        if written is None:
            return None
        entry = self.repo.add(written.entry)
        if announce:
            self._announce([written])
        return entry

    def record_all(self, movements: Sequence[Movement]) -> None:
        """``record`` of many movements (the lines of one paid invoice), announced: the new entries are written
        in one statement that skips those recorded before (their unique source decides, with no query before),
        and the webhooks are read once."""
        made: dict[str, _Written] = {}
        for movement in movements:
            if movement.kind in LEDGER_KINDS and movement.source not in made:
                entry = self._entry(movement)
                if entry is not None:
                    made[movement.source] = entry
        written = self.repo.add_unrecorded([entry.entry for entry in made.values()])
        if written:
            self._announce([replace(made[source], entry=entry) for source, entry in written.items()])

    def _entry(self, movement: Movement) -> _Written | None:
        """The entry of a movement not recorded yet (not added to the session), or None: not a vendor's money."""
        line = self.session.get(InvoiceLine, movement.invoice_line_id)
        license = self.session.get(License, movement.license_id)
        if line is None or line.vendor_id is None or license is None:
            return None
        listing = self.session.get(Listing, license.listing_id)
        kind = EntryKind(movement.kind)
        original = self.repo.sale_of_line(line.id) if kind is EntryKind.REFUND else None
        split = self._split(movement, license, line.vendor_id, original)
        entry = LedgerEntry(
            source=movement.source,
            kind=kind,
            channel=license.channel,
            vendor_id=line.vendor_id,
            app_id=listing.app_id if listing else None,
            license_id=license.id,
            invoice_line_id=line.id,
            hosting=license.hosting,
            currency=movement.currency,
            gross_minor=split.amount_minor,
            discount_minor=0,  # Mercato sells at list price (and license-type prices): no discounts yet
            amount_minor=split.amount_minor,
            vendor_share_rate=split.vendor_share_rate,
            vendor_amount_minor=split.vendor_amount_minor,
            operator_amount_minor=split.operator_amount_minor,
            corrects_entry_id=original.id if original else None,
            description=movement.description,
            occurred_at=movement.occurred_at,
        )
        return _Written(entry, license, line)

    def _announce(self, written: Sequence[_Written]) -> None:
        endpoints = enabled_endpoints(self.session, {made.entry.vendor_id for made in written})
        announced = []
        for made in written:
            entry, license, line = made.entry, made.license, made.line
            vendor = self.session.get(Vendor, entry.vendor_id)
            invoice = self.session.get(Invoice, line.invoice_id)
            payload = {
                "transaction_id": str(entry.id),
                "vendor": vendor.slug if vendor else "",
                "entitlement_number": license.entitlement_number,
                "app_key": license.product_key,
                "sale_type": entry.kind.value,
                "channel": entry.channel.value,
                "currency": entry.currency,
                "amount": from_minor_units(entry.amount_minor, entry.currency),
                "vendor_amount": from_minor_units(entry.vendor_amount_minor, entry.currency),
                "occurred_at": entry.occurred_at,
                "invoice_number": invoice.number if invoice else None,
            }
            announced.append(
                WebhookEvent(
                    WebhookEventType.TRANSACTION_CREATED.value,
                    entry.vendor_id,
                    payload,
                    occurred_at=entry.occurred_at,
                    event_id=f"transaction-{entry.id}",
                )
            )
        queue_webhooks(self.session, announced, enabled=endpoints)

    def _split(
        self, movement: Movement, license: License, vendor_id: uuid.UUID, original: LedgerEntry | None
    ) -> Split:
        channel = Channel(license.channel)
        if original is not None and channel is Channel.MARKETPLACE:
            # A refund splits at the rate of the sale it reverses, whatever the schedule says today.
            recorded = channel_split(
                channel,
                movement.amount_minor,
                original.vendor_share_rate,
                movement.vendor_amount_minor,
                movement.operator_amount_minor,
                movement.currency,
            )
            if recorded is not None and recorded.vendor_share_rate == original.vendor_share_rate:
                return recorded
            return split_minor(movement.amount_minor, original.vendor_share_rate, movement.currency)
        split = channel_split(
            channel,
            movement.amount_minor,
            movement.vendor_share_rate,
            movement.vendor_amount_minor,
            movement.operator_amount_minor,
            movement.currency,
        )
        if split is not None:
            return split
        # A marketplace line that recorded no split (none does today): the vendor's schedule on the sale date.
        from mercato.catalog.vendors import RevenueSchedules  # the catalog service imports much; load late

        schedule = RevenueSchedules(self.session).of(vendor_id)
        rate = schedule.rate_on(Hosting(license.hosting), movement.occurred_at.date())
        return split_minor(movement.amount_minor, rate.vendor_share, movement.currency)


def movement_of(entry: LicenseTransaction) -> Movement | None:
    """The money a license history entry records (the backfill reads history, not invoices, so that it sees
    exactly the events the subscriber would have seen, refunds included)."""
    if entry.invoice_line_id is None or entry.currency is None:
        return None
    return Movement(
        kind=entry.kind.value,
        license_id=entry.license_id,
        invoice_line_id=entry.invoice_line_id,
        currency=entry.currency,
        amount_minor=entry.amount_minor,
        vendor_share_rate=entry.vendor_share_rate,
        vendor_amount_minor=entry.vendor_amount_minor,
        operator_amount_minor=entry.operator_amount_minor,
        description=entry.description,
        occurred_at=entry.occurred_at,
    )


def backfill(session: Session, batch: int = 500) -> int:
    """Writes the entries of every money-moving license history entry that has none yet; returns how many it
    wrote. Safe to run again, and at the same time as sales (the unique source refuses a duplicate)."""
    repo = LedgerRepository(session)
    writer = LedgerWriter(session)
    written = 0
    after = 0
    while True:
        history = repo.history_with_money(after, batch)
        if not history:
            return written
        for entry in history:
            after = entry.id
            movement = movement_of(entry)
            if movement is None or movement.kind not in LEDGER_KINDS:
                continue
            if repo.entry_by_source(movement.source) is not None:
                continue
            try:
                with session.begin_nested():
                    recorded = writer.record(movement, announce=False)
            except IntegrityError:
                continue  # a live sale or another backfill wrote it in the meantime
            written += recorded is not None
