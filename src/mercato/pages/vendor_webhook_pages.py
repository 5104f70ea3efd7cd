"""The vendor portal's webhooks: the vendor's endpoints, registering one (its signing secret shown once), changing
its events or switching it off and on, deleting it, rotating its secret (the new one shown once), and an
endpoint's delivery log with every attempt and a resend button.

The forms that answer a secret (register, rotate) carry a key made when the form was rendered, handed to the
service's idempotency as the API's ``Idempotency-Key``: a reload or a double click registers one endpoint (or
rotates once) and shows its secret again.

Everything goes through ``WebhookService``, built as the webhooks API builds it: an endpoint of another vendor
is a 404 page, exactly like a missing one (and so is a real endpoint under the wrong vendor's address).
"""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from mercato.catalog.models import Vendor
from mercato.commerce.errors import IdempotencyKeyReused
from mercato.fields import Text
from mercato.pages.rendering import render
from mercato.pages.vendor_support import portal_vendor
from mercato.pages.viewer import FormViewerDep, ViewerDep
from mercato.paging import PageRequest
from mercato.problems import Problem
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.routing import UnitOfWorkRoute
from mercato.webhooks.models import WebhookAttempt, WebhookEndpoint
from mercato.webhooks.payloads import EVENT_DESCRIPTIONS, WebhookEventType
from mercato.webhooks.service import (
    EndpointChanges,
    EndpointView,
    NewEndpoint,
    WebhookEndpointNotFound,
    WebhookService,
)

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)

ENDPOINTS_SHOWN = 100
DELIVERIES_PER_PAGE = 20
EVENTS = [(event.value, EVENT_DESCRIPTIONS[event]) for event in WebhookEventType]
NO_STORE = {"Cache-Control": "no-store"}


def _service(request: Request, session: Session) -> WebhookService:
    """Built exactly as ``mercato.webhooks.api`` builds it (loopback receivers only where the API allows)."""
    return WebhookService.of_deployment(session, request.app.state.clock, request.app.state.settings)


def _form_key() -> str:
    """The key of one rendered form: its posts (a reload, a double click) are performed once."""
    return secrets.token_urlsafe(24)


