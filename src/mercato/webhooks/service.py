"""Webhook endpoints and their deliveries: registering, changing and deleting endpoints, rotating secrets, the
delivery log, resending; and queueing deliveries (``queue_webhook``), which every event source calls in its own
transaction.

Who sees what: a vendor's members manage their vendor's endpoints, which receive that vendor's events only;
operator staff see every endpoint and keep their own (no vendor), which receive every vendor's events. An
endpoint a principal may not see answers 404, exactly as a missing one.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic_core import to_jsonable_python
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.orm import Session

from mercato.accounts.access import Principal
from mercato.accounts.errors import OperatorOnly, VendorNotFound
from mercato.catalog.models import Vendor
from mercato.catalog.repository import CatalogRepository
from mercato.clock import Clock, utcnow
from mercato.commerce.idempotency import Answer, Idempotency, request_fingerprint
from mercato.commerce.repository import CommerceRepository
from mercato.database import transaction_cache
from mercato.outbox.models import OutboxMessage
from mercato.outbox.repository import MessageStatus, OutboxRepository
from mercato.outbox.service import enqueue, status_of
from mercato.paging import KeysetOrder, Page, PageRequest, fetch_page
from mercato.pricing.money import from_minor_units
from mercato.problems import Conflict, InvalidInput, NotFound
from mercato.settings import Settings
from mercato.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from mercato.webhooks.payloads import LICENSE_EVENT_TYPES, WebhookEventType
from mercato.webhooks.sealing import open_secret, seal_secret
from mercato.webhooks.targets import check_url

if TYPE_CHECKING:
    from mercato.licenses.events import LicenseEvent

WEBHOOK_TOPIC = "webhook"
SECRET_OVERLAP = timedelta(hours=24)
"""How long the secret before a rotation keeps signing deliveries alongside the new one."""
SECRET_PREFIX = "whsec_"
SECRET_FIELD = "secret"
"""The field of an answer that holds the signing secret: never remembered for a replay (see ``create_once``)."""


class WebhookEndpointNotFound(NotFound):
    """No webhook endpoint with this id that you may see: a vendor's members see their vendor's endpoints,
    operator staff see every one."""

    type = "webhook-endpoint-not-found"
    title = "No such webhook endpoint"


class WebhookDeliveryNotFound(NotFound):
    """The webhook endpoint has no delivery with this id."""

    type = "webhook-delivery-not-found"
    title = "No such webhook delivery"


class UnknownWebhookEvent(InvalidInput):
    """An endpoint subscribes to one or more of Mercato's event types: license.created, license.renewed,
    license.upgraded, license.migrated, license.cancelled, license.refunded, transaction.created, payout.paid."""

    type = "unknown-webhook-event"
    title = "Unknown webhook event"


class WebhookEndpointDisabled(Conflict):
    """The endpoint is disabled (by its owner, or by Mercato after repeated failed deliveries), so nothing is
    sent to it. Enable it again (`PATCH` with `"enabled": true`) once it answers, then resend."""

    type = "webhook-endpoint-disabled"
    title = "Webhook endpoint disabled"


class DeliveryInProgress(Conflict):
    """A worker is delivering this webhook right now; look again in a moment."""

    type = "webhook-delivery-in-progress"
    title = "Webhook delivery in progress"


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 24 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def webhook_id(delivery_id: uuid.UUID) -> str:
    """The ``webhook-id`` header of a delivery: the same on every attempt and resend."""
    return f"msg_{delivery_id.hex}"


def signing_secrets(endpoint: WebhookEndpoint, now: datetime, secret_key: str) -> list[str]:
    """The secrets a delivery is signed with now: the current one, and the one before a rotation for 24 hours
    (opened with the deployment's secret key)."""
    found = [open_secret(endpoint.secret, secret_key, endpoint.id)]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        found.append(open_secret(endpoint.previous_secret, secret_key, endpoint.id))
    return found


def _event_types(names: Sequence[str]) -> list[str]:
    known = {event.value for event in WebhookEventType}
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise UnknownWebhookEvent(
            f"Choose one or more of: {', '.join(sorted(known))}"
            + (f" ({', '.join(repr(name) for name in unknown)} is not one)." if unknown else "."),
            field="events",
        )
    return sorted(set(names))


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# -- queueing ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookEvent:
    """One event to announce: its type, the vendor it concerns (None: the operator's alone) and its ``data``.
    ``event_id`` makes queueing it idempotent: a second queueing with the same id queues nothing more for an
    endpoint that has it."""

    event_type: str
    vendor_id: uuid.UUID | None
    payload: dict[str, Any]
    occurred_at: datetime | None = None
    event_id: str | None = None


def queue_webhook(
    session: Session,
    event_type: str,
    vendor_id: uuid.UUID | None,
    payload: dict[str, Any],
    *,
    occurred_at: datetime | None = None,
    event_id: str | None = None,
    enabled: Sequence[WebhookEndpoint] | None = None,
) -> list[WebhookDelivery]:
    """Queue one delivery of the event for every enabled endpoint subscribed to it: the vendor's own endpoints
    and the operator's. In the caller's transaction (flushed, not committed), through the outbox.

    ``payload`` becomes the body's ``data`` (Decimals, dates and datetimes are written as JSON strings); see
    ``mercato.webhooks.payloads`` for each event's fields. ``event_id``: see ``WebhookEvent``. ``enabled``: the
    endpoints ``enabled_endpoints`` read for this vendor (among others), when the caller has them already.
    """
    announced = WebhookEvent(event_type, vendor_id, payload, occurred_at, event_id)
    return queue_webhooks(session, [announced], enabled=enabled)


def queue_webhooks(
    session: Session, events: Sequence[WebhookEvent], *, enabled: Sequence[WebhookEndpoint] | None = None
) -> list[WebhookDelivery]:
    """``queue_webhook`` for many events at once: one read of the deliveries queued before (only for events
    with an ``event_id``: a new id cannot have been queued) and one flush, however many events (an import of a
    thousand licenses, a payment of many lines)."""
    if enabled is None:
        enabled = enabled_endpoints(session, {e.vendor_id for e in events if e.vendor_id is not None})
    planned: list[tuple[WebhookEvent, WebhookEventType, list[WebhookEndpoint]]] = []
    for announced in events:
        kind = WebhookEventType(announced.event_type)
        endpoints = [
            endpoint
            for endpoint in enabled
            if endpoint.vendor_id in (None, announced.vendor_id) and kind.value in endpoint.event_types
        ]
        if endpoints:
            planned.append((announced, kind, endpoints))
    if not planned:
        return []
    taken = _deliveries_queued(
        session, [(e.event_id, endpoints) for e, _, endpoints in planned if e.event_id]
    )
    deliveries = []
    for announced, kind, endpoints in planned:
        event_id = announced.event_id or f"evt_{uuid.uuid4().hex}"
        body = json.dumps(
            {
                "type": kind.value,
                "timestamp": _timestamp(announced.occurred_at or utcnow()),
                "data": to_jsonable_python(announced.payload),
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )
        for endpoint in endpoints:
            if (event_id, endpoint.id) in taken:
                continue
            delivery = WebhookDelivery(
                id=uuid.uuid4(), endpoint_id=endpoint.id, event_id=event_id, event_type=kind.value, body=body
            )
            session.add(delivery)
            delivery.outbox_message_id = enqueue(session, WEBHOOK_TOPIC, {"delivery_id": str(delivery.id)}).id
            deliveries.append(delivery)
    session.flush()
    return deliveries


_QUEUED_READ_CHUNK = 1000  # event ids per query, well under the drivers' limits on bound parameters


def _deliveries_queued(
    session: Session, wanted: Sequence[tuple[str, Sequence[WebhookEndpoint]]]
) -> set[tuple[str, uuid.UUID]]:
    """Which of these (event id, endpoint) pairs have a delivery already, read by the unique (endpoint, event)
    index: one query per thousand event ids."""
    endpoint_ids = {endpoint.id for _, endpoints in wanted for endpoint in endpoints}
    event_ids = sorted({event_id for event_id, _ in wanted})
    taken: set[tuple[str, uuid.UUID]] = set()
    for start in range(0, len(event_ids), _QUEUED_READ_CHUNK):
        chunk = event_ids[start : start + _QUEUED_READ_CHUNK]
        taken.update(
            (event_id, endpoint_id)
            for event_id, endpoint_id in session.execute(
                select(WebhookDelivery.event_id, WebhookDelivery.endpoint_id).where(
                    WebhookDelivery.endpoint_id.in_(endpoint_ids), WebhookDelivery.event_id.in_(chunk)
                )
            )
        )
    return taken


_ENABLED_READ = "enabled webhook endpoints"
"""The ``transaction_cache`` holding the enabled endpoints read last, with the vendors they were read for: the
subscribers of one license event (the ledger's, the license webhooks') share one read."""


def enabled_endpoints(session: Session, vendor_ids: Iterable[uuid.UUID]) -> Sequence[WebhookEndpoint]:
    """The enabled endpoints that hear of these vendors' events: theirs and the operator's (one query, or none
    when this transaction read them for these vendors, or more, already)."""
    ids = set(vendor_ids)
    cache = transaction_cache(session, _ENABLED_READ)
    earlier: tuple[frozenset[uuid.UUID], Sequence[WebhookEndpoint]] | None = cache.get("read")
    if earlier is not None and ids <= earlier[0]:
        return [
            endpoint for endpoint in earlier[1] if endpoint.vendor_id is None or endpoint.vendor_id in ids
        ]
    owners: ColumnElement[bool] = WebhookEndpoint.vendor_id.is_(None)
    if ids:
        owners = or_(owners, WebhookEndpoint.vendor_id.in_(ids))
    found = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True), owners)).all()
    cache["read"] = (frozenset(ids), found)
    return found


