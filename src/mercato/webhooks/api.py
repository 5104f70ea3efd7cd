"""Webhook endpoints API: register endpoints and choose events, read the delivery log, resend a delivery, rotate
the signing secret. The bodies Mercato posts are published in the OpenAPI document's ``webhooks`` section.

Who sees what: a vendor's members manage their vendor's endpoints; operator staff see every endpoint and keep
their own (no vendor: every vendor's events). Anyone else sees an empty list, and every endpoint answers them
404, exactly as a missing one.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, FastAPI, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from mercato.accounts.access import Forbidden, NotAuthenticated
from mercato.accounts.dependencies import Reader, Writer
from mercato.accounts.errors import OperatorOnly, VendorNotFound
from mercato.commerce.api import IdempotencyKey
from mercato.commerce.errors import IdempotencyKeyReused
from mercato.fields import Text
from mercato.paging import InvalidCursor, PageOut, page_fields
from mercato.problems import InvalidInput
from mercato.web.dependencies import SessionDep
from mercato.web.paging import PageParams
from mercato.web.responses import problem_responses
from mercato.web.routing import UnitOfWorkRoute
from mercato.webhooks.models import WebhookAttempt, WebhookEndpoint
from mercato.webhooks.payloads import EVENT_DESCRIPTIONS, EVENT_MODELS, WebhookEventType
from mercato.webhooks.service import (
    DeliveryInProgress,
    DeliveryView,
    EndpointChanges,
    EndpointView,
    NewEndpoint,
    UnknownWebhookEvent,
    WebhookDeliveryNotFound,
    WebhookEndpointDisabled,
    WebhookEndpointNotFound,
    WebhookService,
)
from mercato.webhooks.targets import InvalidWebhookUrl

router = APIRouter(prefix="/webhook-endpoints", tags=["webhooks"], route_class=UnitOfWorkRoute)

EndpointPath = Annotated[uuid.UUID, Path(description="The endpoint's id.")]
DeliveryPath = Annotated[uuid.UUID, Path(description="The delivery's id.")]
_SIGNED_IN = (NotAuthenticated, Forbidden)
_ENDPOINT = (*_SIGNED_IN, WebhookEndpointNotFound)
_RULES = (InvalidWebhookUrl, UnknownWebhookEvent, InvalidInput)
EventName = Annotated[WebhookEventType, Field(description="An event type.")]

_ENDPOINT_EXAMPLE: dict[str, Any] = {
    "id": "0b9d6a52-2a7e-4f0e-9f5c-6f1c2b0f3c11",
    "vendor": "example-mockups",
    "url": "https://hooks.mockups.example/mercato",
    "description": "Our CRM",
    "events": ["license.created", "license.renewed"],
    "enabled": True,
    "disabled_at": None,
    "disabled_reason": None,
    "consecutive_failures": 0,
    "previous_secret_until": None,
    "created_at": "2026-11-26T12:00:00Z",
    "updated_at": "2026-11-26T12:00:00Z",
}


# -- request and response shapes -----------------------------------------------------------------------------


class EndpointIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hooks.mockups.example/mercato",
                    "events": ["license.created", "license.renewed", "license.refunded"],
                    "description": "Our CRM",
                    "vendor": "example-mockups",
                }
            ]
        },
    )

    url: Text = Field(max_length=2000, description="https:// on a public address.")
    events: list[EventName] = Field(min_length=1, max_length=20, description="The events to receive.")
    description: Text = Field(default="", max_length=500)
    vendor: Text | None = Field(
        default=None,
        max_length=64,
        description="The vendor's slug (a member of one vendor may leave it out). Operator staff leave it out "
        "for their own endpoint, which receives every vendor's events.",
    )


class EndpointChangesIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"events": ["license.created"], "enabled": True}]},
    )

    url: Text | None = Field(default=None, max_length=2000)
    events: list[EventName] | None = Field(default=None, min_length=1, max_length=20)
    description: Text | None = Field(default=None, max_length=500)
    enabled: bool | None = Field(
        default=None,
        description="false stops deliveries; true enables it again and clears its failure streak.",
    )


class EndpointOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ENDPOINT_EXAMPLE]})

    id: uuid.UUID
    vendor: str | None = Field(description="The vendor's slug; null for the operator's own endpoint.")
    url: str
    description: str
    events: list[str]
    enabled: bool
    disabled_at: datetime | None
    disabled_reason: str | None = Field(description="Why it was disabled: by its owner, or after failures.")
    consecutive_failures: int = Field(description="Failed attempts since the last successful one.")
    previous_secret_until: datetime | None = Field(
        description="After a rotation: until when the previous secret still signs alongside the new one."
    )
    created_at: datetime
    updated_at: datetime


class EndpointWithSecretOut(EndpointOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [_ENDPOINT_EXAMPLE | {"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]
        }
    )

    secret: str = Field(
        description="The signing secret (whsec_…). Shown when the endpoint is created and when its secret is "
        "rotated; keep it with the receiver."
    )


class EndpointPage(PageOut):
    items: list[EndpointOut]


class AttemptOut(BaseModel):
    attempted_at: datetime
    succeeded: bool
    status_code: int | None = Field(description="The endpoint's HTTP status; null if it never answered.")
    duration_ms: int
    error: str | None
    response_snippet: str | None = Field(description="The first 500 characters of the endpoint's answer.")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "5f0c1a8e-55a4-4d0b-8d0a-0f7e3c2b1a99",
                    "webhook_id": "msg_5f0c1a8e55a44d0b8d0a0f7e3c2b1a99",
                    "endpoint_id": "0b9d6a52-2a7e-4f0e-9f5c-6f1c2b0f3c11",
                    "event_id": "evt_2c6e9d0f6b4d4c1e9a7b3f5d8e1c2a4b",
                    "event_type": "license.created",
                    "status": "retrying",
                    "created_at": "2026-11-26T12:00:00Z",
                    "attempts": 2,
                    "last_attempt_at": "2026-11-26T12:00:31Z",
                    "next_attempt_at": "2026-11-26T12:01:31Z",
                    "delivered_at": None,
                    "last_status_code": 503,
                    "last_error": "HTTP 503",
                }
            ]
        }
    )

    id: uuid.UUID
    webhook_id: str = Field(description="The `webhook-id` header: the same on every attempt and resend.")
    endpoint_id: uuid.UUID
    event_id: str
    event_type: str
    status: str = Field(
        description="pending, sending, retrying, delivered, or failed (retries given up after 72 hours, or the "
        "endpoint was disabled)."
    )
    created_at: datetime
    attempts: int
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None = Field(description="The last time the endpoint accepted it (2xx).")
    last_status_code: int | None
    last_error: str | None


class DeliveryDetailOut(DeliveryOut):
    payload: dict[str, Any] = Field(description="The body as posted.")
    log: list[AttemptOut] = Field(description="Every attempt, newest first.")


class DeliveryPage(PageOut):
    items: list[DeliveryOut]


# -- presenters ----------------------------------------------------------------------------------------------


def _endpoint_fields(view: EndpointView) -> dict[str, Any]:
    endpoint = view.endpoint
    return {
        "id": endpoint.id,
        "vendor": view.vendor,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.event_types,
        "enabled": endpoint.enabled,
        "disabled_at": endpoint.disabled_at,
        "disabled_reason": endpoint.disabled_reason,
        "consecutive_failures": endpoint.consecutive_failures,
        "previous_secret_until": endpoint.previous_secret_until,
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
    }


def _endpoint_body(view: EndpointView) -> dict[str, Any]:
    """The endpoint as an answer remembers it for a replay: JSON, and without its secret."""
    return EndpointOut(**_endpoint_fields(view)).model_dump(mode="json")


def _attempt_out(attempt: WebhookAttempt) -> AttemptOut:
    return AttemptOut(
        attempted_at=attempt.attempted_at,
        succeeded=attempt.succeeded,
        status_code=attempt.status_code,
        duration_ms=attempt.duration_ms,
        error=attempt.error,
        response_snippet=attempt.response_snippet,
    )


def _delivery_fields(view: DeliveryView) -> dict[str, Any]:
    return {
        "id": view.id,
        "webhook_id": view.webhook_id,
        "endpoint_id": view.endpoint_id,
        "event_id": view.event_id,
        "event_type": view.event_type,
        "status": view.status,
        "created_at": view.created_at,
        "attempts": view.attempts,
        "last_attempt_at": view.last_attempt_at,
        "next_attempt_at": view.next_attempt_at,
        "delivered_at": view.delivered_at,
        "last_status_code": view.last_status_code,
        "last_error": view.last_error,
    }


def _detail(view: DeliveryView) -> DeliveryDetailOut:
    return DeliveryDetailOut(
        **_delivery_fields(view), payload=view.payload, log=[_attempt_out(row) for row in view.log]
    )


def _service(request: Request, session: Any) -> WebhookService:
    return WebhookService.of_deployment(session, request.app.state.clock, request.app.state.settings)


def _endpoint_out(service: WebhookService, endpoint: WebhookEndpoint) -> EndpointOut:
    return EndpointOut(**_endpoint_fields(service.view(endpoint)))


# -- routes --------------------------------------------------------------------------------------------------


@router.get(
    "",
    response_model=EndpointPage,
    summary="List webhook endpoints",
    responses=problem_responses(*_SIGNED_IN, InvalidCursor),
)
def list_endpoints(
    page: PageParams,
    request: Request,
    principal: Reader,
    session: SessionDep,
    vendor: Annotated[
        Text | None,
        Query(
            max_length=64, description="Only this vendor's (a slug), or `operator` for the operator's own."
        ),
    ] = None,
) -> EndpointPage:
    """The endpoints you manage, oldest first: your vendor's (operator staff: every one)."""
    views = _service(request, session).endpoints_for(principal, vendor, page)
    return EndpointPage(
        items=[EndpointOut(**_endpoint_fields(view)) for view in views.rows], **page_fields(views, page)
    )


