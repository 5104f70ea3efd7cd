"""The vendor portal: which vendors a member works for, each vendor's dashboard (counts and the monthly chart of
revenue and active licenses) and its direct store with its signing keys. Apps and listings are in
``vendor_app_pages``, licenses and transactions in ``vendor_report_pages``, statements and payouts in
``vendor_money_pages``, webhooks in ``vendor_webhook_pages``, transition campaigns in
``vendor_transition_pages``; their routers are mounted here.

Every page finds its vendor as the vendors API does (``VendorService.vendor_for``): a member sees their
vendors, operator staff every vendor, anyone else a 404 page, the same as for a slug that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from mercato.accounts.errors import VendorNotFound
from mercato.catalog.vendors import VendorNotActive, sells_direct
from mercato.commerce import presenters
from mercato.commerce.repository import CommerceRepository
from mercato.commerce.vendor_reports import MonthRevenue, VendorReports, month_starts
from mercato.fields import Text
from mercato.keys.service import public_key_from_row
from mercato.licensing import public_key_to_jwk
from mercato.pages import (
    vendor_app_pages,
    vendor_money_pages,
    vendor_report_pages,
    vendor_transition_pages,
    vendor_webhook_pages,
)
from mercato.pages.rendering import render
from mercato.pages.vendor_support import portal_vendor, vendor_service
from mercato.pages.viewer import FormViewerDep, ViewerDep
from mercato.paging import PageRequest
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)
router.include_router(vendor_app_pages.router)
router.include_router(vendor_report_pages.router)
router.include_router(vendor_money_pages.router)
router.include_router(vendor_webhook_pages.router)
router.include_router(vendor_transition_pages.router)

CHART_MONTHS = 12
STORE_INVOICES = 50


@router.get("/vendor")
def vendor_index(request: Request, viewer: ViewerDep, session: SessionDep, services: ServicesDep) -> Response:
    """The vendors the signed-in person works for; with exactly one, straight to its dashboard."""
    principal = viewer.require(request)
    vendors = vendor_service(session, services).vendors_for(principal, page=PageRequest(200)).rows
    if not vendors:
        raise VendorNotFound(
            "You are not a member of any vendor. A vendor's members can add you to its team."
        )
    if len(vendors) == 1:
        return RedirectResponse(f"/vendor/{vendors[0].slug}", status_code=303)
    return render(request, "vendor/index.html", viewer, vendors=vendors)


@router.get("/vendor/{slug}")
def dashboard(
    request: Request, slug: Text, viewer: ViewerDep, session: SessionDep, services: ServicesDep
) -> Response:
    principal = viewer.require(request)
    vendor = portal_vendor(session, services, principal, slug)
    reports = VendorReports(session)
    starts = month_starts(services.clock.today(), CHART_MONTHS)
    revenue = reports.monthly_revenue(vendor.id, starts)
    licenses = reports.active_licenses_by_month(vendor.id, starts)
    currencies = sorted({row.currency for row in revenue}) or ["USD"]
    by_month = {(row.month, row.currency): row for row in revenue}
    months = [
        {
            "month": first,
            "label": f"{first:%b %Y}",
            "active": active.active,
            "revenue": {currency: by_month.get((first, currency)) for currency in currencies},
        }
        for first, active in zip(starts, licenses, strict=True)
    ]

    def series(currency: str, amount: Callable[[MonthRevenue], Decimal]) -> list[str]:
        found = [by_month.get((first, currency)) for first in starts]
        return [str(amount(row)) if row else "0" for row in found]

    chart = {
        "labels": [f"{first:%b %Y}" for first in starts],
        "currencies": currencies,
        "gross": {c: series(c, lambda row: row.gross) for c in currencies},
        "share": {c: series(c, lambda row: row.vendor_share) for c in currencies},
        "active": [row.active for row in licenses],
    }
    return render(
        request,
        "vendor/dashboard.html",
        viewer,
        vendor=vendor,
        section="dashboard",
        counts=reports.counts(vendor.id),
        months=months,
        currencies=currencies,
        chart=chart,
    )


def _store_page(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    services: ServicesDep,
    slug: str,
    **context: object,
) -> Response:
    principal = viewer.require(request)
    vendor, ring = vendor_service(session, services).keys_for(principal, slug)
    keys = [
        {
            "kid": row.kid,
            "state": row.state,
            "issuer": row.issuer,
            "created_at": row.created_at,
            "x": public_key_to_jwk(row.kid, public_key_from_row(row), row.issuer).get("x", ""),
        }
        for row in ring
    ]
    # The store's own invoices, newest first: the vendor records their payments on each invoice's page, and
    # this list is the way there (the same readable-invoices query as GET /api/v1/invoices).
    invoices = CommerceRepository(session).readable_invoices(
        principal, PageRequest(STORE_INVOICES, count_total=True), seller=f"vendor:{vendor.slug}"
    )
    status_code = int(str(context.pop("status_code", 200)))
    return render(
        request,
        "vendor/store.html",
        viewer,
        status_code=status_code,
        vendor=vendor,
        section="store",
        selling_direct=sells_direct(vendor),
        keys=keys,
        invoices=[presenters.invoice_out(invoice) for invoice in invoices.rows],
        invoice_total=invoices.total,
        issuer=f"vendor:{vendor.slug}",
        jwks_url=f"/api/v1/issuers/{vendor.slug}/jwks",
        error=context.get("error"),
        saved=request.query_params.get("saved") == "1",
    )


@router.get("/vendor/{slug}/store")
def store_page(
    request: Request, slug: Text, viewer: ViewerDep, session: SessionDep, services: ServicesDep
) -> Response:
    return _store_page(request, viewer, session, services, slug)


@router.post("/vendor/{slug}/store")
def set_store(
    request: Request,
    slug: Text,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
    enabled: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Open or close the direct store (the same service call as ``POST /api/v1/vendors/{slug}/direct-store``;
    sending it twice leaves it as the first time)."""
    principal = viewer.require(request)
    try:
        vendor_service(session, services).set_direct_store_for(principal, slug, enabled == "true")
    except VendorNotActive as refused:
        session.rollback()
        return _store_page(request, viewer, session, services, slug, error=refused.detail, status_code=409)
    return RedirectResponse(f"/vendor/{slug}/store?saved=1", status_code=303)
