"""A vendor's reports: its transactions (the invoice lines of its apps, and their refunds), its licenses, and
the monthly series of its revenue and active licenses — each one query, aggregated by the database.

Who may read them is decided before: callers pass the vendor that ``VendorService.vendor_for`` gave the
principal (members of the vendor and operator staff; anyone else gets 404 there).

A transaction is money that moved: a line of a *paid* invoice (dated when the invoice was paid), and, when the
line was refunded, a second row of kind ``refund`` with the amounts negated (dated when it was refunded). The
vendor's share is the split the sale recorded; on its direct store the vendor is the seller and keeps the
whole line.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Select, String, case, cast, func, literal, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from mercato.accounts.models import Organisation
from mercato.catalog.models import App, Listing
from mercato.commerce.models import Invoice, InvoiceLine, LineAction, QuoteLine
from mercato.database import UTCDateTime
from mercato.keys.models import OPERATOR_ISSUER
from mercato.licenses.models import License, LicenseState
from mercato.paging import KeysetOrder, Page, PageRequest, fetch_page
from mercato.pricing import Channel, Hosting, from_minor_units

REFUND = "refund"


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def month_starts(today: date, count: int = 12) -> list[date]:
    """The first days of the ``count`` months up to and including ``today``'s, oldest first."""
    months: list[date] = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


# The vendor's licenses, newest first (the maintenance start, which the page shows, is empty for some licenses
# and so cannot be a cursor's key).
VENDOR_LICENSES_ORDER = KeysetOrder("vendor-licenses", License.created_at, License.id, datetime, uuid.UUID)


@dataclass(frozen=True)
class TransactionFilters:
    """What a transaction list may be narrowed to; ``None`` leaves a field open. Days are inclusive."""

    product_key: str | None = None
    channel: Channel | None = None
    kind: str | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class LicenseReportFilters:
    product_key: str | None = None
    channel: Channel | None = None
    status: LicenseState | None = None
    started_from: date | None = None
    started_to: date | None = None


@dataclass(frozen=True)
class Transaction:
    line_id: int
    occurred_at: datetime
    invoice_number: str
    customer: str
    product_key: str
    app_name: str
    hosting: str
    channel: str
    kind: str
    currency: str
    gross: Decimal
    vendor_share: Decimal


@dataclass(frozen=True)
class MonthRevenue:
    month: date
    currency: str
    gross: Decimal
    vendor_share: Decimal


@dataclass(frozen=True)
class MonthLicenses:
    month: date
    active: int


@dataclass(frozen=True)
class LicenseRow:
    entitlement_number: str
    product_key: str
    app_name: str
    hosting: str
    channel: str
    license_type: str
    tier_users: int
    customer: str | None
    status: str
    paid_until: date | None
    started: date | None


@dataclass(frozen=True)
class VendorCounts:
    apps: int
    active_licenses: int
    transactions: int