@router.post(
    "",
    response_model=EndpointWithSecretOut,
    status_code=status.HTTP_201_CREATED,
    summary="Register a webhook endpoint",
    responses=problem_responses(*_SIGNED_IN, OperatorOnly, VendorNotFound, *_RULES, IdempotencyKeyReused),
)
def create_endpoint(
    body: EndpointIn,
    request: Request,
    principal: Writer,
    session: SessionDep,
    idempotency_key: IdempotencyKey = None,
) -> EndpointWithSecretOut:
    """Register an endpoint for your vendor and choose its events. The answer holds its signing secret
    (`whsec_…`): every delivery is signed with it per the Standard Webhooks specification. Operator staff may
    register one for any vendor, or (without `vendor`) their own, which receives every vendor's events.

    Safe to retry with an `Idempotency-Key` header: the same key and body get the same endpoint and secret,
    registered once (without it, a retry registers a second endpoint and every event is delivered twice)."""
    asked = NewEndpoint(body.url, [event.value for event in body.events], body.description, body.vendor)
    answer = _service(request, session).create_once(principal, asked, idempotency_key, _endpoint_body)
    return EndpointWithSecretOut.model_validate(answer.body)


@router.get(
    "/{endpoint}",
    response_model=EndpointOut,
    summary="Show a webhook endpoint",
    responses=problem_responses(*_ENDPOINT),
)
def get_endpoint(
    endpoint: EndpointPath, request: Request, principal: Reader, session: SessionDep
) -> EndpointOut:
    """One endpoint: its URL, events, and whether it is enabled (and if not, why)."""
    service = _service(request, session)
    return _endpoint_out(service, service.endpoint_for(principal, endpoint))