@sqlalchemy_event.listens_for(Session, "before_flush")
def _forget_endpoints_changed(session: Session, *_: object) -> None:
    """An endpoint created, changed or deleted in this session is read again."""
    if any(isinstance(row, WebhookEndpoint) for row in (*session.new, *session.dirty, *session.deleted)):
        transaction_cache(session, _ENABLED_READ).clear()


def _money(event: LicenseEvent) -> dict[str, Any] | None:
    money = event.money
    if money is None:
        return None
    return {
        "currency": money.currency,
        "amount": from_minor_units(money.amount_minor, money.currency),
        "vendor_amount": None
        if money.vendor_amount_minor is None
        else from_minor_units(money.vendor_amount_minor, money.currency),
    }


def license_data(event: LicenseEvent, vendor_slug: str | None) -> dict[str, Any]:
    """A license event's ``data`` (``mercato.webhooks.payloads.LicenseData``)."""
    license = event.license
    return {
        "entitlement_number": license.entitlement_number,
        "app_key": license.product_key,
        "vendor": vendor_slug,
        "hosting": license.hosting.value,
        "channel": license.channel.value,
        "license_type": license.license_type.value,
        "tier": "unlimited" if license.tier_users == -1 else str(license.tier_users),
        "host_binding": license.host_binding,
        "status": license.status.value,
        "evaluation": license.evaluation,
        "maintenance_start": license.maintenance_start,
        "maintenance_end": license.maintenance_end,
        "term_end": license.term_end,
        "change": event.kind.value,
        "description": event.description,
        "invoice_number": event.invoice_number,
        "money": _money(event),
    }


