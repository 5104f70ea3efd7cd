"""Operator admin: the outbox and e-mail log. Messages by status (not delivered yet, pending, retrying, sending,
sent, dead), a message's page (recipients, subject, attempts, last error) and sending an undelivered one again
— ``OutboxService``, as ``/api/v1/outbox`` and ``mercato outbox`` use it. A worker delivers what is due."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from mercato.outbox.repository import UNDELIVERED, MessageStatus
from mercato.outbox.service import OutboxService
from mercato.pages.operator_access import operator_principal, refused
from mercato.pages.rendering import render
from mercato.pages.viewer import FormViewerDep, Viewer, ViewerDep
from mercato.paging import PageRequest
from mercato.problems import Conflict
from mercato.services import Services
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.paging import AfterQuery
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)
PAGE_SIZE = 50
# The filter's choices, in the words of the page; "delivered" is what an e-mail log calls sent.
FILTERS = (
    ("undelivered", "Not delivered yet"),
    ("pending", "Pending"),
    ("retrying", "Retrying"),
    ("sending", "Sending"),
    ("delivered", "Sent"),
    ("dead", "Dead"),
)
StatusFilter = Literal["undelivered", "pending", "retrying", "sending", "delivered", "dead"]


def _service(request: Request, session: Session) -> OutboxService:
    return OutboxService(session, timedelta(hours=request.app.state.settings.outbox_retry_horizon_hours))


@router.get("/admin/outbox")
def outbox(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    services: ServicesDep,
    status: Annotated[StatusFilter, Query()] = "undelivered",
    after: AfterQuery = None,
) -> Response:
    operator_principal(viewer, request)
    statuses = UNDELIVERED if status == "undelivered" else (MessageStatus(status),)
    page = _service(request, session).page(
        services.clock.now(), statuses, None, PageRequest(PAGE_SIZE, after=after)
    )
    return render(
        request,
        "admin/outbox.html",
        viewer,
        messages=page.rows,
        page=page,
        after=after,
        status=status,
        filters=FILTERS,
    )


def _message_page(
    request: Request,
    viewer: Viewer,
    session: Session,
    services: Services,
    message_id: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    service = _service(request, session)
    view = service.view(service.find(message_id), services.clock.now())
    payload = view.payload
    return render(
        request,
        "admin/message.html",
        viewer,
        status_code=status_code,
        message=view,
        recipients=payload.get("to") if isinstance(payload.get("to"), list) else [],
        subject=payload.get("subject") if isinstance(payload.get("subject"), str) else None,
        text=payload.get("text") if isinstance(payload.get("text"), str) else None,
        attachments=[a.get("filename", "") for a in payload.get("attachments") or [] if isinstance(a, dict)],
        undelivered=view.status is not MessageStatus.DELIVERED,
        error=error,
    )


@router.get("/admin/outbox/{message_id}")
def message_page(
    message_id: str, request: Request, viewer: ViewerDep, session: SessionDep, services: ServicesDep
) -> Response:
    operator_principal(viewer, request)
    return _message_page(request, viewer, session, services, message_id)


@router.post("/admin/outbox/{message_id}/retry")
def retry(
    message_id: str, request: Request, viewer: FormViewerDep, session: SessionDep, services: ServicesDep
) -> Response:
    """Make an undelivered message due now with a fresh retry horizon; a worker sends it on its next round.
    A delivered message, or one a worker holds right now, is refused with the reason."""
    operator_principal(viewer, request)
    service = _service(request, session)
    try:
        view = service.retry(message_id, services.clock.now())
    except Conflict as conflict:
        refused(session)
        return _message_page(
            request, viewer, session, services, message_id, error=conflict.detail, status_code=422
        )
    return RedirectResponse(f"/admin/outbox/{view.id}", status_code=303)


@router.post("/admin/outbox/{message_id}/copy")
def send_copy(
    message_id: str, request: Request, viewer: FormViewerDep, session: SessionDep, services: ServicesDep
) -> Response:
    """Send a delivered e-mail once more (a customer lost an invoice or a key): a new message, the original
    stays in the log. A repeated post within a minute sends one copy."""
    operator_principal(viewer, request)
    service = _service(request, session)
    try:
        view = service.send_copy(message_id, services.clock.now())
    except Conflict as conflict:
        refused(session)
        return _message_page(
            request, viewer, session, services, message_id, error=conflict.detail, status_code=422
        )
    return RedirectResponse(f"/admin/outbox/{view.id}", status_code=303)
