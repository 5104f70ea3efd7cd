"""Vendor reporting API: a vendor's transactions (its ledger), its licenses and a summary, for the vendor's
members and operator staff; any other vendor answers 404 exactly like a missing one. Lists page with a cursor,
newest first; `format=csv` answers the whole filtered report as CSV instead."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from mercato.accounts.access import Forbidden, NotAuthenticated
from mercato.accounts.dependencies import Reader
from mercato.accounts.errors import VendorNotFound
from mercato.fields import Day, PageLimit, Text
from mercato.ledger.errors import InvalidMonth
from mercato.ledger.reports import (
    LicenseFilters,
    LicenseRow,
    TransactionFilters,
    TransactionRow,
    VendorReports,
)
from mercato.ledger.service import parse_month
from mercato.paging import MAX_CURSOR_LENGTH, InvalidCursor, Page, PageRequest
from mercato.pricing import from_minor_units
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.paging import CURSOR_PATTERN, AfterQuery
from mercato.web.responses import problem_responses
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(tags=["vendor reports"], route_class=UnitOfWorkRoute)

_SIGNED_IN = (NotAuthenticated, Forbidden)
VendorPath = Annotated[Text, Path(max_length=64, description="The vendor's slug, e.g. example-mockups.")]
AppQuery = Annotated[Text | None, Query(max_length=200, description="Only this app (its key).")]
HostingQuery = Annotated[
    Literal["server", "datacenter", "cloud"] | None, Query(description="Only this hosting.")
]
ChannelQuery = Annotated[Literal["marketplace", "direct"] | None, Query(description="Only this channel.")]
FormatQuery = Annotated[
    Literal["json", "csv"], Query(alias="format", description="json (a page) or csv (the whole report).")
]
CursorQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_CURSOR_LENGTH,
        pattern=CURSOR_PATTERN,
        description="The same as `after` (its earlier name, still taken).",
        deprecated=True,
    ),
]
_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "The report"}
}


class TransactionOut(BaseModel):
    id: int = Field(description="The ledger entry's id (a remittance report lists the same ids).")
    occurred_at: datetime
    sale_type: str = Field(
        description="new, cloud_subscription, renewal, upgrade, co_term, migration, refund or adjustment."
    )
    channel: str
    app_key: str | None
    hosting: str | None
    entitlement_number: str | None
    license_type: str | None
    tier_users: int | None = Field(description="The license's tier now; -1 is unlimited.")
    tier: int | None = Field(
        default=None,
        description="The tier this sale was for (-1 is unlimited); null for adjustments.",
        examples=[100],
    )
    previous_tier: int | None = Field(
        default=None,
        description="Upgrades: the tier of the license's previous invoiced sale; null otherwise, or when the "
        "license was never invoiced before.",
        examples=[50],
    )
    maintenance_start: date | None = Field(
        default=None,
        description="First day of the maintenance or term this sale covers.",
        examples=["2026-11-26"],
    )
    maintenance_end: date | None = Field(
        default=None,
        description="When the maintenance or term this sale covers ends (the license's maintenance_end "
        "after it).",
        examples=["2027-11-26"],
    )
    customer: str | None
    invoice: str | None
    currency: str
    gross: Decimal
    discount: Decimal
    amount: Decimal
    vendor_share_rate: Decimal
    vendor_amount: Decimal
    operator_amount: Decimal
    corrects_entry_id: int | None


class ReportPage(BaseModel):
    """A report's page: read with `after` only (a report has no offset and no total)."""

    has_more: bool = Field(description="Whether rows follow this page.")
    next_after: str | None = Field(description="Pass it as `after` for the next page; null on the last page.")
    next_cursor: str | None = Field(description="The same as `next_after` (its earlier name, still given).")
    limit: int


def _report_page(page: Page[Any], limit: int) -> dict[str, Any]:
    return {
        "has_more": page.has_more,
        "next_after": page.next_after,
        "next_cursor": page.next_after,
        "limit": limit,
    }


def _cursor(after: str | None, cursor: str | None) -> str | None:
    """The cursor given as ``after``, or as ``cursor``, its earlier name."""
    return after if after is not None else cursor


class TransactionPage(ReportPage):
    items: list[TransactionOut]