def queue_license_webhooks(session: Session, events: Sequence[LicenseEvent]) -> None:
    """The license-event subscriber: one webhook per event that is a webhook event, for the license's vendor
    (and the operator)."""
    wanted = [event for event in events if event.kind.value in LICENSE_EVENT_TYPES]
    if not wanted:
        return
    catalog = CatalogRepository(session)
    listing_ids = {event.license.listing_id for event in wanted}
    held = catalog.held_listings(listing_ids)
    # Listings this session does not hold with their vendors are read only if any endpoint may hear of them.
    if len(held) < len(listing_ids) and (
        session.scalar(select(WebhookEndpoint.id).where(WebhookEndpoint.enabled.is_(True))) is None
    ):
        return
    listings = catalog.listings_by_id(listing_ids)
    vendors = {
        listing.id: (listing.app.vendor.id, listing.app.vendor.slug)
        for listing in listings.values()
        if listing.app is not None
    }
    endpoints = enabled_endpoints(session, {vendor_id for vendor_id, _ in vendors.values()})
    if not endpoints:
        return
    announced = []
    for event in wanted:
        vendor_id, slug = vendors.get(event.license.listing_id, (None, None))
        announced.append(
            WebhookEvent(
                LICENSE_EVENT_TYPES[event.kind.value],
                vendor_id,
                license_data(event, slug),
                occurred_at=event.occurred_at,
            )
        )
    queue_webhooks(session, announced, enabled=endpoints)