def _endpoint(
    service: WebhookService, principal: Any, vendor: Vendor, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    """The endpoint, if the viewer may see it and it is this vendor's; a 404 page otherwise."""
    endpoint = service.endpoint_for(principal, endpoint_id)
    if endpoint.vendor_id != vendor.id:
        raise WebhookEndpointNotFound(f"There is no webhook endpoint {endpoint_id} that you can see.")
    return endpoint


def _field_of(problem: Problem) -> str:
    """Which field of the form a refusal is about: the URL's checks name ``url``, the events ``events``."""
    field = str(problem.extensions.get("field") or "")
    for error in problem.extensions.get("errors") or []:
        field = field or str(error.get("field", ""))
    if "event" in field or "event" in problem.type:
        return "events"
    return "url" if "url" in field or "url" in problem.type else "_form"


def _list_page(
    request: Request,
    viewer: ViewerDep,
    session: Session,
    services: ServicesDep,
    slug: str,
    status_code: int = 200,
    **context: Any,
) -> Response:
    principal = viewer.require(request)
    vendor = portal_vendor(session, services, principal, slug)
    shown = _service(request, session).endpoints_for(principal, vendor.slug, PageRequest(ENDPOINTS_SHOWN))
    views, total = shown.rows, shown.total or 0
    return render(
        request,
        "vendor/webhooks.html",
        viewer,
        status_code=status_code,
        vendor=vendor,
        section="webhooks",
        endpoints=[view.endpoint for view in views],
        total=total,
        events=EVENTS,
        form=context.pop("form", {"url": "", "description": "", "events": []}),
        errors=context.pop("errors", {}),
        form_key=_form_key(),
        deleted=request.query_params.get("deleted") == "1",
        **context,
    )


@router.get("/vendor/{slug}/webhooks")
def webhooks_page(
    request: Request, slug: Text, viewer: ViewerDep, session: SessionDep, services: ServicesDep
) -> Response:
    return _list_page(request, viewer, session, services, slug)


def _secret_page(
    request: Request, viewer: ViewerDep, vendor: Vendor, view: EndpointView, secret: str, rotated: bool
) -> Response:
    """The one time the secret is shown (and again only to the same form sent again): it is stored sealed, and
    this answer is not kept by the browser."""
    response = render(
        request,
        "vendor/webhook_secret.html",
        viewer,
        status_code=201 if not rotated else 200,
        vendor=vendor,
        section="webhooks",
        endpoint=view.endpoint,
        secret=secret,
        rotated=rotated,
    )
    response.headers.update(NO_STORE)
    return response


@router.post("/vendor/{slug}/webhooks")
def create_endpoint(
    request: Request,
    slug: Text,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
    url: Annotated[str, Form(max_length=2000)] = "",
    description: Annotated[str, Form(max_length=500)] = "",
    events: Annotated[list[str] | None, Form()] = None,
    form_key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Register an endpoint (the same call as ``POST /api/v1/webhook-endpoints``, the form's key as its
    ``Idempotency-Key``) and show its secret once."""
    principal = viewer.require(request)
    vendor = portal_vendor(session, services, principal, slug)
    chosen = [event for event in events or [] if event]
    form = {"url": url, "description": description, "events": chosen}
    errors: dict[str, str] = {}
    if not url.strip():
        errors["url"] = "Enter the https:// address that should receive the events."
    if not chosen:
        errors["events"] = "Choose at least one event to receive."
    if errors:
        return _list_page(request, viewer, session, services, slug, 422, form=form, errors=errors)
    service = _service(request, session)
    asked = NewEndpoint(url.strip(), chosen, description, vendor.slug)
    try:
        answer = service.create_once(
            principal, asked, form_key or None, lambda view: {"id": str(view.endpoint.id)}
        )
        endpoint = service.endpoint_for(principal, uuid.UUID(answer.body["id"]))
    except IdempotencyKeyReused:
        session.rollback()
        errors = {"_form": "This form was already sent for another endpoint. Send it again from here."}
        return _list_page(request, viewer, session, services, slug, 422, form=form, errors=errors)
    except Problem as refused:
        session.rollback()
        errors = {_field_of(refused): refused.detail}
        return _list_page(request, viewer, session, services, slug, 422, form=form, errors=errors)
    return _secret_page(request, viewer, vendor, service.view(endpoint), answer.body["secret"], rotated=False)


def _attempts_by_delivery(
    session: Session, delivery_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[WebhookAttempt]]:
    """Every attempt of the deliveries the service listed (already checked to be this endpoint's), newest first,
    in one query rather than one per delivery."""
    found: dict[uuid.UUID, list[WebhookAttempt]] = {d: [] for d in delivery_ids}
    if delivery_ids:
        rows = session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(delivery_ids))
            .order_by(WebhookAttempt.id.desc())
        )
        for row in rows:
            found[row.delivery_id].append(row)
    return found


def _endpoint_page(
    request: Request,
    viewer: ViewerDep,
    session: Session,
    services: ServicesDep,
    slug: str,
    endpoint_id: uuid.UUID,
    status_code: int = 200,
    **context: Any,
) -> Response:
    principal = viewer.require(request)
    vendor = portal_vendor(session, services, principal, slug)
    service = _service(request, session)
    endpoint = _endpoint(service, principal, vendor, endpoint_id)
    given = request.query_params.get("offset", "0")
    offset = min(int(given), 1_000_000) if given.isdigit() else 0
    # One endpoint's deliveries, paged by offset and counted on this page of the vendor's own endpoint.
    page = service.deliveries_for(
        principal, endpoint.id, PageRequest(DELIVERIES_PER_PAGE, offset, count_total=True)
    )
    deliveries, total = page.rows, page.total or 0
    attempts = _attempts_by_delivery(session, [d.id for d in deliveries])
    return render(
        request,
        "vendor/webhook.html",
        viewer,
        status_code=status_code,
        vendor=vendor,
        section="webhooks",
        endpoint=endpoint,
        events=EVENTS,
        deliveries=[(d, attempts[d.id]) for d in deliveries],
        total=total,
        offset=offset,
        per_page=DELIVERIES_PER_PAGE,
        form=context.pop(
            "form", {"url": endpoint.url, "description": endpoint.description, "events": endpoint.event_types}
        ),
        errors=context.pop("errors", {}),
        form_key=_form_key(),
        notice={"saved": "Saved.", "resent": "The delivery was queued to be sent again now."}.get(
            request.query_params.get("done", "")
        ),
        **context,
    )


@router.get("/vendor/{slug}/webhooks/{endpoint}")
def endpoint_page(
    request: Request,
    slug: Text,
    endpoint: uuid.UUID,
    viewer: ViewerDep,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    return _endpoint_page(request, viewer, session, services, slug, endpoint)


@router.post("/vendor/{slug}/webhooks/{endpoint}")
def change_endpoint(
    request: Request,
    slug: Text,
    endpoint: uuid.UUID,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
    url: Annotated[str, Form(max_length=2000)] = "",
    description: Annotated[str, Form(max_length=500)] = "",
    events: Annotated[list[str] | None, Form()] = None,
    enabled: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Change the URL, events, description and whether it is on (the same call as ``PATCH
    /api/v1/webhook-endpoints/{id}``); sending it twice leaves it as the first time."""
    principal = viewer.require(request)
    vendor = portal_vendor(session, services, principal, slug)
    service = _service(request, session)
    found = _endpoint(service, principal, vendor, endpoint)
    chosen = [event for event in events or [] if event]
    form = {"url": url, "description": description, "events": chosen}
    if not chosen:
        errors = {"events": "Choose at least one event to receive (or switch the endpoint off)."}
        return _endpoint_page(
            request, viewer, session, services, slug, endpoint, 422, form=form, errors=errors
        )
    changes = EndpointChanges(
        url=url.strip() or None, events=chosen, description=description, enabled=enabled == "true"
    )
    try:
        service.change_for(principal, found.id, changes)
    except Problem as refused:
        session.rollback()
        errors = {_field_of(refused): refused.detail}
        return _endpoint_page(
            request, viewer, session, services, slug, endpoint, 422, form=form, errors=errors
        )
    return RedirectResponse(f"/vendor/{vendor.slug}/webhooks/{found.id}?done=saved", status_code=303)


@router.post("/vendor/{slug}/webhooks/{endpoint}/rotate-secret")
def rotate_secret(
    request: Request,
    slug: Text,
    endpoint: uuid.UUID,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
    form_key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """A new secret, shown once (the same call as ``POST /api/v1/webhook-endpoints/{id}/rotate-secret``, the
    form's key as its ``Idempotency-Key``: sent twice, it rotates once)."""
    principal = viewer.require(request)
    vendor = portal_vendor(session, services, principal, slug)
    service = _service(request, session)
    found = _endpoint(service, principal, vendor, endpoint)
    answer = service.rotate_secret_once(
        principal, found.id, form_key or None, lambda view: {"id": str(found.id)}
    )
    return _secret_page(request, viewer, vendor, service.view(found), answer.body["secret"], rotated=True)


@router.post("/vendor/{slug}/webhooks/{endpoint}/delete")
def delete_endpoint(
    request: Request,
    slug: Text,
    endpoint: uuid.UUID,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    """Delete the endpoint and its log (``DELETE /api/v1/webhook-endpoints/{id}``)."""
    principal = viewer.require(request)
    vendor = portal_vendor(session, services, principal, slug)
    service = _service(request, session)
    service.delete_for(principal, _endpoint(service, principal, vendor, endpoint).id)
    return RedirectResponse(f"/vendor/{vendor.slug}/webhooks?deleted=1", status_code=303)


@router.post("/vendor/{slug}/webhooks/{endpoint}/deliveries/{delivery}/resend")
def resend_delivery(
    request: Request,
    slug: Text,
    endpoint: uuid.UUID,
    delivery: uuid.UUID,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    """Send a delivery again now (``POST .../deliveries/{id}/resend``): one new attempt, same ``webhook-id``."""
    principal = viewer.require(request)
    vendor = portal_vendor(session, services, principal, slug)
    service = _service(request, session)
    found = _endpoint(service, principal, vendor, endpoint)
    try:
        service.resend_for(principal, found.id, delivery)
    except Problem as refused:
        if refused.status != 409:  # missing delivery: the 404 page; disabled or being sent: said on the page
            raise
        session.rollback()
        return _endpoint_page(
            request, viewer, session, services, slug, endpoint, 409, errors={"_form": refused.detail}
        )
    return RedirectResponse(f"/vendor/{vendor.slug}/webhooks/{found.id}?done=resent", status_code=303)
