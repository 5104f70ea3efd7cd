"""The ``email`` topic: the payload an e-mail is stored as, and the handler that sends it through a mailer."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any, TypedDict

from mercato.mail import Attachment, Mailer, OutgoingEmail, RecipientsRefused
from mercato.outbox.handlers import DeliveryContext, Undeliverable

EMAIL_TOPIC = "email"


class EmailAttachment(TypedDict):
    filename: str
    content_type: str
    content_base64: str
    """Standard base64: outbox payloads are JSON."""


def email_payload(
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None,
    attachments: Sequence[EmailAttachment],
) -> dict[str, Any]:
    """The JSON payload of an ``email`` message. Checked here, in the caller's transaction, so a malformed
    e-mail fails the change that writes it instead of failing eight times in the worker."""
    recipients = [address.strip() for address in to]
    if not recipients or not all(recipients):
        raise ValueError("an e-mail needs at least one recipient, and no empty address")
    if any("\n" in address or "\r" in address for address in recipients):
        raise ValueError("an e-mail address cannot contain a line break")
    if "\n" in subject or "\r" in subject:
        raise ValueError("an e-mail subject is one line")
    for attachment in attachments:
        _decode(attachment)
        if "/" not in attachment["content_type"]:
            raise ValueError(
                f"attachment {attachment['filename']!r}: content_type must be like 'type/subtype'"
            )
    return {
        "to": recipients,
        "subject": subject,
        "text": text,
        "html": html,
        "attachments": [dict(attachment) for attachment in attachments],
    }


def _decode(attachment: EmailAttachment) -> bytes:
    try:
        return base64.b64decode(attachment["content_base64"], validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError(f"attachment {attachment['filename']!r} is not valid base64") from error


def outgoing_email(payload: dict[str, Any], context: DeliveryContext) -> OutgoingEmail:
    return OutgoingEmail(
        to=tuple(payload["to"]),
        subject=payload["subject"],
        text=payload["text"],
        html=payload.get("html"),
        attachments=tuple(
            Attachment(item["filename"], item["content_type"], _decode(item))
            for item in payload.get("attachments", [])
        ),
        message_id=f"<{context.message_id}@outbox.mercato>",
    )


class EmailDelivery:
    """The handler of the ``email`` topic."""

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer

    def __call__(self, payload: dict[str, Any], context: DeliveryContext) -> None:
        try:
            self.mailer.send(outgoing_email(payload, context))
        except RecipientsRefused as refusal:
            raise Undeliverable(f"every recipient was refused: {refusal}") from refusal
