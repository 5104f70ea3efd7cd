"""The ledger's SQL: entries, what they add up to, payouts and what each payout claimed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from mercato.catalog.models import Vendor
from mercato.ledger.models import EntryKind, LedgerEntry, Payout, PayoutItem
from mercato.licenses.models import LicenseTransaction
from mercato.paging import KeysetOrder, Page, PageRequest, fetch_page
from mercato.pricing import Channel

PAYABLE = LedgerEntry.channel == Channel.MARKETPLACE.value
"""Only marketplace entries are the operator's to pay: on the direct channel the vendor collected the money."""


# A vendor has one payout a month and currency, so (month, currency) orders them totally.
PAYOUTS_NEWEST_FIRST = KeysetOrder("payouts", Payout.month, Payout.currency, str, str, id_descending=False)


def _column_values(entry: LedgerEntry) -> dict[str, Any]:
    """An entry's columns for an INSERT, leaving out those its columns' defaults give (its id, when recorded)."""
    values: dict[str, Any] = {}
    for attribute in inspect(LedgerEntry).column_attrs:
        column = attribute.columns[0]
        value = getattr(entry, attribute.key)
        if value is None and (column.primary_key or column.default is not None):
            continue
        values[attribute.key] = value
    return values


class LedgerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- entries -------------------------------------------------------------------------------------------

    def entry(self, entry_id: int) -> LedgerEntry | None:
        return self.session.get(LedgerEntry, entry_id)

    def entry_by_source(self, source: str) -> LedgerEntry | None:
        return self.session.scalars(select(LedgerEntry).where(LedgerEntry.source == source)).one_or_none()

    def add_unrecorded(self, entries: Sequence[LedgerEntry]) -> dict[str, LedgerEntry]:
        """Insert the entries (not in the session) whose source has no entry yet, all in one statement in which
        the unique source decides (``ON CONFLICT DO NOTHING``), so no query looks for them first. Returns the
        entries written, as rows of the session, by source."""
        if not entries:
            return {}
        dialect = self.session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        written = self.session.scalars(
            insert(LedgerEntry)
            .on_conflict_do_nothing(index_elements=[LedgerEntry.source])
            .returning(LedgerEntry),
            [_column_values(entry) for entry in entries],
        ).all()
        return {entry.source: entry for entry in written}

    def sale_of_line(self, invoice_line_id: int) -> LedgerEntry | None:
        """The entry an invoice line's sale made (not its refund)."""
        return self.session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.invoice_line_id == invoice_line_id, LedgerEntry.kind != EntryKind.REFUND.value)
            .order_by(LedgerEntry.id)
            .limit(1)
        ).one_or_none()

    def add(self, entry: LedgerEntry) -> LedgerEntry:
        self.session.add(entry)
        self.session.flush()
        return entry

    def history_with_money(self, after_id: int, limit: int) -> Sequence[LicenseTransaction]:
        """License history entries of invoice lines, in order, for the backfill."""
        return self.session.scalars(
            select(LicenseTransaction)
            .where(LicenseTransaction.invoice_line_id.is_not(None), LicenseTransaction.id > after_id)
            .order_by(LicenseTransaction.id)
            .limit(limit)
        ).all()

    def entries_of(
        self, vendor_id: uuid.UUID, currency: str, start: datetime, end: datetime
    ) -> Sequence[LedgerEntry]:
        """A vendor's payable entries in one currency that occurred in [start, end)."""
        return self.session.scalars(
            select(LedgerEntry)
            .where(
                LedgerEntry.vendor_id == vendor_id,
                LedgerEntry.currency == currency,
                PAYABLE,
                LedgerEntry.occurred_at >= start,
                LedgerEntry.occurred_at < end,
            )
            .order_by(LedgerEntry.occurred_at, LedgerEntry.id)
        ).all()

    def earned_before(self, vendor_id: uuid.UUID, currency: str, end: datetime) -> int:
        return int(
            self.session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.vendor_amount_minor), 0)).where(
                    LedgerEntry.vendor_id == vendor_id,
                    LedgerEntry.currency == currency,
                    PAYABLE,
                    LedgerEntry.occurred_at < end,
                )
            )
            or 0
        )

    def direct_sales(self, vendor_id: uuid.UUID, currency: str, start: datetime, end: datetime) -> int:
        return int(
            self.session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0)).where(
                    LedgerEntry.vendor_id == vendor_id,
                    LedgerEntry.currency == currency,
                    LedgerEntry.channel == Channel.DIRECT.value,
                    LedgerEntry.occurred_at >= start,
                    LedgerEntry.occurred_at < end,
                )
            )
            or 0
        )

    def currencies_of(self, vendor_id: uuid.UUID, before: datetime) -> list[str]:
        return list(
            self.session.scalars(
                select(LedgerEntry.currency)
                .where(LedgerEntry.vendor_id == vendor_id, LedgerEntry.occurred_at < before)
                .distinct()
                .order_by(LedgerEntry.currency)
            )
        )

    def unclaimed(self, vendor_id: uuid.UUID, before: datetime) -> Sequence[LedgerEntry]:
        """A vendor's payable entries before ``before`` that no payout claimed yet."""
        claimed = select(PayoutItem.entry_id).where(PayoutItem.entry_id == LedgerEntry.id).exists()
        return self.session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.vendor_id == vendor_id, PAYABLE, LedgerEntry.occurred_at < before, ~claimed)
            .order_by(LedgerEntry.currency, LedgerEntry.occurred_at, LedgerEntry.id)
        ).all()

    # -- payouts -------------------------------------------------------------------------------------------

    def lock_vendor(self, vendor_id: uuid.UUID) -> Vendor | None:
        """The vendor's row, locked until the transaction ends (PostgreSQL; SQLite's writers are serial)."""
        return self.session.scalars(
            select(Vendor)
            .where(Vendor.id == vendor_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one_or_none()

    def vendor_ids_with_unclaimed(self, before: datetime) -> list[uuid.UUID]:
        claimed = select(PayoutItem.entry_id).where(PayoutItem.entry_id == LedgerEntry.id).exists()
        return list(
            self.session.scalars(
                select(LedgerEntry.vendor_id)
                .join(Vendor, Vendor.id == LedgerEntry.vendor_id)
                .where(PAYABLE, LedgerEntry.occurred_at < before, ~claimed)
                .distinct()
                .order_by(LedgerEntry.vendor_id)
            )
        )

    def payout(self, payout_id: uuid.UUID) -> Payout | None:
        return self.session.get(Payout, payout_id)

    def payout_of(self, vendor_id: uuid.UUID, currency: str, month: str) -> Payout | None:
        return self.session.scalars(
            select(Payout).where(
                Payout.vendor_id == vendor_id, Payout.currency == currency, Payout.month == month
            )
        ).one_or_none()

    def payouts_of(self, vendor_id: uuid.UUID, page: PageRequest) -> Page[Payout]:
        """A vendor's payouts, newest month first, always counted (one a month and currency)."""
        query = select(Payout).where(Payout.vendor_id == vendor_id)
        return fetch_page(self.session, query, PAYOUTS_NEWEST_FIRST, page, always_count=True)

    def payouts_in(self, vendor_id: uuid.UUID, currency: str, month: str) -> Sequence[Payout]:
        return self.session.scalars(
            select(Payout).where(
                Payout.vendor_id == vendor_id, Payout.currency == currency, Payout.month == month
            )
        ).all()

    def paid_before(self, vendor_id: uuid.UUID, currency: str, month: str) -> int:
        """What the payouts of months before ``month`` paid ('YYYY-MM' sorts as text)."""
        return int(
            self.session.scalar(
                select(func.coalesce(func.sum(Payout.amount_minor), 0)).where(
                    Payout.vendor_id == vendor_id, Payout.currency == currency, Payout.month < month
                )
            )
            or 0
        )

    def add_payout(self, payout: Payout, entries: Sequence[LedgerEntry]) -> Payout:
        self.session.add(payout)
        self.session.flush()
        self.session.add_all(PayoutItem(entry_id=entry.id, payout_id=payout.id) for entry in entries)
        self.session.flush()
        return payout

    def entries_paid_by(self, payout_id: uuid.UUID) -> Sequence[LedgerEntry]:
        return self.session.scalars(
            select(LedgerEntry)
            .join(PayoutItem, PayoutItem.entry_id == LedgerEntry.id)
            .where(PayoutItem.payout_id == payout_id)
            .order_by(LedgerEntry.occurred_at, LedgerEntry.id)
        ).all()
