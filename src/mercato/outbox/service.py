"""Writing outbox messages: in the caller's transaction, so they exist exactly when the change that caused
them is committed. Nothing here commits or sends; ``mercato worker`` delivers after the commit.

And what an operator does with them: see where each message stands, and send undelivered ones again."""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from mercato.database import new_id
from mercato.mail.templates import RenderedEmail
from mercato.outbox.emails import EMAIL_TOPIC, EmailAttachment, email_payload
from mercato.outbox.models import OutboxMessage
from mercato.outbox.repository import UNDELIVERED, MessageStatus, OutboxRepository
from mercato.paging import Page, PageRequest
from mercato.problems import Conflict, InvalidInput, NotFound

COPY_GUARD = timedelta(minutes=1)
"""A second copy of the same message within this long is taken for a repeated request."""


def enqueue(
    session: Session, topic: str, payload: dict[str, Any], available_at: datetime | None = None
) -> OutboxMessage:
    """Add a message to the outbox in the session's transaction (written with its next flush, sent after commit).

    ``available_at`` delays delivery (an aware UTC datetime); by default the worker may deliver it as soon as
    the transaction commits. The payload must be JSON-serialisable.
    """
    # The id is known before the flush, and the row is written with the session's next flush: many messages
    # queued together (a billing run's invoices) go in one statement.
    message = OutboxMessage(id=new_id(), topic=topic, payload=payload)
    if available_at is not None:
        message.available_at = available_at
    OutboxRepository(session).add(message)
    return message


def enqueue_email(
    session: Session,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[EmailAttachment] = (),
    available_at: datetime | None = None,
) -> OutboxMessage:
    """Queue an e-mail, sent once the session's transaction commits (never if it rolls back).

    ``attachments`` are ``{"filename", "content_type", "content_base64"}`` dictionaries. Raises ``ValueError``
    for a malformed e-mail (no recipient, a multi-line subject, invalid base64).
    """
    return enqueue(session, EMAIL_TOPIC, email_payload(to, subject, text, html, attachments), available_at)


def enqueue_rendered_email(session: Session, to: Sequence[str], email: RenderedEmail) -> OutboxMessage:
    """Queue an e-mail rendered from a named template (``mercato.mail.templates``)."""
    return enqueue_email(session, to, email.subject, email.text, email.html)


@dataclass(frozen=True)
class MessageView:
    """An outbox message as an operator sees it: where it stands and why."""

    id: uuid.UUID
    topic: str
    status: MessageStatus
    summary: str
    """What the message is about, in a few words (an e-mail's subject and recipients)."""
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    """When a worker may try it next (while pending or retrying); the end of its lease while sending."""
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None
    retry_until: datetime | None
    """The end of its retry horizon: a failure after this parks it as dead."""
    last_error: str | None
    delivered_at: datetime | None
    dead_at: datetime | None
    payload: dict[str, Any]


def status_of(message: OutboxMessage, now: datetime) -> MessageStatus:
    if message.delivered_at is not None:
        return MessageStatus.DELIVERED
    if message.dead_at is not None:
        return MessageStatus.DEAD
    if message.lease_token is not None and message.available_at > now:
        return MessageStatus.SENDING
    return MessageStatus.RETRYING if message.attempts else MessageStatus.PENDING


def summarise(payload: dict[str, Any]) -> str:
    """An e-mail's subject and recipients; other topics have no summary yet."""
    subject, recipients = payload.get("subject"), payload.get("to")
    if isinstance(subject, str) and isinstance(recipients, list):
        return f"{subject} → {', '.join(str(address) for address in recipients)}"
    return ""


_HEX_ID = re.compile(r"[0-9a-f]{1,32}")
SHORTEST_ID_PREFIX = 6


