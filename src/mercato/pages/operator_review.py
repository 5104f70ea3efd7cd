"""Operator admin: listing review. The queue of submitted listing revisions (the longest waiting first), and a
revision's page that shows what approving it would publish — channel rules, license types, the price table
beside the prices in force today, the app's description — with the forms that approve or send it back. The
decisions are ``ListingService.approve`` and ``reject``, as ``/api/v1/revisions/{id}/approve|reject``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from mercato.accounts.access import Principal
from mercato.catalog.listings import ListingService
from mercato.catalog.listings_errors import (
    HostingNotSoldForHost,
    PriceChangeTooSoon,
    RevisionAlreadyDecided,
    RevisionNotFound,
)
from mercato.catalog.listings_schemas import ApproveIn, RejectIn
from mercato.catalog.markdown import render_markdown
from mercato.catalog.models import App, ListingRevision
from mercato.catalog.presenters import listing_out
from mercato.catalog.schemas import ListingOut
from mercato.catalog.specs import ListingSpec
from mercato.pages.operator_access import operator_principal, refused, validation_errors
from mercato.pages.rendering import render
from mercato.pages.viewer import FormViewerDep, Viewer, ViewerDep
from mercato.paging import PageRequest
from mercato.problems import InvalidInput
from mercato.services import Services
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)
PAGE_SIZE = 50


@router.get("/admin/review")
def review_queue(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    services: ServicesDep,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    principal = operator_principal(viewer, request)
    page = ListingService(session, services).review_queue(principal, PageRequest(PAGE_SIZE, offset))
    revisions, total = page.rows, page.total or 0
    return render(
        request,
        "admin/review_queue.html",
        viewer,
        revisions=revisions,
        total=total,
        offset=offset,
        page_size=PAGE_SIZE,
    )


def _revision(
    service: ListingService, principal: Principal, revision_id: uuid.UUID
) -> tuple[ListingRevision, App]:
    """The revision and its app (vendor, host product and listings loaded), for operator staff, who see every
    revision (``principal`` is one: ``operator_principal`` checked it)."""
    assert principal.operator
    revision = service.repo.revision(revision_id)
    app = service.repo.app_by_id(revision.app_id) if revision is not None else None
    if revision is None or app is None:
        raise RevisionNotFound(f"There is no listing revision {revision_id}.")
    return revision, app


def _price_rows(spec: ListingSpec, published: ListingOut | None) -> list[dict[str, Any]]:
    """Each tier of the proposed table, with its direct price and the price in force today (if published)."""
    now = {p.tier: p.amount for p in (published.prices or [])} if published else {}
    direct = spec.direct_prices or {}
    return [
        {"tier": tier, "price": price, "direct": direct.get(tier), "current": now.get(tier)}
        for tier, price in (spec.prices or {}).items()
    ]


def _revision_page(
    request: Request,
    viewer: Viewer,
    services: Services,
    revision: ListingRevision,
    app: App,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    today = services.clock.today()
    spec = ListingSpec.model_validate(revision.content)
    listing = next((item for item in app.listings if str(item.hosting) == str(revision.hosting)), None)
    published = listing_out(listing, today) if listing is not None and listing.published_at else None
    return render(
        request,
        "admin/revision.html",
        viewer,
        status_code=status_code,
        revision=revision,
        app=app,
        spec=spec,
        published=published,
        price_rows=_price_rows(spec, published),
        description_html=render_markdown(app.description),
        errors=errors or {},
        values={"approve_note": "", "reject_note": "", "prices_effective_from": "", **(values or {})},
    )


@router.get("/admin/review/{revision_id}")
def revision_page(
    revision_id: uuid.UUID, request: Request, viewer: ViewerDep, session: SessionDep, services: ServicesDep
) -> Response:
    principal = operator_principal(viewer, request)
    revision, app = _revision(ListingService(session, services), principal, revision_id)
    return _revision_page(request, viewer, services, revision, app)


def _refusal(
    request: Request,
    viewer: Viewer,
    session: Session,
    services: Services,
    principal: Principal,
    revision_id: uuid.UUID,
    errors: dict[str, str],
    values: dict[str, str],
) -> Response:
    refused(session)
    revision, app = _revision(ListingService(session, services), principal, revision_id)
    return _revision_page(
        request, viewer, services, revision, app, errors=errors, values=values, status_code=422
    )


@router.post("/admin/review/{revision_id}/approve")
def approve(
    revision_id: uuid.UUID,
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
    note: Annotated[str, Form(max_length=5000)] = "",
    prices_effective_from: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Publish the revision. Approving it again answers as the first time (the service's rule)."""
    principal = operator_principal(viewer, request)
    values = {"approve_note": note, "prices_effective_from": prices_effective_from}
    try:
        body = ApproveIn.model_validate(
            {"note": note, "prices_effective_from": prices_effective_from.strip() or None}
        )
    except ValidationError as invalid:
        fields = {"note": "approve_note", "prices_effective_from": "prices_effective_from"}
        errors = validation_errors(invalid, fields)
        return _refusal(request, viewer, session, services, principal, revision_id, errors, values)
    try:
        ListingService(session, services).approve(
            principal, revision_id, body.note, body.prices_effective_from
        )
    except PriceChangeTooSoon as problem:
        errors = {"prices_effective_from": problem.detail}
        return _refusal(request, viewer, session, services, principal, revision_id, errors, values)
    except (RevisionAlreadyDecided, HostingNotSoldForHost, InvalidInput) as problem:
        errors = {"_form": problem.detail}
        return _refusal(request, viewer, session, services, principal, revision_id, errors, values)
    return RedirectResponse(f"/admin/review/{revision_id}", status_code=303)


@router.post("/admin/review/{revision_id}/reject")
def reject(
    revision_id: uuid.UUID,
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Send the revision back with a note saying what to change. Rejecting it again changes nothing."""
    principal = operator_principal(viewer, request)
    values = {"reject_note": note}
    try:
        body = RejectIn.model_validate({"note": note})
    except ValidationError as invalid:
        errors = validation_errors(invalid, {"note": "reject_note"})
        return _refusal(request, viewer, session, services, principal, revision_id, errors, values)
    try:
        ListingService(session, services).reject(principal, revision_id, body.note)
    except RevisionAlreadyDecided as problem:
        errors = {"_form": problem.detail}
        return _refusal(request, viewer, session, services, principal, revision_id, errors, values)
    return RedirectResponse(f"/admin/review/{revision_id}", status_code=303)
