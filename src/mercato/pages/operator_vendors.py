"""Operator admin: vendors. The list by status (``?status=pending`` are the applications), and a vendor's page
where operator staff approve, suspend or reactivate it with a note, and keep its revenue-share schedule: one
rate per hosting and start date, on the same ``VendorService`` as ``/api/v1/vendors``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from mercato.catalog.models import Vendor
from mercato.catalog.vendors import (
    InvalidRevenueShare,
    ShareRate,
    VendorService,
    VendorStatusConflict,
    sells,
    sells_direct,
)
from mercato.pages.operator_access import operator_principal, refused
from mercato.pages.rendering import render
from mercato.pages.viewer import FormViewerDep, Viewer, ViewerDep
from mercato.paging import PageRequest
from mercato.services import Services
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)

STATUSES = ("pending", "active", "suspended")
HOSTINGS = ("server", "datacenter", "cloud")
PAGE_SIZE = 50
_RATE_FIELDS = {"hosting": "hosting", "effective_from": "effective_from", "vendor_share": "vendor_share"}


def _service(session: Session, services: Services) -> VendorService:
    return VendorService(session, services.secret_key, services.clock)


@router.get("/admin/vendors")
def vendors(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    services: ServicesDep,
    status: Annotated[Literal["pending", "active", "suspended"] | None, Query()] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    principal = operator_principal(viewer, request)
    page = _service(session, services).vendors_for(
        principal, status=status, page=PageRequest(PAGE_SIZE, offset, count_total=True)
    )
    found, total = page.rows, page.total or 0
    return render(
        request,
        "admin/vendors.html",
        viewer,
        vendors=found,
        total=total,
        status=status,
        statuses=STATUSES,
        offset=offset,
        page_size=PAGE_SIZE,
    )


def _vendor_page(
    request: Request,
    viewer: Viewer,
    service: VendorService,
    vendor: Vendor,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "admin/vendor.html",
        viewer,
        status_code=status_code,
        vendor=vendor,
        selling=sells(vendor),
        selling_direct=sells_direct(vendor),
        members=service.members(vendor),
        agreement=service.agreement(vendor),
        standard=service.repository.standard_rates(),
        hostings=HOSTINGS,
        errors=errors or {},
        values={"note": "", "hosting": "server", "effective_from": "", "vendor_share": "", **(values or {})},
    )


@router.get("/admin/vendors/{slug}")
def vendor_page(
    slug: str, request: Request, viewer: ViewerDep, session: SessionDep, services: ServicesDep
) -> Response:
    principal = operator_principal(viewer, request)
    service = _service(session, services)
    return _vendor_page(request, viewer, service, service.vendor_for(principal, slug))


@router.post("/admin/vendors/{slug}/status")
def change_status(
    slug: str,
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
    action: Annotated[Literal["approve", "suspend", "reactivate"], Form()],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Approve, suspend or reactivate, with a note its members see. Sent twice, the second changes nothing."""
    principal = operator_principal(viewer, request)
    service = _service(session, services)
    vendor = service.operated_by(principal, slug, f"{action} a vendor")
    change = {"approve": service.approve, "suspend": service.suspend, "reactivate": service.reactivate}[
        action
    ]
    try:
        change(vendor, note)
    except VendorStatusConflict as conflict:
        refused(session)
        vendor = service.vendor_for(principal, slug)
        return _vendor_page(
            request,
            viewer,
            service,
            vendor,
            errors={"note": conflict.detail},
            values={"note": note},
            status_code=422,
        )
    return RedirectResponse(f"/admin/vendors/{vendor.slug}", status_code=303)


def _current(service: VendorService, vendor: Vendor) -> list[ShareRate]:
    return [ShareRate(r.hosting, r.effective_from, r.vendor_share) for r in service.agreement(vendor)]


def _rate_errors(problem: InvalidRevenueShare) -> dict[str, str]:
    """The rule's sentences by form field: its ``errors`` name ``body.revenue_share.N.<field>``."""
    found: dict[str, str] = {}
    for error in problem.extensions.get("errors", []):
        field = _RATE_FIELDS.get(str(error.get("field", "")).rsplit(".", 1)[-1], "_form")
        sentence = f"{error['message'][:1].upper()}{error['message'][1:]}."
        if error.get("code") == "duplicate":
            sentence += " Remove the rate that is there first."
        found.setdefault(field, sentence)
    return found or {"_form": problem.detail}


@router.post("/admin/vendors/{slug}/revenue-share")
def add_rate(
    slug: str,
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
    hosting: Annotated[str, Form(max_length=20)] = "",
    effective_from: Annotated[str, Form(max_length=20)] = "",
    vendor_share: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Add one rate to the vendor's agreement (the API's ``PUT .../revenue-share`` with the whole agreement
    plus this rate). The very same rate sent again changes nothing."""
    principal = operator_principal(viewer, request)
    service = _service(session, services)
    vendor = service.operated_by(principal, slug, "change a vendor's revenue-share agreement")
    values = {"hosting": hosting, "effective_from": effective_from, "vendor_share": vendor_share}
    errors: dict[str, str] = {}
    try:
        start = date.fromisoformat(effective_from.strip())
    except ValueError:
        errors["effective_from"] = "Give the first sale day the rate applies to, like 2027-01-01."
    if not vendor_share.strip():
        errors["vendor_share"] = "Give the vendor's share as a fraction from 0 to 1: 0.80 is 80%."
    if not errors:
        current = _current(service, vendor)
        rate = ShareRate(hosting, start, vendor_share.strip())
        if not any(_same(rate, kept) for kept in current):
            try:
                service.set_agreement_for(principal, slug, [*current, rate])
            except InvalidRevenueShare as problem:
                refused(session)
                errors = _rate_errors(problem)
    if errors:
        return _vendor_page(request, viewer, service, vendor, errors=errors, values=values, status_code=422)
    return RedirectResponse(f"/admin/vendors/{vendor.slug}#revenue-share", status_code=303)


def _same(one: ShareRate, other: ShareRate) -> bool:
    try:
        shares_equal = Decimal(str(one.vendor_share)) == Decimal(str(other.vendor_share))
    except InvalidOperation:
        return False
    return (one.hosting, one.effective_from) == (other.hosting, other.effective_from) and shares_equal


@router.post("/admin/vendors/{slug}/revenue-share/remove")
def remove_rate(
    slug: str,
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
    hosting: Annotated[str, Form(max_length=20)],
    effective_from: Annotated[date, Form()],
) -> Response:
    """Take one rate out of the agreement; where none is left for a hosting, the standard rates apply. A rate
    already gone changes nothing."""
    principal = operator_principal(viewer, request)
    service = _service(session, services)
    vendor = service.operated_by(principal, slug, "change a vendor's revenue-share agreement")
    current = _current(service, vendor)
    kept = [r for r in current if (r.hosting, r.effective_from) != (hosting, effective_from)]
    if len(kept) != len(current):
        service.set_agreement_for(principal, slug, kept)
    return RedirectResponse(f"/admin/vendors/{vendor.slug}#revenue-share", status_code=303)