# -- what vendors and the operator do ------------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointChanges:
    """A change to an endpoint: the fields given (``None``: unchanged)."""

    url: str | None = None
    events: Sequence[str] | None = None
    description: str | None = None
    enabled: bool | None = None


@dataclass(frozen=True)
class NewEndpoint:
    """What registering an endpoint asks for (``vendor``: a slug, or ``None`` as ``create_for`` takes it)."""

    url: str
    events: Sequence[str]
    description: str = ""
    vendor: str | None = None


@dataclass(frozen=True)
class EndpointView:
    endpoint: WebhookEndpoint
    vendor: str | None


@dataclass(frozen=True)
class DeliveryView:
    id: uuid.UUID
    webhook_id: str
    endpoint_id: uuid.UUID
    event_id: str
    event_type: str
    status: str
    """pending, sending, retrying, delivered or failed (given up after the retry horizon, or the endpoint was
    disabled or deleted)."""
    created_at: datetime
    attempts: int
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    payload: dict[str, Any]
    log: list[WebhookAttempt] = field(default_factory=list)


# An endpoint's deliveries grow with every event (counted only when asked); a vendor's endpoints are few.
DELIVERIES_NEWEST_FIRST = KeysetOrder(
    "webhook-deliveries", WebhookDelivery.created_at, WebhookDelivery.id, datetime, uuid.UUID
)
ENDPOINTS_OLDEST_FIRST = KeysetOrder(
    "webhook-endpoints", WebhookEndpoint.created_at, WebhookEndpoint.id, datetime, uuid.UUID, descending=False
)

_STATUS_NAMES = {MessageStatus.DEAD: "failed"}


