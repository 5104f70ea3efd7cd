"""Vendor reports, read from the ledger and the licenses as they are now: a sale shows the moment it is paid.

Transactions are ledger entries (sales, renewals, upgrades, co-terms, migrations, refunds, adjustments, on both
channels, zero-amount sales of free licenses included); licenses are every license of the vendor's apps,
evaluations included. Both page with a cursor (the newest first, by time and then id), so a page does not shift
when new rows arrive, and both can be read whole as CSV. A vendor's members and operator staff read them; any
other vendor answers 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, aliased

from mercato.accounts.access import Principal
from mercato.accounts.models import Organisation
from mercato.catalog.models import App, Listing, Vendor
from mercato.catalog.vendors import VendorService
from mercato.commerce.models import Invoice, InvoiceLine, QuoteLine
from mercato.ledger.domain import Month
from mercato.ledger.models import LedgerEntry, PayoutItem
from mercato.licenses.models import License, LicenseState
from mercato.paging import KeysetOrder, Page, PageRequest, fetch_page
from mercato.services import Services

PAID_KINDS = ("new", "cloud_subscription", "renewal", "upgrade", "co_term", "migration")


ENTRIES_NEWEST_FIRST = KeysetOrder("vendor-ledger", LedgerEntry.occurred_at, LedgerEntry.id, datetime, int)
LICENSES_LAST_CHANGED_FIRST = KeysetOrder(
    "vendor-license-report", License.updated_at, License.id, datetime, uuid.UUID
)


@dataclass(frozen=True)
class TransactionFilters:
    app: str | None = None
    hosting: str | None = None
    channel: str | None = None
    kind: str | None = None
    currency: str | None = None
    since: date | None = None
    until: date | None = None
    payout: uuid.UUID | None = None
    """Only the entries this payout paid: the remittance report's entries, as transactions."""


@dataclass(frozen=True)
class LicenseFilters:
    app: str | None = None
    hosting: str | None = None
    channel: str | None = None
    license_type: str | None = None
    status: str | None = None
    updated_since: datetime | None = None


@dataclass(frozen=True)
class TransactionRow:
    entry: LedgerEntry
    app_key: str | None
    entitlement_number: str | None
    license_type: str | None
    tier_users: int | None
    customer: str | None
    invoice: str | None
    tier_sold: int | None
    previous_tier: int | None
    period_start: date | None
    period_end: date | None


@dataclass(frozen=True)
class LicenseRow:
    license: License
    app_key: str
    customer: str | None
    last_sale_type: str | None


@dataclass(frozen=True)
class MonthRevenue:
    month: str
    currency: str
    sales_minor: int
    vendor_minor: int
    by_kind: dict[str, int]
    """Count of entries by kind (new, renewal, upgrade, ...)."""


@dataclass(frozen=True)
class Summary:
    months: Sequence[MonthRevenue]
    active_licenses: int
    evaluations: int
    evaluations_converted: int


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