class VendorReports:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- transactions ----------------------------------------------------------------------------------------

    @staticmethod
    def _ledger(vendor_id: uuid.UUID) -> Any:
        """Sales and refunds of the vendor's apps as one subquery, a row each."""
        channel = case(
            (Invoice.seller == OPERATOR_ISSUER, Channel.MARKETPLACE.value), else_=Channel.DIRECT.value
        )
        share = func.coalesce(InvoiceLine.vendor_amount_minor, InvoiceLine.amount_minor)

        def rows(when: Any, kind: Any, sign: int) -> Select[Any]:
            return (
                select(
                    InvoiceLine.id.label("line_id"),
                    when.label("occurred_at"),
                    Invoice.number.label("invoice_number"),
                    Organisation.name.label("customer"),
                    QuoteLine.product_key.label("product_key"),
                    App.name.label("app_name"),
                    Listing.hosting.label("hosting"),
                    channel.label("channel"),
                    kind.label("kind"),
                    Invoice.currency.label("currency"),
                    (InvoiceLine.amount_minor * sign).label("gross_minor"),
                    (share * sign).label("vendor_minor"),
                )
                .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                .join(QuoteLine, QuoteLine.id == InvoiceLine.quote_line_id)
                .join(Listing, Listing.id == QuoteLine.listing_id)
                .join(App, App.id == Listing.app_id)
                .join(Organisation, Organisation.id == Invoice.organisation_id)
                .where(App.vendor_id == vendor_id)
            )

        # The kind as plain text: a sale's is its line's action, a refund's is "refund" (not a line action).
        sales = rows(Invoice.paid_at, cast(QuoteLine.action, String(32)), 1).where(
            Invoice.paid_at.is_not(None)
        )
        refunds = rows(InvoiceLine.refunded_at, literal(REFUND, String(32)), -1).where(
            InvoiceLine.refunded_at.is_not(None)
        )
        return union_all(sales, refunds).subquery("ledger")

    @staticmethod
    def _conditions(ledger: Any, filters: TransactionFilters) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if filters.product_key:
            found.append(ledger.c.product_key == filters.product_key)
        if filters.channel is not None:
            found.append(ledger.c.channel == filters.channel.value)
        if filters.kind:
            found.append(ledger.c.kind == filters.kind)
        if filters.date_from is not None:
            found.append(ledger.c.occurred_at >= literal(_start_of(filters.date_from), UTCDateTime()))
        if filters.date_to is not None:
            end = _start_of(filters.date_to + timedelta(days=1))
            found.append(ledger.c.occurred_at < literal(end, UTCDateTime()))
        return found

    @staticmethod
    def _transaction(row: Any) -> Transaction:
        return Transaction(
            line_id=row.line_id,
            occurred_at=row.occurred_at,
            invoice_number=row.invoice_number,
            customer=row.customer,
            product_key=row.product_key,
            app_name=row.app_name,
            hosting=str(Hosting(row.hosting)),
            channel=row.channel,
            kind=str(row.kind),
            currency=row.currency,
            gross=from_minor_units(int(row.gross_minor), row.currency),
            vendor_share=from_minor_units(int(row.vendor_minor), row.currency),
        )

    def _transactions_query(self, vendor_id: uuid.UUID, filters: TransactionFilters) -> Select[Any]:
        ledger = self._ledger(vendor_id)
        return (
            select(ledger)
            .where(*self._conditions(ledger, filters))
            .order_by(ledger.c.occurred_at.desc(), ledger.c.line_id.desc(), ledger.c.kind)
        )

    def transactions(
        self, vendor_id: uuid.UUID, filters: TransactionFilters, page: PageRequest
    ) -> Page[Transaction]:
        """One page of the vendor's transactions, newest first (the order of ``_transactions_query``)."""
        query = self._transactions_query(vendor_id, filters)
        ledger = query.selected_columns
        order = KeysetOrder(
            "vendor-transactions",
            ledger.occurred_at,
            ledger.kind,
            datetime,
            str,
            id_descending=False,
            between=((ledger.line_id, int),),
        )
        rows = fetch_page(
            self.session,
            query,
            order,
            page,
            key_of=lambda row: (row.occurred_at, row.line_id, row.kind),
            scalars=False,
        )
        return rows.shown_as([self._transaction(row) for row in rows.rows])

    def all_transactions(self, vendor_id: uuid.UUID, filters: TransactionFilters) -> Iterator[Transaction]:
        """Every matching transaction, newest first, read in batches (for a CSV export)."""
        result = self.session.execute(
            self._transactions_query(vendor_id, filters).execution_options(yield_per=500)
        )
        for row in result:
            yield self._transaction(row)

    # -- monthly series --------------------------------------------------------------------------------------

    @staticmethod
    def _months(starts: Sequence[date]) -> Any:
        """The months as rows (first day, next month's first day, and both as UTC instants)."""
        selects = [
            select(
                literal(first, Date()).label("first_day"),
                literal(_next_month(first), Date()).label("next_day"),
                literal(_start_of(first), UTCDateTime()).label("starts"),
                literal(_start_of(_next_month(first)), UTCDateTime()).label("ends"),
            )
            for first in starts
        ]
        return union_all(*selects).subquery("months")

    def monthly_revenue(self, vendor_id: uuid.UUID, starts: Sequence[date]) -> list[MonthRevenue]:
        """Gross and vendor share of the vendor's transactions per month and currency (refunds subtract in
        the month they were made)."""
        ledger = self._ledger(vendor_id)
        months = self._months(starts)
        rows = self.session.execute(
            select(
                months.c.first_day,
                ledger.c.currency,
                func.sum(ledger.c.gross_minor),
                func.sum(ledger.c.vendor_minor),
            )
            .join(ledger, (ledger.c.occurred_at >= months.c.starts) & (ledger.c.occurred_at < months.c.ends))
            .group_by(months.c.first_day, ledger.c.currency)
            .order_by(months.c.first_day, ledger.c.currency)
        ).all()
        return [
            MonthRevenue(
                month=_as_date(first),
                currency=currency,
                gross=from_minor_units(int(gross), currency),
                vendor_share=from_minor_units(int(share), currency),
            )
            for first, currency, gross, share in rows
        ]

    @staticmethod
    def _paid_until() -> ColumnElement[Any]:
        return case(
            (License.hosting == Hosting.SERVER, func.coalesce(License.maintenance_end, License.term_end)),
            else_=func.coalesce(License.term_end, License.maintenance_end),
        )

    def active_licenses_by_month(self, vendor_id: uuid.UUID, starts: Sequence[date]) -> list[MonthLicenses]:
        """Per month: the vendor's licenses in force in it — issued by its end, paid until (maintenance for
        server, the term otherwise) on or after its first day, started before its end, and neither cancelled nor
        superseded now."""
        months = self._months(starts)
        paid_until = self._paid_until()
        # A license starts with its maintenance (or term); one without is counted from when it was made.
        started = ((License.maintenance_start.is_(None)) & (License.created_at < months.c.ends)) | (
            License.maintenance_start < months.c.next_day
        )
        in_force = (
            started
            & ((paid_until.is_(None)) | (paid_until >= months.c.first_day))
            & License.status.not_in([LicenseState.CANCELLED, LicenseState.SUPERSEDED])
            & License.listing_id.in_(_vendor_listings(vendor_id))
        )
        rows = self.session.execute(
            select(months.c.first_day, func.count(License.id))
            .select_from(months)
            .outerjoin(License, in_force)
            .group_by(months.c.first_day)
            .order_by(months.c.first_day)
        ).all()
        return [MonthLicenses(month=_as_date(first), active=int(count)) for first, count in rows]

    # -- licenses --------------------------------------------------------------------------------------------

    def licenses(
        self, vendor_id: uuid.UUID, filters: LicenseReportFilters, page: PageRequest
    ) -> Page[LicenseRow]:
        conditions: list[ColumnElement[bool]] = [App.vendor_id == vendor_id]
        if filters.product_key:
            conditions.append(License.product_key == filters.product_key)
        if filters.channel is not None:
            conditions.append(License.channel == filters.channel)
        if filters.status is not None:
            conditions.append(License.status == filters.status)
        if filters.started_from is not None:
            conditions.append(License.maintenance_start >= filters.started_from)
        if filters.started_to is not None:
            conditions.append(License.maintenance_start <= filters.started_to)
        base = (
            select(License, App.name, Organisation.name, self._paid_until().label("paid_until"))
            .join(Listing, Listing.id == License.listing_id)
            .join(App, App.id == Listing.app_id)
            .outerjoin(Organisation, Organisation.id == License.organisation_id)
            .where(*conditions)
        )
        found = fetch_page(
            self.session,
            base,
            VENDOR_LICENSES_ORDER,
            page,
            key_of=lambda row: (row[0].created_at, row[0].id),
            scalars=False,
        )
        return found.shown_as(
            [
                LicenseRow(
                    entitlement_number=license.entitlement_number,
                    product_key=license.product_key,
                    app_name=app_name,
                    hosting=str(license.hosting),
                    channel=str(license.channel),
                    license_type=str(license.license_type),
                    tier_users=license.tier_users,
                    customer=customer,
                    status=str(license.status),
                    paid_until=_as_date(paid_until) if paid_until is not None else None,
                    started=license.maintenance_start,
                )
                for license, app_name, customer, paid_until in found.rows
            ]
        )

    def app_choices(self, vendor_id: uuid.UUID) -> list[tuple[str, str]]:
        """The vendor's apps as (key, name), by name: what its reports may be filtered to."""
        rows = self.session.execute(
            select(App.key, App.name).where(App.vendor_id == vendor_id).order_by(App.name, App.key)
        ).all()
        return [(key, name) for key, name in rows]

    # -- counts ----------------------------------------------------------------------------------------------

    def counts(self, vendor_id: uuid.UUID) -> VendorCounts:
        ledger = self._ledger(vendor_id)
        apps = select(func.count()).select_from(App).where(App.vendor_id == vendor_id).scalar_subquery()
        active = (
            select(func.count())
            .select_from(License)
            .where(
                License.listing_id.in_(_vendor_listings(vendor_id)),
                License.status == LicenseState.ACTIVE,
            )
            .scalar_subquery()
        )
        transactions = select(func.count()).select_from(ledger).scalar_subquery()
        row = self.session.execute(select(apps, active, transactions)).one()
        return VendorCounts(apps=int(row[0]), active_licenses=int(row[1]), transactions=int(row[2]))


def transaction_kinds() -> list[str]:
    """Every kind a transaction may have: what its line did (new, renewal, upgrade, ...), or a refund."""
    return [action.value for action in LineAction] + [REFUND]


def _vendor_listings(vendor_id: uuid.UUID) -> Select[Any]:
    return select(Listing.id).join(App, App.id == Listing.app_id).where(App.vendor_id == vendor_id)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


__all__ = [
    "REFUND",
    "LicenseReportFilters",
    "LicenseRow",
    "MonthLicenses",
    "MonthRevenue",
    "Transaction",
    "TransactionFilters",
    "VendorCounts",
    "VendorReports",
    "transaction_kinds",
]