class VendorLicenseOut(BaseModel):
    id: uuid.UUID
    entitlement_number: str
    app_key: str
    hosting: str
    channel: str
    license_type: str
    tier_users: int = Field(description="-1 is unlimited.")
    host_binding: str
    customer: str | None
    evaluation: bool
    status: str
    maintenance_start: date | None
    maintenance_end: date | None
    term_end: date | None
    last_sale_type: str | None = Field(
        default=None,
        description="The sale type of the license's latest sale (new, renewal, upgrade, ...); null when it was "
        "never sold (evaluations, free licenses).",
        examples=["renewal"],
    )
    created_at: datetime
    last_updated: datetime


class VendorLicensePage(ReportPage):
    items: list[VendorLicenseOut]


class MonthRevenueOut(BaseModel):
    month: str
    currency: str
    sales: Decimal = Field(description="What customers paid (refunds negative), both channels.")
    vendor_amount: Decimal
    entries_by_sale_type: dict[str, int]


class SummaryOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "vendor": "example-mockups",
                    "months": [
                        {
                            "month": "2026-11",
                            "currency": "USD",
                            "sales": "1100.00",
                            "vendor_amount": "825.00",
                            "entries_by_sale_type": {"new": 1},
                        }
                    ],
                    "active_licenses": 1,
                    "evaluations": 0,
                    "evaluations_converted": 0,
                }
            ]
        }
    )

    vendor: str
    months: list[MonthRevenueOut]
    active_licenses: int = Field(description="Active paid licenses now.")
    evaluations: int
    evaluations_converted: int = Field(
        description="Evaluations whose app was later bought for the same host."
    )


def transaction_out(row: TransactionRow) -> TransactionOut:
    e, c = row.entry, row.entry.currency
    return TransactionOut(
        id=e.id,
        occurred_at=e.occurred_at,
        sale_type=e.kind.value,
        channel=e.channel.value,
        app_key=row.app_key,
        hosting=e.hosting.value if e.hosting else None,
        entitlement_number=row.entitlement_number,
        license_type=str(row.license_type) if row.license_type else None,
        tier_users=row.tier_users,
        tier=row.tier_sold,
        previous_tier=row.previous_tier,
        maintenance_start=row.period_start,
        maintenance_end=row.period_end,
        customer=row.customer,
        invoice=row.invoice,
        currency=c,
        gross=from_minor_units(e.gross_minor, c),
        discount=from_minor_units(e.discount_minor, c),
        amount=from_minor_units(e.amount_minor, c),
        vendor_share_rate=e.vendor_share_rate,
        vendor_amount=from_minor_units(e.vendor_amount_minor, c),
        operator_amount=from_minor_units(e.operator_amount_minor, c),
        corrects_entry_id=e.corrects_entry_id,
    )


def license_out(row: LicenseRow) -> VendorLicenseOut:
    lic = row.license
    return VendorLicenseOut(
        id=lic.id,
        entitlement_number=lic.entitlement_number,
        app_key=row.app_key,
        hosting=lic.hosting.value,
        channel=lic.channel.value,
        license_type=lic.license_type.value,
        tier_users=lic.tier_users,
        host_binding=lic.host_binding,
        customer=row.customer,
        evaluation=lic.evaluation,
        status=lic.status.value,
        maintenance_start=lic.maintenance_start,
        maintenance_end=lic.maintenance_end,
        term_end=lic.term_end,
        last_sale_type=str(row.last_sale_type) if row.last_sale_type else None,
        created_at=lic.created_at,
        last_updated=lic.updated_at,
    )


def _csv(rows: Iterable[BaseModel], model: type[BaseModel], filename: str) -> StreamingResponse:
    """The rows as CSV, one line at a time, with a header of the model's field names."""
    fields = list(model.model_fields)

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(fields)
        for row in rows:
            document = row.model_dump(mode="json")
            writer.writerow(["" if document[f] is None else document[f] for f in fields])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        lines(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/vendor/{slug}/transactions",
    response_model=TransactionPage,
    summary="List a vendor's transactions",
    responses={**_CSV, **problem_responses(*_SIGNED_IN, VendorNotFound, InvalidCursor)},
)
def list_transactions(
    slug: VendorPath,
    principal: Reader,
    session: SessionDep,
    services: ServicesDep,
    app: AppQuery = None,
    hosting: HostingQuery = None,
    channel: ChannelQuery = None,
    sale_type: Annotated[
        Literal[
            "new", "cloud_subscription", "renewal", "upgrade", "co_term", "migration", "refund", "adjustment"
        ]
        | None,
        Query(description="Only this sale type."),
    ] = None,
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$", description="Only this currency.")] = None,
    since: Annotated[Day | None, Query(description="From this day on (UTC).")] = None,
    until: Annotated[Day | None, Query(description="Up to and including this day (UTC).")] = None,
    payout: Annotated[
        uuid.UUID | None, Query(description="Only the entries this payout paid (its remittance report's).")
    ] = None,
    limit: Annotated[PageLimit, Query(description="Items per page.")] = 50,
    after: AfterQuery = None,
    cursor: CursorQuery = None,
    output: FormatQuery = "json",
) -> Any:
    """The vendor's ledger entries, newest first: every sale, renewal, upgrade, co-term, migration, refund and
    adjustment of its apps on both channels, zero-amount sales included, with the split. A sale is here the
    moment it is paid. For the vendor's members and operator staff."""
    reports = VendorReports(session, services)
    vendor = reports.vendor_for(principal, slug)
    filters = TransactionFilters(app, hosting, channel, sale_type, currency, since, until, payout)
    if output == "csv":
        rows = [transaction_out(row) for row in reports.all_transactions(vendor, filters)]
        return _csv(rows, TransactionOut, f"{vendor.slug}-transactions.csv")
    page = reports.transactions(vendor, filters, PageRequest(limit, after=_cursor(after, cursor)))
    return TransactionPage(items=[transaction_out(r) for r in page.rows], **_report_page(page, limit))