class OutboxService:
    """What an operator does with the outbox: look at messages, and send undelivered ones again."""

    def __init__(self, session: Session, retry_horizon: timedelta) -> None:
        self.messages = OutboxRepository(session)
        self.retry_horizon = retry_horizon

    def view(self, message: OutboxMessage, now: datetime) -> MessageView:
        status = status_of(message, now)
        waiting = status in (MessageStatus.PENDING, MessageStatus.RETRYING, MessageStatus.SENDING)
        return MessageView(
            id=message.id,
            topic=message.topic,
            status=status,
            summary=summarise(message.payload),
            attempts=message.attempts,
            created_at=message.created_at,
            next_attempt_at=message.available_at if waiting else None,
            first_attempt_at=message.first_attempt_at,
            last_attempt_at=message.last_attempt_at,
            retry_until=message.first_attempt_at + self.retry_horizon
            if message.first_attempt_at and waiting
            else None,
            last_error=message.last_error,
            delivered_at=message.delivered_at,
            dead_at=message.dead_at,
            payload=message.payload,
        )

    def page(
        self,
        now: datetime,
        statuses: Collection[MessageStatus] = UNDELIVERED,
        topic: str | None = None,
        page: PageRequest = PageRequest(),
    ) -> Page[MessageView]:
        """Messages in any of ``statuses`` (by default every one not delivered), newest first."""
        rows = self.messages.page(statuses or UNDELIVERED, topic, now, page)
        return rows.shown_as([self.view(row, now) for row in rows.rows])

    def find(self, reference: str) -> OutboxMessage:
        """A message by its id, or by the first characters of it (at least six, as the list shows eight)."""
        hex_digits = reference.strip().lower().replace("-", "")
        if not _HEX_ID.fullmatch(hex_digits) or len(hex_digits) < SHORTEST_ID_PREFIX:
            raise InvalidInput(
                f"{reference!r} is not a message id: give the id, or at least its first "
                f"{SHORTEST_ID_PREFIX} characters, as `mercato outbox list` shows them."
            )
        if len(hex_digits) == 32:
            message = self.messages.get(uuid.UUID(hex_digits))
            matches = [message] if message is not None else []
        else:
            matches = list(self.messages.with_id_prefix(hex_digits, limit=2))
        if not matches:
            raise NotFound(f"There is no outbox message {reference}.")
        if len(matches) > 1:
            raise InvalidInput(f"More than one outbox message starts with {reference}; give more characters.")
        return matches[0]

    def retry(self, reference: str, now: datetime) -> MessageView:
        """Make an undelivered message (dead, or waiting for its next attempt) due now, with a fresh retry
        horizon. A delivered message, or one a worker is delivering right now, is refused."""
        message = self.find(reference)
        status = status_of(message, now)
        if status is MessageStatus.DELIVERED:
            assert message.delivered_at is not None
            raise Conflict(
                f"Outbox message {message.id} was delivered on {message.delivered_at:%Y-%m-%d %H:%M} UTC; "
                "there is nothing to send again.",
                message_status=status.value,
            )
        if status is MessageStatus.SENDING or not self.messages.requeue(message.id, now):
            raise Conflict(
                f"Outbox message {message.id} is being delivered right now (a worker holds it until "
                f"{message.available_at:%H:%M:%S} UTC). If it is not delivered by then, retry it.",
                message_status=MessageStatus.SENDING.value,
            )
        self.messages.session.refresh(message)
        return self.view(message, now)

    def send_copy(self, reference: str, now: datetime) -> MessageView:
        """A delivered message sent once more, as a new message (the original stays in the log as it was): for a
        customer who lost an invoice or a key e-mail. A copy made in the last minute is answered instead of a
        second one, so a double click or a repeated post sends one copy."""
        original = self.find(reference)
        if status_of(original, now) is not MessageStatus.DELIVERED:
            raise Conflict(
                f"Outbox message {original.id} has not been delivered yet; send it again (retry) instead of "
                "copying it.",
                message_status=status_of(original, now).value,
            )
        recent = self.messages.copies_made_since(original, now - COPY_GUARD)
        if recent:
            return self.view(recent[0], now)
        copy = enqueue(
            self.messages.session, original.topic, {**original.payload, "copy_of": str(original.id)}
        )
        copy.created_at = now
        copy.available_at = now
        self.messages.session.flush()
        return self.view(copy, now)

    def retry_dead(self, now: datetime) -> list[MessageView]:
        """Send every dead message again, each with a fresh retry horizon."""
        retried = []
        for message_id in self.messages.dead_ids():
            if self.messages.requeue(message_id, now):
                message = self.messages.get(message_id)
                assert message is not None
                self.messages.session.refresh(message)
                retried.append(self.view(message, now))
        return retried