@router.patch(
    "/{endpoint}",
    response_model=EndpointOut,
    summary="Change a webhook endpoint",
    responses=problem_responses(*_ENDPOINT, *_RULES),
)
def change_endpoint(
    endpoint: EndpointPath,
    body: Annotated[EndpointChangesIn, Body()],
    request: Request,
    principal: Writer,
    session: SessionDep,
) -> EndpointOut:
    """Change the URL, the events or the description; disable it, or enable it again (which clears its failure
    streak). Fields left out stay as they are."""
    service = _service(request, session)
    changes = EndpointChanges(
        url=body.url,
        events=[event.value for event in body.events] if body.events is not None else None,
        description=body.description,
        enabled=body.enabled,
    )
    return _endpoint_out(service, service.change_for(principal, endpoint, changes))


@router.delete(
    "/{endpoint}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a webhook endpoint",
    responses=problem_responses(*_ENDPOINT),
)
def delete_endpoint(
    endpoint: EndpointPath, request: Request, principal: Writer, session: SessionDep
) -> Response:
    """Delete the endpoint and its delivery log. Deliveries still waiting for it are dropped."""
    _service(request, session).delete_for(principal, endpoint)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{endpoint}/rotate-secret",
    response_model=EndpointWithSecretOut,
    summary="Rotate a webhook endpoint's secret",
    responses=problem_responses(*_ENDPOINT, IdempotencyKeyReused),
)
def rotate_secret(
    endpoint: EndpointPath,
    request: Request,
    principal: Writer,
    session: SessionDep,
    idempotency_key: IdempotencyKey = None,
) -> EndpointWithSecretOut:
    """A new signing secret, in the answer. For 24 hours every delivery carries two signatures (the new
    secret's and the old one's), so the receiver may switch to the new secret at any time in between.

    Safe to retry with an `Idempotency-Key` header: a retry answers the same, with the endpoint's current
    secret, and rotates nothing more."""
    answer = _service(request, session).rotate_secret_once(
        principal, endpoint, idempotency_key, _endpoint_body
    )
    return EndpointWithSecretOut.model_validate(answer.body)