class VendorReports:
    def __init__(self, session: Session, services: Services) -> None:
        self.session = session
        self.vendors = VendorService(session, services.secret_key, services.clock)

    def vendor_for(self, principal: Principal, slug: str) -> Vendor:
        return self.vendors.vendor_for(principal, slug)

    # -- transactions --------------------------------------------------------------------------------------

    def _transactions(self, vendor: Vendor, filters: TransactionFilters) -> Any:
        # An upgrade's previous tier: the tier of the license's latest line invoiced before the upgrade's.
        earlier_line, earlier_quoted = aliased(InvoiceLine), aliased(QuoteLine)
        previous_tier = (
            select(earlier_quoted.tier_users)
            .join(earlier_line, earlier_line.quote_line_id == earlier_quoted.id)
            .where(
                earlier_line.license_id == LedgerEntry.license_id,
                earlier_line.id < LedgerEntry.invoice_line_id,
            )
            .order_by(earlier_line.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        query = (
            select(
                LedgerEntry,
                App.key,
                License.entitlement_number,
                License.license_type,
                License.tier_users,
                Organisation.name,
                Invoice.number,
                QuoteLine.tier_users,
                case((LedgerEntry.kind == "upgrade", previous_tier)),
                QuoteLine.period_start,
                QuoteLine.period_end,
            )
            .outerjoin(App, App.id == LedgerEntry.app_id)
            .outerjoin(License, License.id == LedgerEntry.license_id)
            .outerjoin(Organisation, Organisation.id == License.organisation_id)
            .outerjoin(InvoiceLine, InvoiceLine.id == LedgerEntry.invoice_line_id)
            .outerjoin(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .outerjoin(QuoteLine, QuoteLine.id == InvoiceLine.quote_line_id)
            .where(LedgerEntry.vendor_id == vendor.id)
        )
        if filters.app:
            query = query.where(App.key == filters.app)
        if filters.hosting:
            query = query.where(LedgerEntry.hosting == filters.hosting)
        if filters.channel:
            query = query.where(LedgerEntry.channel == filters.channel)
        if filters.kind:
            query = query.where(LedgerEntry.kind == filters.kind)
        if filters.currency:
            query = query.where(LedgerEntry.currency == filters.currency)
        if filters.since:
            query = query.where(LedgerEntry.occurred_at >= _start_of(filters.since))
        if filters.until:
            query = query.where(LedgerEntry.occurred_at < _start_of(filters.until + timedelta(days=1)))
        if filters.payout:
            paid = select(PayoutItem.entry_id).where(PayoutItem.payout_id == filters.payout)
            query = query.where(LedgerEntry.id.in_(paid))
        return query.order_by(LedgerEntry.occurred_at.desc(), LedgerEntry.id.desc())

    def transactions(
        self, vendor: Vendor, filters: TransactionFilters, page: PageRequest
    ) -> Page[TransactionRow]:
        found = fetch_page(
            self.session,
            self._transactions(vendor, filters),
            ENTRIES_NEWEST_FIRST,
            page,
            key_of=lambda row: (row[0].occurred_at, row[0].id),
            scalars=False,
        )
        return found.shown_as([TransactionRow(*row) for row in found.rows])

    def all_transactions(self, vendor: Vendor, filters: TransactionFilters) -> list[TransactionRow]:
        return [TransactionRow(*row) for row in self.session.execute(self._transactions(vendor, filters))]

    # -- licenses ------------------------------------------------------------------------------------------

    def _licenses(self, vendor: Vendor, filters: LicenseFilters) -> Any:
        last_sale = (
            select(LedgerEntry.kind)
            .where(LedgerEntry.license_id == License.id, LedgerEntry.kind.in_(PAID_KINDS))
            .order_by(LedgerEntry.occurred_at.desc(), LedgerEntry.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        query = (
            select(License, App.key, Organisation.name, last_sale)
            .join(Listing, Listing.id == License.listing_id)
            .join(App, App.id == Listing.app_id)
            .outerjoin(Organisation, Organisation.id == License.organisation_id)
            .where(App.vendor_id == vendor.id)
        )
        if filters.app:
            query = query.where(App.key == filters.app)
        if filters.hosting:
            query = query.where(License.hosting == filters.hosting)
        if filters.channel:
            query = query.where(License.channel == filters.channel)
        if filters.license_type:
            query = query.where(License.license_type == filters.license_type)
        if filters.status:
            query = query.where(License.status == filters.status)
        if filters.updated_since:
            query = query.where(License.updated_at >= filters.updated_since)
        return query.order_by(License.updated_at.desc(), License.id.desc())

    def licenses(self, vendor: Vendor, filters: LicenseFilters, page: PageRequest) -> Page[LicenseRow]:
        found = fetch_page(
            self.session,
            self._licenses(vendor, filters),
            LICENSES_LAST_CHANGED_FIRST,
            page,
            key_of=lambda row: (row[0].updated_at, row[0].id),
            scalars=False,
        )
        return found.shown_as([LicenseRow(*row) for row in found.rows])

    def all_licenses(self, vendor: Vendor, filters: LicenseFilters) -> list[LicenseRow]:
        return [LicenseRow(*row) for row in self.session.execute(self._licenses(vendor, filters))]

    # -- summary -------------------------------------------------------------------------------------------

    def summary(self, vendor: Vendor, first: Month, last: Month) -> Summary:
        """Monthly revenue (marketplace and direct, by currency) and counts of entries by kind, from ``first``
        to ``last``; active licenses and evaluations converted, as of now."""
        # Grouped in the database (month, currency, sale type): the vendor's entries are not read one by one.
        # On PostgreSQL the covering index of migration 0016 answers it alone (an index-only scan).
        month: Any
        if self.session.get_bind().dialect.name == "postgresql":
            month = func.date_trunc("month", func.timezone("UTC", LedgerEntry.occurred_at))
        else:
            month = func.strftime("%Y-%m", LedgerEntry.occurred_at)
        groups = self.session.execute(
            select(
                month,
                LedgerEntry.currency,
                LedgerEntry.kind,
                func.count(),
                func.sum(LedgerEntry.amount_minor),
                func.sum(LedgerEntry.vendor_amount_minor),
            )
            .where(
                LedgerEntry.vendor_id == vendor.id,
                LedgerEntry.occurred_at >= first.start,
                LedgerEntry.occurred_at < last.end,
            )
            .group_by(month, LedgerEntry.currency, LedgerEntry.kind)
        )
        months: dict[tuple[str, str], MonthRevenue] = {}
        for month_value, currency, kind, count, amount, vendor_amount in groups:
            key = (month_value if isinstance(month_value, str) else f"{month_value:%Y-%m}", currency)
            found = months.get(key) or MonthRevenue(key[0], currency, 0, 0, {})
            by_kind = dict(found.by_kind)
            by_kind[str(kind)] = by_kind.get(str(kind), 0) + int(count)
            months[key] = MonthRevenue(
                key[0],
                currency,
                found.sales_minor + int(amount or 0),
                found.vendor_minor + int(vendor_amount or 0),
                by_kind,
            )
        vendor_licenses = (
            select(License.id)
            .join(Listing, Listing.id == License.listing_id)
            .join(App, App.id == Listing.app_id)
            .where(App.vendor_id == vendor.id)
        )
        counts = self.session.execute(
            select(
                func.count(case((and_(License.status == LicenseState.ACTIVE.value, ~License.evaluation), 1))),
                func.count(case((License.evaluation, 1))),
            ).where(License.id.in_(vendor_licenses))
        ).one()
        # An evaluation converted: the same app on the same host later got a paid (non-evaluation) license.
        paid = License.__table__.alias("paid")
        converted = self.session.scalar(
            select(func.count())
            .select_from(License)
            .where(
                License.id.in_(vendor_licenses),
                License.evaluation,
                select(paid.c.id)
                .where(
                    paid.c.product_key == License.product_key,
                    paid.c.host_instance_id == License.host_instance_id,
                    paid.c.evaluation.is_(False),
                )
                .exists(),
            )
        )
        return Summary(
            months=[months[key] for key in sorted(months)],
            active_licenses=int(counts[0]),
            evaluations=int(counts[1]),
            evaluations_converted=int(converted or 0),
        )
