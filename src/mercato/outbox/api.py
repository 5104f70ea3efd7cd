"""The operator's outbox API: where each message stands, and sending undelivered ones again.

The same as ``mercato outbox list|show|retry``, for operator staff only: messages carry customers' e-mail
addresses and invoices, so everyone else is refused with 403.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from mercato.accounts.access import Forbidden, NotAuthenticated, Principal
from mercato.accounts.dependencies import reading, writing
from mercato.accounts.errors import OperatorOnly
from mercato.fields import Text
from mercato.outbox.repository import UNDELIVERED, MessageStatus
from mercato.outbox.schemas import OutboxMessageDetailOut, OutboxMessageOut, OutboxMessagePage
from mercato.outbox.service import MessageView, OutboxService
from mercato.paging import InvalidCursor, page_fields
from mercato.problems import Conflict, InvalidInput, NotFound
from mercato.web.dependencies import SessionDep
from mercato.web.paging import PageParams
from mercato.web.responses import problem_responses
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(prefix="/outbox", tags=["outbox"], route_class=UnitOfWorkRoute)
MessagePath = Annotated[
    Text, Path(max_length=36, description="The message's id, or its first characters (at least 6).")
]
_PROBLEMS = problem_responses(NotAuthenticated, Forbidden, OperatorOnly, NotFound, InvalidInput)


def _operator_staff(principal: Principal) -> Principal:
    if not principal.operator:
        raise OperatorOnly("Only operator staff may see and resend outbox messages.")
    return principal


def _operator_reading(principal: Annotated[Principal, Depends(reading)]) -> Principal:
    return _operator_staff(principal)


def _operator_writing(principal: Annotated[Principal, Depends(writing)]) -> Principal:
    return _operator_staff(principal)


OperatorReader = Annotated[Principal, Depends(_operator_reading)]
OperatorWriter = Annotated[Principal, Depends(_operator_writing)]


def _service(request: Request, session: SessionDep) -> OutboxService:
    # The session is an endpoint parameter, not a dependency of a dependency: the route ends the unit of
    # work of the sessions it is handed (mercato.web.routing).
    return OutboxService(session, timedelta(hours=request.app.state.settings.outbox_retry_horizon_hours))


def _out(view: MessageView) -> OutboxMessageOut:
    fields = dataclasses.asdict(view)
    del fields["payload"]
    return OutboxMessageOut(**fields)


@router.get(
    "/messages",
    response_model=OutboxMessagePage,
    summary="List outbox messages",
    responses=problem_responses(
        NotAuthenticated, Forbidden, OperatorOnly, NotFound, InvalidInput, InvalidCursor
    ),
)
def list_messages(
    page: PageParams,
    request: Request,
    _principal: OperatorReader,
    session: SessionDep,
    status: Annotated[
        list[MessageStatus] | None,
        Query(
            description="Only messages in these states (repeat the parameter). Default: all not delivered."
        ),
    ] = None,
    topic: Annotated[Text | None, Query(max_length=100, description="Only this topic, e.g. email.")] = None,
) -> OutboxMessagePage:
    """Outbox messages, newest first, with their state, attempts, next attempt and last error. By default the
    ones not delivered yet: pending, retrying, sending and dead. Counted only with `include=total`."""
    views = _service(request, session).page(
        request.app.state.clock.now(), tuple(status) if status else UNDELIVERED, topic, page
    )
    return OutboxMessagePage(items=[_out(view) for view in views.rows], **page_fields(views, page))


@router.get(
    "/messages/{message}",
    response_model=OutboxMessageDetailOut,
    summary="Show an outbox message",
    responses=_PROBLEMS,
)
def show_message(
    message: MessagePath, request: Request, _principal: OperatorReader, session: SessionDep
) -> OutboxMessageDetailOut:
    """One message with its payload (an e-mail's recipients, subject, text and attachments)."""
    service = _service(request, session)
    view = service.view(service.find(message), request.app.state.clock.now())
    return OutboxMessageDetailOut(**dataclasses.asdict(view))


@router.post(
    "/messages/{message}/retry",
    response_model=OutboxMessageOut,
    summary="Send an outbox message again",
    responses=problem_responses(NotAuthenticated, Forbidden, OperatorOnly, NotFound, InvalidInput, Conflict),
)
def retry_message(
    message: MessagePath, request: Request, _principal: OperatorWriter, session: SessionDep
) -> OutboxMessageOut:
    """Make an undelivered message due now, with a fresh retry horizon: a dead one, or one waiting for its next
    attempt (once the mail server is fixed, say). A worker sends it on its next round. A delivered message is
    refused (409), and so is one a worker holds right now."""
    return _out(_service(request, session).retry(message, request.app.state.clock.now()))


@router.post(
    "/dead-messages/retry",
    response_model=list[OutboxMessageOut],
    summary="Send every dead outbox message again",
    responses=_PROBLEMS,
)
def retry_dead_messages(
    request: Request, _principal: OperatorWriter, session: SessionDep
) -> list[OutboxMessageOut]:
    """Every dead message becomes due now, each with a fresh retry horizon: after a long outage has been
    fixed. Answers the messages sent again."""
    return [_out(view) for view in _service(request, session).retry_dead(request.app.state.clock.now())]
