"""The vendor's reports: its licenses and its transactions, with filters and paging, and the transactions as
a CSV file holding exactly the rows the same filters show."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from mercato.catalog.models import Vendor
from mercato.commerce.vendor_reports import (
    LicenseReportFilters,
    TransactionFilters,
    VendorReports,
    transaction_kinds,
)
from mercato.fields import Text
from mercato.licenses.models import LicenseState
from mercato.pages.rendering import render
from mercato.pages.vendor_support import portal_vendor
from mercato.pages.viewer import ViewerDep
from mercato.paging import PageRequest
from mercato.pricing import Channel
from mercato.problems import InvalidInput
from mercato.services import Services
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.paging import AfterQuery
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)

PAGE_SIZE = 25
CSV_COLUMNS = (
    "date", "invoice_number", "customer", "app_key", "app", "hosting", "channel", "kind", "gross",
    "vendor_share", "currency",
)  # fmt: skip

AppFilter = Annotated[Text, Query(max_length=200)]
DayFilter = Annotated[str, Query(max_length=10)]


def _day(value: str, name: str) -> date | None:
    """A filter's day, or None when empty; a day that is not one is refused naming the field."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{value!r} is not a day: write it as YYYY-MM-DD.",
            errors=[{"field": f"query.{name}", "message": "not a day", "code": "date"}],
        ) from None


def _apps(session: Session, vendor: Vendor) -> list[tuple[str, str]]:
    return VendorReports(session).app_choices(vendor.id)


def _query_string(**values: object) -> str:
    return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def _vendor(request: Request, viewer: ViewerDep, session: Session, services: Services, slug: str) -> Vendor:
    return portal_vendor(session, services, viewer.require(request), slug)


# -- transactions ----------------------------------------------------------------------------------------------


def _transaction_filters(
    app: str, channel: Channel | None, kind: str, date_from: str, date_to: str
) -> TransactionFilters:
    if kind and kind not in transaction_kinds():
        raise InvalidInput(
            f"{kind!r} is not a kind of transaction; the kinds are {', '.join(transaction_kinds())}.",
            errors=[{"field": "query.kind", "message": "unknown kind", "code": "kind"}],
        )
    return TransactionFilters(
        product_key=app or None,
        channel=channel,
        kind=kind or None,
        date_from=_day(date_from, "from"),
        date_to=_day(date_to, "to"),
    )


@router.get("/vendor/{slug}/transactions")
def transactions_page(
    request: Request,
    slug: Text,
    viewer: ViewerDep,
    session: SessionDep,
    services: ServicesDep,
    app: AppFilter = "",
    channel: Channel | None = None,
    kind: Annotated[str, Query(max_length=32)] = "",
    date_from: Annotated[str, Query(alias="from", max_length=10)] = "",
    date_to: Annotated[str, Query(alias="to", max_length=10)] = "",
    after: AfterQuery = None,
) -> Response:
    vendor = _vendor(request, viewer, session, services, slug)
    filters = _transaction_filters(app, channel, kind, date_from, date_to)
    page = VendorReports(session).transactions(vendor.id, filters, PageRequest(PAGE_SIZE, after=after))
    query = {
        "app": app,
        "channel": channel.value if channel else "",
        "kind": kind,
        "from": date_from,
        "to": date_to,
    }
    return render(
        request,
        "vendor/transactions.html",
        viewer,
        vendor=vendor,
        section="transactions",
        rows=page.rows,
        page=page,
        after=after,
        apps=_apps(session, vendor),
        kinds=transaction_kinds(),
        channels=[c.value for c in Channel],
        query=query,
        filter_query=_query_string(**query),
    )


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(value: str) -> str:
    """A text cell a spreadsheet will not run: names are typed by customers, and ``=HYPERLINK(...)`` in one
    would be a formula in the vendor's spreadsheet. Amounts are written as they are."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _csv(rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue()


@router.get("/vendor/{slug}/transactions.csv")
def transactions_csv(
    request: Request,
    slug: Text,
    viewer: ViewerDep,
    session: SessionDep,
    services: ServicesDep,
    app: AppFilter = "",
    channel: Channel | None = None,
    kind: Annotated[str, Query(max_length=32)] = "",
    date_from: Annotated[str, Query(alias="from", max_length=10)] = "",
    date_to: Annotated[str, Query(alias="to", max_length=10)] = "",
) -> Response:
    """Every transaction the same filters show on the page (all pages of it), amounts as plain decimals."""
    vendor = _vendor(request, viewer, session, services, slug)
    filters = _transaction_filters(app, channel, kind, date_from, date_to)
    rows = (
        [
            t.occurred_at.date().isoformat(),
            _text_cell(t.invoice_number),
            _text_cell(t.customer),
            t.product_key,
            _text_cell(t.app_name),
            t.hosting,
            t.channel,
            t.kind,
            str(t.gross),
            str(t.vendor_share),
            t.currency,
        ]
        for t in VendorReports(session).all_transactions(vendor.id, filters)
    )
    name = f"{vendor.slug}-transactions-{services.clock.today().isoformat()}.csv"
    return Response(
        _csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


# -- licenses --------------------------------------------------------------------------------------------------


@router.get("/vendor/{slug}/licenses")
def licenses_page(
    request: Request,
    slug: Text,
    viewer: ViewerDep,
    session: SessionDep,
    services: ServicesDep,
    app: AppFilter = "",
    channel: Channel | None = None,
    status: LicenseState | None = None,
    date_from: Annotated[str, Query(alias="from", max_length=10)] = "",
    date_to: Annotated[str, Query(alias="to", max_length=10)] = "",
    after: AfterQuery = None,
) -> Response:
    vendor = _vendor(request, viewer, session, services, slug)
    filters = LicenseReportFilters(
        product_key=app or None,
        channel=channel,
        status=status,
        started_from=_day(date_from, "from"),
        started_to=_day(date_to, "to"),
    )
    page = VendorReports(session).licenses(vendor.id, filters, PageRequest(PAGE_SIZE, after=after))
    query = {
        "app": app,
        "channel": channel.value if channel else "",
        "status": status.value if status else "",
        "from": date_from,
        "to": date_to,
    }
    return render(
        request,
        "vendor/licenses.html",
        viewer,
        vendor=vendor,
        section="licenses",
        rows=page.rows,
        page=page,
        after=after,
        apps=_apps(session, vendor),
        statuses=[s.value for s in LicenseState],
        channels=[c.value for c in Channel],
        query=query,
        filter_query=_query_string(**query),
    )
