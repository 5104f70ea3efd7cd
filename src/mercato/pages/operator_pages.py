"""The operator admin at ``/admin``, for operator staff only: the dashboard of what waits and the host products
here; vendors, listing review, invoices, licenses and the outbox in the ``operator_*`` modules beside it, whose
routers this one carries (``mercato.pages.site`` mounts this router alone)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mercato.catalog.domain import tier_label
from mercato.catalog.listings import ListingService
from mercato.catalog.repository import CatalogRepository
from mercato.catalog.vendors import VendorService
from mercato.commerce.models import InvoiceStatus
from mercato.commerce.repository import CommerceRepository
from mercato.outbox.emails import EMAIL_TOPIC
from mercato.outbox.repository import MessageStatus
from mercato.outbox.service import OutboxService
from mercato.pages import (
    operator_invoices,
    operator_licenses,
    operator_outbox,
    operator_payouts,
    operator_review,
    operator_vendors,
)
from mercato.pages.operator_access import operator_principal
from mercato.pages.rendering import render
from mercato.pages.viewer import ViewerDep
from mercato.paging import PageRequest
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)


@router.get("/admin")
def dashboard(request: Request, viewer: ViewerDep, session: SessionDep, services: ServicesDep) -> Response:
    """How much waits for operator staff, each count a link to the list it counts."""
    principal = operator_principal(viewer, request)
    applications = (
        VendorService(session, services.secret_key, services.clock)
        .vendors_for(principal, status="pending", page=PageRequest(1))
        .total
    )
    in_review = ListingService(session, services).review_queue(principal, PageRequest(1)).total
    unpaid = (
        CommerceRepository(session)
        .readable_invoices(principal, PageRequest(1, count_total=True), status=InvoiceStatus.OPEN)
        .total
    )
    horizon = timedelta(hours=request.app.state.settings.outbox_retry_horizon_hours)
    dead = (
        OutboxService(session, horizon)
        .page(services.clock.now(), (MessageStatus.DEAD,), EMAIL_TOPIC, PageRequest(1, count_total=True))
        .total
    )
    waiting = [
        ("Vendor applications", applications, "/admin/vendors?status=pending", "to approve or turn down"),
        ("Listings in review", in_review, "/admin/review", "to approve or send back"),
        ("Unpaid invoices", unpaid, "/admin/invoices?status=open", "waiting for a payment"),
        ("Dead e-mail", dead, "/admin/outbox?status=dead", "not delivered; retry once the cause is fixed"),
    ]
    return render(request, "admin/dashboard.html", viewer, waiting=waiting)


@router.get("/admin/host-products")
def host_products(
    request: Request, viewer: ViewerDep, session: SessionDep, services: ServicesDep
) -> Response:
    """The host products with their own hostings and how many app listings each carries. Read-only: the API
    and the catalog file change them, not a page."""
    operator_principal(viewer, request)
    catalog = CatalogRepository(session)
    counts = catalog.app_listing_counts()
    rows = [
        {
            "product": product,
            "hostings": [str(listing.hosting) for listing in catalog.listings_of_host_product(product.id)],
            "tiers": [tier_label(users) for users in product.user_tiers],
            "app_listings": counts.get(product.id, 0),
        }
        for product in catalog.list_host_products()
    ]
    return render(request, "admin/host_products.html", viewer, rows=rows)


for _module in (
    operator_vendors,
    operator_review,
    operator_invoices,
    operator_licenses,
    operator_outbox,
    operator_payouts,
):
    router.include_router(_module.router)