@router.get(
    "/{endpoint}/deliveries",
    response_model=DeliveryPage,
    summary="List an endpoint's deliveries",
    responses=problem_responses(*_ENDPOINT, InvalidCursor),
)
def list_deliveries(
    endpoint: EndpointPath,
    request: Request,
    principal: Reader,
    session: SessionDep,
    page: PageParams,
) -> DeliveryPage:
    """The endpoint's deliveries, newest first, each with where it stands and its last attempt. Counted only
    with `include=total`."""
    views = _service(request, session).deliveries_for(principal, endpoint, page)
    return DeliveryPage(
        items=[DeliveryOut(**_delivery_fields(view)) for view in views.rows], **page_fields(views, page)
    )


@router.get(
    "/{endpoint}/deliveries/{delivery}",
    response_model=DeliveryDetailOut,
    summary="Show a delivery and its log",
    responses=problem_responses(*_ENDPOINT, WebhookDeliveryNotFound),
)
def get_delivery(
    endpoint: EndpointPath, delivery: DeliveryPath, request: Request, principal: Reader, session: SessionDep
) -> DeliveryDetailOut:
    """One delivery: its body and every attempt (status code, duration, error, the start of the answer)."""
    return _detail(_service(request, session).delivery_for(principal, endpoint, delivery))


@router.post(
    "/{endpoint}/deliveries/{delivery}/resend",
    response_model=DeliveryDetailOut,
    summary="Resend a delivery",
    responses=problem_responses(
        *_ENDPOINT, WebhookDeliveryNotFound, WebhookEndpointDisabled, DeliveryInProgress
    ),
)
def resend_delivery(
    endpoint: EndpointPath, delivery: DeliveryPath, request: Request, principal: Writer, session: SessionDep
) -> DeliveryDetailOut:
    """Send the delivery again now: the same `webhook-id` and body, signed afresh. One waiting for its next
    attempt goes at once; a delivered or failed one is queued again with a fresh retry horizon."""
    return _detail(_service(request, session).resend_for(principal, endpoint, delivery))


# -- the webhooks section of the OpenAPI document ------------------------------------------------------------


def install_webhook_docs(app: FastAPI) -> None:
    """Publish each event's body in the OpenAPI document's ``webhooks`` section (call after the document is
    completed by ``mercato.web.openapi.install_openapi``)."""
    for event, model in EVENT_MODELS.items():
        _document(app, event, model)
    completed = app.openapi

    def openapi() -> dict[str, Any]:
        document = completed()
        for operations in document.get("webhooks", {}).values():
            for operation in operations.values():
                # A receiver answers 2xx to accept; FastAPI's own validation-error answer means nothing here.
                operation["responses"] = {
                    "2XX": {"description": "Accepted. Anything else (or no answer in 10 s) is retried."}
                }
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _document(app: FastAPI, event: WebhookEventType, model: type[BaseModel]) -> None:
    def receive(body: Any) -> None:
        """Posted to the endpoints subscribed to the event."""

    receive.__annotations__ = {"body": model, "return": None}

    receive.__doc__ = (
        f"{EVENT_DESCRIPTIONS[event]} Posted as JSON with the Standard Webhooks headers `webhook-id`, "
        "`webhook-timestamp` and `webhook-signature`; verify the signature before trusting the body."
    )
    app.webhooks.post(
        event.value, summary=event.value, tags=["webhooks"], operation_id=event.value.replace(".", "_")
    )(receive)