class WebhookService:
    def __init__(self, session: Session, clock: Clock, secret_key: str, allow_loopback: bool = False) -> None:
        self.session = session
        self.clock = clock
        self.secret_key = secret_key
        """Seals the endpoints' signing secrets at rest (``mercato.webhooks.sealing``)."""
        self.allow_loopback = allow_loopback

    @classmethod
    def of_deployment(cls, session: Session, clock: Clock, settings: Settings) -> WebhookService:
        """As the API and the vendor portal build it: secrets sealed under the deployment's secret key, loopback
        receivers only where the deployment allows them (``webhook_allow_loopback``, or a demo)."""
        return cls(session, clock, settings.secret_key, settings.webhook_allow_loopback or settings.demo)

    # Finding, as the principal may

    def _vendor_slugs(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not ids:
            return {}
        rows = self.session.execute(select(Vendor.id, Vendor.slug).where(Vendor.id.in_(ids)))
        return {row.id: row.slug for row in rows}

    def view(self, endpoint: WebhookEndpoint) -> EndpointView:
        slugs = self._vendor_slugs({endpoint.vendor_id} if endpoint.vendor_id else set())
        return EndpointView(endpoint, slugs.get(endpoint.vendor_id) if endpoint.vendor_id else None)

    def endpoint_for(self, principal: Principal, endpoint_id: uuid.UUID) -> WebhookEndpoint:
        endpoint = self.session.get(WebhookEndpoint, endpoint_id)
        if endpoint is None or not (principal.operator or endpoint.vendor_id in principal.vendor_member_of):
            raise WebhookEndpointNotFound(
                f"There is no webhook endpoint {endpoint_id} that you can see. GET /api/v1/webhook-endpoints "
                "lists yours."
            )
        return endpoint

    def endpoints_for(
        self, principal: Principal, vendor: str | None = None, page: PageRequest = PageRequest()
    ) -> Page[EndpointView]:
        """Operator staff: every endpoint (``vendor="operator"``: their own); a vendor's members: their
        vendors'; anyone else: none. Oldest first."""
        query = select(WebhookEndpoint)
        if not principal.operator:
            query = query.where(WebhookEndpoint.vendor_id.in_(principal.vendor_member_of))
        if vendor == "operator":
            query = query.where(WebhookEndpoint.vendor_id.is_(None))
        elif vendor:
            query = query.join(Vendor, Vendor.id == WebhookEndpoint.vendor_id).where(Vendor.slug == vendor)
        endpoints = fetch_page(self.session, query, ENDPOINTS_OLDEST_FIRST, page, always_count=True)
        rows: list[WebhookEndpoint] = list(endpoints.rows)
        slugs = self._vendor_slugs({row.vendor_id for row in rows if row.vendor_id})
        return endpoints.shown_as(
            [EndpointView(row, slugs.get(row.vendor_id) if row.vendor_id else None) for row in rows]
        )

    def _owner_vendor(self, principal: Principal, slug: str | None) -> uuid.UUID | None:
        if slug is None:
            if principal.operator:
                return None
            if len(principal.vendor_member_of) == 1:
                return next(iter(principal.vendor_member_of))
            if principal.vendor_member_of:
                raise InvalidInput(
                    "You are a member of several vendors: say which one (vendor).", field="vendor"
                )
            raise OperatorOnly(
                "Only a vendor's members (for their vendor) and operator staff may register webhook endpoints."
            )
        vendor = self.session.scalars(select(Vendor).where(Vendor.slug == slug.strip().lower())).first()
        if vendor is None or not (principal.operator or vendor.id in principal.vendor_member_of):
            raise VendorNotFound(
                f"There is no vendor {slug!r} that you can see. GET /api/v1/vendors lists yours."
            )
        return vendor.id

    # Changing

    def create_for(
        self,
        principal: Principal,
        url: str,
        events: Sequence[str],
        description: str = "",
        vendor: str | None = None,
    ) -> tuple[WebhookEndpoint, str]:
        """Register an endpoint for the principal's vendor (operator staff: for any vendor, or with no vendor
        their own, which receives every vendor's events). Returns it with its signing secret, which is stored
        sealed and shown only now."""
        vendor_id = self._owner_vendor(principal, vendor)
        endpoint_id, secret = uuid.uuid4(), new_secret()
        endpoint = WebhookEndpoint(
            id=endpoint_id,
            vendor_id=vendor_id,
            url=check_url(url, self.allow_loopback),
            description=description.strip(),
            event_types=_event_types(events),
            secret=seal_secret(secret, self.secret_key, endpoint_id),
            enabled=True,
            consecutive_failures=0,
            created_by_id=principal.user_id,
            created_at=self.clock.now(),
            updated_at=self.clock.now(),
        )
        self.session.add(endpoint)
        self.session.flush()
        return endpoint, secret

    def create_once(
        self,
        principal: Principal,
        endpoint: NewEndpoint,
        idempotency_key: str | None,
        present: Callable[[EndpointView], dict[str, Any]],
    ) -> Answer:
        """``create_for``, once per ``Idempotency-Key``: a retry whose answer was lost gets the same endpoint
        and secret instead of a second endpoint (which would receive every event twice).

        The answer is ``present``'s body with the secret under ``"secret"``. The remembered answer leaves the
        secret out, as the endpoint's row keeps it sealed: a replay opens the endpoint's current secret (after a
        rotation, the new one, which is the one that signs)."""
        secret_of_first: list[str] = []

        def perform() -> Answer:
            created, secret = self.create_for(
                principal, endpoint.url, endpoint.events, endpoint.description, endpoint.vendor
            )
            secret_of_first.append(secret)
            return Answer(201, present(self.view(created)))

        answer = Idempotency(CommerceRepository(self.session), self.clock).run(
            f"{principal.user_id}:create-webhook-endpoint",
            idempotency_key,
            request_fingerprint(endpoint.url, list(endpoint.events), endpoint.description, endpoint.vendor),
            "for another webhook endpoint",
            perform,
        )
        return self._with_secret(principal, answer, secret_of_first)

    def rotate_secret_once(
        self,
        principal: Principal,
        endpoint_id: uuid.UUID,
        idempotency_key: str | None,
        present: Callable[[EndpointView], dict[str, Any]],
    ) -> Answer:
        """``rotate_secret_for``, once per ``Idempotency-Key``: a retry rotates nothing more (a second rotation
        would end the first new secret's overlap before the receiver ever saw it). Remembered without the
        secret, as ``create_once``."""
        secret_of_first: list[str] = []

        def perform() -> Answer:
            rotated, secret = self.rotate_secret_for(principal, endpoint_id)
            secret_of_first.append(secret)
            return Answer(200, present(self.view(rotated)))

        answer = Idempotency(CommerceRepository(self.session), self.clock).run(
            f"{principal.user_id}:rotate-webhook-secret:{endpoint_id}",
            idempotency_key,
            request_fingerprint(str(endpoint_id)),
            "for another rotation",
            perform,
        )
        return self._with_secret(principal, answer, secret_of_first)

    def _with_secret(self, principal: Principal, answer: Answer, secret_of_first: list[str]) -> Answer:
        """The answer with its secret put back: the one just made, or on a replay the endpoint's own, unsealed
        (an endpoint deleted since answers 404, as any endpoint one may not see)."""
        if secret_of_first:
            secret = secret_of_first[0]
        else:
            endpoint = self.endpoint_for(principal, uuid.UUID(str(answer.body["id"])))
            secret = open_secret(endpoint.secret, self.secret_key, endpoint.id)
        return replace(answer, body={**answer.body, SECRET_FIELD: secret})

    def change_for(
        self, principal: Principal, endpoint_id: uuid.UUID, changes: EndpointChanges
    ) -> WebhookEndpoint:
        endpoint = self.endpoint_for(principal, endpoint_id)
        if changes.url is not None:
            endpoint.url = check_url(changes.url, self.allow_loopback)
        if changes.events is not None:
            endpoint.event_types = _event_types(changes.events)
        if changes.description is not None:
            endpoint.description = changes.description.strip()
        if changes.enabled is not None and changes.enabled != endpoint.enabled:
            endpoint.enabled = changes.enabled
            endpoint.consecutive_failures = 0
            endpoint.failing_since = None
            endpoint.disabled_at = None if changes.enabled else self.clock.now()
            endpoint.disabled_reason = None if changes.enabled else "Disabled by its owner."
        endpoint.updated_at = self.clock.now()
        self.session.flush()
        return endpoint

    def delete_for(self, principal: Principal, endpoint_id: uuid.UUID) -> None:
        """Delete the endpoint with its delivery log; deliveries still queued for it are dropped."""
        self.session.delete(self.endpoint_for(principal, endpoint_id))
        self.session.flush()

    def rotate_secret_for(self, principal: Principal, endpoint_id: uuid.UUID) -> tuple[WebhookEndpoint, str]:
        """A new secret signs every delivery from now on; the one it replaces keeps signing alongside for 24
        hours (each delivery then carries both signatures), so receivers can switch without losing one."""
        endpoint = self.endpoint_for(principal, endpoint_id)
        now = self.clock.now()
        secret = new_secret()
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_until = now + SECRET_OVERLAP
        endpoint.secret = seal_secret(secret, self.secret_key, endpoint.id)
        endpoint.updated_at = now
        self.session.flush()
        return endpoint, secret

    # Deliveries

    def _delivery_view(
        self, delivery: WebhookDelivery, log: list[WebhookAttempt] | None = None
    ) -> DeliveryView:
        message = (
            self.session.get(OutboxMessage, delivery.outbox_message_id)
            if delivery.outbox_message_id
            else None
        )
        attempts = self._attempts_of([delivery.id]).get(delivery.id, [])
        return self._shown_delivery(delivery, message, attempts, log)

    def _attempts_of(self, delivery_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
        """Each delivery's attempts (time, status code, error), newest first, in one query."""
        found: dict[uuid.UUID, list[Any]] = {}
        if delivery_ids:
            for row in self.session.execute(
                select(
                    WebhookAttempt.delivery_id,
                    WebhookAttempt.attempted_at,
                    WebhookAttempt.status_code,
                    WebhookAttempt.error,
                )
                .where(WebhookAttempt.delivery_id.in_(delivery_ids))
                .order_by(WebhookAttempt.id.desc())
            ):
                found.setdefault(row.delivery_id, []).append(row)
        return found

    def _shown_delivery(
        self,
        delivery: WebhookDelivery,
        message: OutboxMessage | None,
        attempts: list[Any],
        log: list[WebhookAttempt] | None = None,
    ) -> DeliveryView:
        now = self.clock.now()
        if message is not None:
            state = status_of(message, now)
            status = _STATUS_NAMES.get(state, state.value)
            waiting = state in (MessageStatus.PENDING, MessageStatus.RETRYING)
            next_attempt_at = message.available_at if waiting else None
        else:
            status = "delivered" if delivery.delivered_at else "failed"
            next_attempt_at = None
        last = attempts[0] if attempts else None
        return DeliveryView(
            id=delivery.id,
            webhook_id=webhook_id(delivery.id),
            endpoint_id=delivery.endpoint_id,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            status=status,
            created_at=delivery.created_at,
            attempts=len(attempts),
            last_attempt_at=last.attempted_at if last else None,
            next_attempt_at=next_attempt_at,
            delivered_at=delivery.delivered_at,
            last_status_code=last.status_code if last else None,
            last_error=last.error if last else None,
            payload=json.loads(delivery.body),
            log=log or [],
        )

    def deliveries_for(
        self, principal: Principal, endpoint_id: uuid.UUID, page: PageRequest = PageRequest()
    ) -> Page[DeliveryView]:
        """The endpoint's deliveries, newest first; their outbox messages and attempts read once per page,
        not per delivery."""
        endpoint = self.endpoint_for(principal, endpoint_id)
        query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
        deliveries = fetch_page(self.session, query, DELIVERIES_NEWEST_FIRST, page)
        rows: list[WebhookDelivery] = list(deliveries.rows)
        message_ids = [row.outbox_message_id for row in rows if row.outbox_message_id]
        messages = (
            {
                m.id: m
                for m in self.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(message_ids)))
            }
            if message_ids
            else {}
        )
        attempts = self._attempts_of([row.id for row in rows])
        return deliveries.shown_as(
            [
                self._shown_delivery(
                    row,
                    messages.get(row.outbox_message_id) if row.outbox_message_id else None,
                    attempts.get(row.id, []),
                )
                for row in rows
            ]
        )

    def _delivery(
        self, principal: Principal, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
    ) -> tuple[WebhookEndpoint, WebhookDelivery]:
        """The endpoint, as the principal may see it, and its delivery."""
        endpoint = self.endpoint_for(principal, endpoint_id)
        delivery = self.session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.endpoint_id != endpoint.id:
            raise WebhookDeliveryNotFound(f"Webhook endpoint {endpoint_id} has no delivery {delivery_id}.")
        return endpoint, delivery

    def delivery_for(
        self, principal: Principal, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
    ) -> DeliveryView:
        """One delivery with its log: every attempt, newest first."""
        _, delivery = self._delivery(principal, endpoint_id, delivery_id)
        log = list(
            self.session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id == delivery.id)
                .order_by(WebhookAttempt.id.desc())
            )
        )
        return self._delivery_view(delivery, log)

    def resend_for(
        self, principal: Principal, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
    ) -> DeliveryView:
        """Send a delivery again, now, with the same ``webhook-id`` and body (signed afresh): one waiting for a
        retry goes at once; a delivered or failed one is queued again with a fresh retry horizon."""
        endpoint, delivery = self._delivery(principal, endpoint_id, delivery_id)
        if not endpoint.enabled:
            raise WebhookEndpointDisabled(
                f"Webhook endpoint {endpoint.id} is disabled; enable it before resending.",
                endpoint=str(endpoint.id),
            )
        now = self.clock.now()
        messages = OutboxRepository(self.session)
        message = messages.get(delivery.outbox_message_id) if delivery.outbox_message_id else None
        state = status_of(message, now) if message is not None else None
        if state is MessageStatus.SENDING:
            raise DeliveryInProgress(f"Delivery {delivery.id} is being sent right now.")
        if message is not None and state in (MessageStatus.PENDING, MessageStatus.RETRYING):
            messages.requeue(message.id, now)
            self.session.refresh(message)
        else:
            delivery.outbox_message_id = enqueue(
                self.session, WEBHOOK_TOPIC, {"delivery_id": str(delivery.id)}, available_at=now
            ).id
        self.session.flush()
        return self._delivery_view(delivery)
