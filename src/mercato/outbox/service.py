"""Writing outbox messages: in the caller's transaction, so they exist exactly when the change that caused
them is committed. Nothing here commits or sends; ``mercato worker`` delivers after the commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from mercato.mail.templates import RenderedEmail
from mercato.outbox.emails import EMAIL_TOPIC, EmailAttachment, email_payload
from mercato.outbox.models import OutboxMessage
from mercato.outbox.repository import OutboxRepository


def enqueue(
    session: Session, topic: str, payload: dict[str, Any], available_at: datetime | None = None
) -> OutboxMessage:
    """Add a message to the outbox in the session's transaction (flushed, not committed).

    ``available_at`` delays delivery (an aware UTC datetime); by default the worker may deliver it as soon as
    the transaction commits. The payload must be JSON-serialisable.
    """
    message = OutboxMessage(topic=topic, payload=payload)
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
