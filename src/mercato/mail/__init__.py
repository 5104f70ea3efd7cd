"""Sending e-mail: a ``Mailer`` protocol, the SMTP mailer and a recording fake for tests."""

from mercato.mail.mailer import (
    Attachment,
    Mailer,
    OutgoingEmail,
    RecipientsRefused,
    RecordingMailer,
    SmtpMailer,
    SmtpSecurity,
    compose_message,
)

__all__ = [
    "Attachment",
    "Mailer",
    "OutgoingEmail",
    "RecipientsRefused",
    "RecordingMailer",
    "SmtpMailer",
    "SmtpSecurity",
    "compose_message",
]
