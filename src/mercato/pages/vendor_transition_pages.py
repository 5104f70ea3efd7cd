"""The vendor portal's transition campaigns: the vendor's campaigns with a form to announce one, and a campaign's
status table (each license: moved, ready, to be upgraded at a price, ...), its totals and CSV, and cancelling it.

Everything goes through ``TransitionCampaigns``, as the API does: another vendor's campaign is a 404 page,
exactly like a missing one (and so is a real campaign under the wrong vendor's address).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from mercato.fields import Text
from mercato.pages.rendering import render
from mercato.pages.vendor_support import FORM
from mercato.pages.viewer import FormViewerDep, ViewerDep
from mercato.paging import PageRequest
from mercato.problems import Problem
from mercato.services import Services
from mercato.transitions.export import campaign_csv, csv_filename
from mercato.transitions.repository import TransitionsRepository
from mercato.transitions.service import MINIMUM_NOTICE, CampaignRequest, TransitionCampaigns
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)

CAMPAIGNS_SHOWN = 100


def _list_page(
    request: Request,
    viewer: ViewerDep,
    session: Session,
    services: Services,
    slug: str,
    status_code: int = 200,
    **context: Any,
) -> Response:
    principal = viewer.require(request)
    campaigns = TransitionCampaigns(session, services)
    vendor = campaigns.vendor_for(principal, slug)
    shown = campaigns.campaigns_of(principal, vendor.slug, PageRequest(CAMPAIGNS_SHOWN))
    views, total = shown.rows, shown.total or 0
    today = services.clock.today()
    default = {
        "apps": [],
        "notice_date": today.isoformat(),
        "deadline": (today + MINIMUM_NOTICE * 3).isoformat(),
        "message": "",
    }
    return render(
        request,
        "vendor/transitions.html",
        viewer,
        status_code=status_code,
        vendor=vendor,
        section="transitions",
        campaigns=views,
        total=total,
        apps=TransitionsRepository(session).app_keys_of(vendor.id),
        minimum_days=MINIMUM_NOTICE.days,
        form=context.pop("form", default),
        errors=context.pop("errors", {}),
        **context,
    )


@router.get("/vendor/{slug}/transitions")
def transitions_page(
    request: Request, slug: Text, viewer: ViewerDep, session: SessionDep, services: ServicesDep
) -> Response:
    return _list_page(request, viewer, session, services, slug)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


@router.post("/vendor/{slug}/transitions")
def announce(
    request: Request,
    slug: Text,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
    notice_date: Annotated[str, Form(max_length=10)] = "",
    deadline: Annotated[str, Form(max_length=10)] = "",
    message: Annotated[str, Form(max_length=4000)] = "",
    apps: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Announce a campaign (the same call as ``POST /api/v1/vendors/{slug}/transitions``), then show it."""
    principal = viewer.require(request)
    chosen = [app for app in apps or [] if app]
    form = {"apps": chosen, "notice_date": notice_date, "deadline": deadline, "message": message}
    notice, until = _day(notice_date), _day(deadline)
    errors: dict[str, str] = {}
    if notice is None:
        errors["notice_date"] = "Give the day customers are told, like 2027-01-04."
    if until is None:
        errors["deadline"] = "Give the day licenses should have moved by, like 2027-03-31."
    if "\x00" in message:
        errors["message"] = "The message cannot hold a NUL character."
    if errors or notice is None or until is None:
        return _list_page(request, viewer, session, services, slug, 422, form=form, errors=errors)
    campaigns = TransitionCampaigns(session, services)
    try:
        created = campaigns.create(principal, slug, CampaignRequest(chosen or None, notice, until, message))
    except Problem as refused:
        if refused.status == 404:
            raise
        session.rollback()
        field = str(refused.extensions.get("field", "")).removeprefix("body.")
        errors = {field if field in form else FORM: refused.detail}
        return _list_page(request, viewer, session, services, slug, 422, form=form, errors=errors)
    return RedirectResponse(f"/vendor/{slug}/transitions/{created.id}", status_code=303)


@router.get("/vendor/{slug}/transitions/{campaign_id}")
def campaign_page(
    request: Request,
    slug: Text,
    campaign_id: uuid.UUID,
    viewer: ViewerDep,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    principal = viewer.require(request)
    campaigns = TransitionCampaigns(session, services)
    view = campaigns.view(campaigns.campaign_for(principal, slug, campaign_id))
    return render(
        request,
        "vendor/transition.html",
        viewer,
        vendor=view.vendor,
        section="transitions",
        view=view,
        campaign=view.campaign,
        totals=view.totals,
    )


@router.get("/vendor/{slug}/transitions/{campaign_id}/licenses.csv")
def campaign_csv_page(
    request: Request,
    slug: Text,
    campaign_id: uuid.UUID,
    viewer: ViewerDep,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    """The status table as CSV, one line per license (the same as the API's ``format=csv``)."""
    principal = viewer.require(request)
    campaigns = TransitionCampaigns(session, services)
    view = campaigns.view(campaigns.campaign_for(principal, slug, campaign_id))
    return Response(
        campaign_csv(view),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{csv_filename(view)}"'},
    )


@router.post("/vendor/{slug}/transitions/{campaign_id}/cancel")
def cancel(
    request: Request,
    slug: Text,
    campaign_id: uuid.UUID,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    principal = viewer.require(request)
    TransitionCampaigns(session, services).cancel(principal, slug, campaign_id)
    return RedirectResponse(f"/vendor/{slug}/transitions/{campaign_id}", status_code=303)