@router.get(
    "/vendor/{slug}/licenses",
    response_model=VendorLicensePage,
    summary="List a vendor's licenses",
    responses={**_CSV, **problem_responses(*_SIGNED_IN, VendorNotFound, InvalidCursor)},
)
def list_vendor_licenses(
    slug: VendorPath,
    principal: Reader,
    session: SessionDep,
    services: ServicesDep,
    app: AppQuery = None,
    hosting: HostingQuery = None,
    channel: ChannelQuery = None,
    license_type: Annotated[
        Literal["commercial", "academic", "community", "open_source", "starter", "evaluation", "developer"]
        | None,
        Query(description="Only this license type."),
    ] = None,
    status: Annotated[
        Literal["active", "expired", "suspended", "cancelled", "superseded"] | None,
        Query(description="Only this status."),
    ] = None,
    updated_since: Annotated[Day | None, Query(description="Changed on or after this day (UTC).")] = None,
    limit: Annotated[PageLimit, Query(description="Items per page.")] = 50,
    after: AfterQuery = None,
    cursor: CursorQuery = None,
    output: FormatQuery = "json",
) -> Any:
    """Every license of the vendor's apps, evaluations and free licenses included, most recently changed
    first. For the vendor's members and operator staff."""
    reports = VendorReports(session, services)
    vendor = reports.vendor_for(principal, slug)
    since = datetime.combine(updated_since, time.min, tzinfo=UTC) if updated_since else None
    filters = LicenseFilters(app, hosting, channel, license_type, status, since)
    if output == "csv":
        rows = [license_out(row) for row in reports.all_licenses(vendor, filters)]
        return _csv(rows, VendorLicenseOut, f"{vendor.slug}-licenses.csv")
    page = reports.licenses(vendor, filters, PageRequest(limit, after=_cursor(after, cursor)))
    return VendorLicensePage(items=[license_out(r) for r in page.rows], **_report_page(page, limit))


@router.get(
    "/vendor/{slug}/summary",
    response_model=SummaryOut,
    summary="Get a vendor's summary metrics",
    responses=problem_responses(*_SIGNED_IN, VendorNotFound, InvalidMonth),
)
def get_summary(
    slug: VendorPath,
    principal: Reader,
    session: SessionDep,
    services: ServicesDep,
    first: Annotated[
        str, Query(alias="from", pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="First month, YYYY-MM.")
    ],
    last: Annotated[
        str, Query(alias="to", pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="Last month, YYYY-MM.")
    ],
) -> SummaryOut:
    """Monthly revenue per currency (what customers paid and the vendor's share) with the count of sales by
    type (new, renewal, upgrade, ...), from one month to another; active paid licenses and evaluations
    converted, as of now."""
    reports = VendorReports(session, services)
    vendor = reports.vendor_for(principal, slug)
    summary = reports.summary(vendor, parse_month(first), parse_month(last))
    return SummaryOut(
        vendor=vendor.slug,
        months=[
            MonthRevenueOut(
                month=m.month,
                currency=m.currency,
                sales=from_minor_units(m.sales_minor, m.currency),
                vendor_amount=from_minor_units(m.vendor_minor, m.currency),
                entries_by_sale_type=m.by_kind,
            )
            for m in summary.months
        ],
        active_licenses=summary.active_licenses,
        evaluations=summary.evaluations,
        evaluations_converted=summary.evaluations_converted,
    )
