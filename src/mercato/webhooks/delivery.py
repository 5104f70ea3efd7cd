"""The ``webhook`` outbox topic: POST one delivery to its endpoint, signed per the Standard Webhooks
specification, and write the attempt to the delivery log.

The outbox retries a failed attempt with exponential back-off (30 s, doubling to at most an hour) until its
retry horizon (72 hours) has passed; then the delivery has failed. An endpoint that has failed
``webhook_disable_after_failures`` attempts in a row, over at least ``webhook_disable_after_hours``, is
disabled and its owner told by e-mail: its vendor's address, or for the operator's own endpoints the person
who registered it.

Signing: ``webhook-id`` is the delivery's id (``msg_…``, the same on every attempt and resend),
``webhook-timestamp`` the real time of the attempt in Unix seconds (receivers compare it with their own clock,
so it never follows a test clock), ``webhook-signature`` one ``v1,<base64 HMAC-SHA256>`` per secret in use,
separated by spaces: two during the 24 hours after a rotation.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook

from mercato import __version__
from mercato.accounts.models import User
from mercato.catalog.models import Vendor
from mercato.clock import Clock, SystemClock, utcnow
from mercato.outbox.handlers import DeliveryContext, Undeliverable
from mercato.outbox.service import enqueue_email
from mercato.settings import Settings
from mercato.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from mercato.webhooks.service import signing_secrets, webhook_id
from mercato.webhooks.targets import TargetRefused, check_addresses

log = logging.getLogger(__name__)

SNIPPET_LENGTH = 500
_READ_AT_MOST = 4096


class WebhookFailed(Exception):
    """The endpoint did not answer 2xx; the outbox tries again later."""


@dataclass(frozen=True)
class _Target:
    delivery_id: uuid.UUID
    endpoint_id: uuid.UUID
    url: str
    body: str
    secrets: list[str]


@dataclass(frozen=True)
class _Result:
    status_code: int | None
    duration_ms: int
    error: str | None
    snippet: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def signature_headers(message_id: str, sent_at: datetime, body: str, secrets: list[str]) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``, signed with every one of ``secrets``."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": " ".join(Webhook(secret).sign(message_id, sent_at, body) for secret in secrets),
    }


class WebhookSender:
    """The handler of the ``webhook`` topic."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: Settings,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.settings = settings
        self.clock = clock or SystemClock()
        self.allow_loopback = settings.webhook_allow_loopback or settings.demo
        self.client = httpx.Client(
            timeout=settings.webhook_timeout_seconds,
            follow_redirects=False,
            transport=transport,
            headers={"user-agent": f"Mercato-Webhooks/{__version__}"},
        )

    def __call__(self, payload: dict[str, Any], context: DeliveryContext) -> None:
        target = self._target(uuid.UUID(str(payload["delivery_id"])))
        result = self._post(target)
        disabled = self._record(target, result)
        if result.succeeded:
            return
        reason = result.error or f"HTTP {result.status_code}"
        if disabled:
            raise Undeliverable(f"{reason}; the endpoint is now disabled after repeated failures")
        raise WebhookFailed(reason)

    def _target(self, delivery_id: uuid.UUID) -> _Target:
        with self.session_factory() as session:
            delivery = session.get(WebhookDelivery, delivery_id)
            endpoint = session.get(WebhookEndpoint, delivery.endpoint_id) if delivery is not None else None
            if delivery is None or endpoint is None:
                raise Undeliverable("the webhook endpoint was deleted")
            if not endpoint.enabled:
                raise Undeliverable("the webhook endpoint is disabled")
            return _Target(
                delivery.id,
                endpoint.id,
                endpoint.url,
                delivery.body,
                signing_secrets(endpoint, self.clock.now(), self.settings.secret_key),
            )

    def _post(self, target: _Target) -> _Result:
        headers = {"content-type": "application/json"} | signature_headers(
            webhook_id(target.delivery_id), utcnow(), target.body, target.secrets
        )
        started = time.monotonic()
        status_code, error, snippet = None, None, None
        try:
            check_addresses(target.url, self.allow_loopback)
            with self.client.stream(
                "POST", target.url, content=target.body.encode(), headers=headers
            ) as answer:
                status_code = answer.status_code
                read = b""
                for chunk in answer.iter_bytes():
                    read += chunk
                    if len(read) >= _READ_AT_MOST:
                        break
                snippet = read.decode(answer.encoding or "utf-8", errors="replace")[:SNIPPET_LENGTH]
        except TargetRefused as refused:
            error = str(refused)
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"[:1000]
        duration_ms = round((time.monotonic() - started) * 1000)
        if status_code is not None and not 200 <= status_code < 300:
            error = f"HTTP {status_code}" + (
                " (redirects are not followed)" if 300 <= status_code < 400 else ""
            )
        return _Result(status_code, duration_ms, error, snippet)

    def _record(self, target: _Target, result: _Result) -> bool:
        """Write the attempt and the endpoint's failure streak; disable it (and queue the e-mail) when the
        streak is long enough. Returns whether this attempt disabled the endpoint."""
        now = self.clock.now()
        endpoints = WebhookEndpoint.__table__.c
        with self.session_factory() as session, session.begin():
            session.add(
                WebhookAttempt(
                    delivery_id=target.delivery_id,
                    attempted_at=now,
                    succeeded=result.succeeded,
                    status_code=result.status_code,
                    duration_ms=result.duration_ms,
                    error=result.error,
                    response_snippet=result.snippet,
                )
            )
            if result.succeeded:
                session.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id == target.delivery_id)
                    .values(delivered_at=now)
                )
                session.execute(
                    update(WebhookEndpoint)
                    .where(endpoints.id == target.endpoint_id, endpoints.consecutive_failures > 0)
                    .values(consecutive_failures=0, failing_since=None)
                    .execution_options(synchronize_session=False)
                )
                return False
            session.execute(
                update(WebhookEndpoint)
                .where(endpoints.id == target.endpoint_id)
                .values(
                    consecutive_failures=endpoints.consecutive_failures + 1,
                    failing_since=func.coalesce(endpoints.failing_since, now),
                )
                .execution_options(synchronize_session=False)
            )
            streak = session.execute(
                select(endpoints.consecutive_failures, endpoints.failing_since, endpoints.enabled).where(
                    endpoints.id == target.endpoint_id
                )
            ).first()
            threshold = self.settings.webhook_disable_after_failures
            long_enough = timedelta(hours=self.settings.webhook_disable_after_hours)
            if (
                streak is None
                or not streak.enabled
                or streak.consecutive_failures < threshold
                or streak.failing_since > now - long_enough
            ):
                return False
            reason = (
                f"Disabled after {streak.consecutive_failures} failed delivery attempts in a row since "
                f"{streak.failing_since:%Y-%m-%d %H:%M} UTC; the last: {result.error or result.status_code}."
            )
            # Only one worker disables it (and sends the e-mail), however many fail at once.
            disabled = session.execute(
                update(WebhookEndpoint)
                .where(endpoints.id == target.endpoint_id, endpoints.enabled.is_(True))
                .values(enabled=False, disabled_at=now, disabled_reason=reason)
                .execution_options(synchronize_session=False)
            )
            if not getattr(disabled, "rowcount", 0):
                return False
            endpoint = session.get(WebhookEndpoint, target.endpoint_id)
            assert endpoint is not None
            session.refresh(endpoint)
            self._tell_owner(session, endpoint)
            log.warning("webhook endpoint %s disabled: %s", endpoint.id, reason)
            return True

    def _tell_owner(self, session: Session, endpoint: WebhookEndpoint) -> None:
        if endpoint.vendor_id is not None:
            address = session.scalar(select(Vendor.email).where(Vendor.id == endpoint.vendor_id))
        else:
            address = session.scalar(select(User.email).where(User.id == endpoint.created_by_id))
        if not address:
            return
        enqueue_email(
            session,
            [address],
            f"Webhook endpoint disabled: {endpoint.url}"[:200],
            f"Mercato stopped sending webhooks to {endpoint.url}.\n\n"
            f"{endpoint.disabled_reason}\n\n"
            f"Events that happen while it is disabled are not sent to it. Once the endpoint answers again, enable "
            f'it (PATCH /api/v1/webhook-endpoints/{endpoint.id} with {{"enabled": true}}) and resend the '
            f"deliveries you missed (GET /api/v1/webhook-endpoints/{endpoint.id}/deliveries lists them).\n",
        )
