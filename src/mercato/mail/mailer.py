"""Mailers: what sends a composed e-mail. The outbox worker is their only caller, so a rolled-back change never
reaches one (see docs/email-and-jobs.md)."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mercato.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class OutgoingEmail:
    """An e-mail as Mercato writes it: who gets it, what it says; the mailer adds the sender and the date."""

    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    message_id: str | None = None
    """A stable ``Message-ID``: a retried e-mail keeps it, so a duplicate can be recognised as one."""


class RecipientsRefused(Exception):
    """The server refused every recipient permanently (SMTP 5xx): sending again cannot succeed."""


class Mailer(Protocol):
    def send(self, email: OutgoingEmail) -> None:
        """Hand the e-mail over for delivery, or raise. Returning means the server accepted it."""
        ...


def compose_message(email: OutgoingEmail, sender: str) -> EmailMessage:
    """The MIME message sent on the wire: plain text, an HTML alternative when given, then the attachments."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(email.to)
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    if email.message_id:
        message["Message-ID"] = email.message_id
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    for attachment in email.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return message


class SmtpSecurity(StrEnum):
    NONE = "none"
    """Plain SMTP: a relay on the same machine or network, or a local test server."""
    STARTTLS = "starttls"
    """Connect in plain text, then upgrade with STARTTLS before logging in (usually port 587)."""
    SSL = "ssl"
    """TLS from the first byte (usually port 465)."""


class SmtpMailer:
    """Sends each e-mail over its own SMTP connection: simple, and a broken connection never spans messages."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        security: SmtpSecurity = SmtpSecurity.NONE,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.security = SmtpSecurity(security)
        self.username = username
        self.password = password
        self.timeout = timeout
        # The system's trusted CAs and hostname checks unless a caller (a test, a private CA) brings its own.
        self.tls_context = tls_context or ssl.create_default_context()

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpMailer:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.mail_from,
            security=SmtpSecurity(settings.smtp_security),
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            timeout=settings.smtp_timeout_seconds,
        )

    def connect(self) -> smtplib.SMTP:
        """An SMTP session secured as the settings ask, not yet logged in."""
        if self.security is SmtpSecurity.SSL:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self.tls_context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security is SmtpSecurity.STARTTLS:
            try:
                smtp.starttls(context=self.tls_context)
            except BaseException:
                smtp.close()
                raise
        return smtp

    def send(self, email: OutgoingEmail) -> None:
        message = compose_message(email, self.sender)
        with self.connect() as smtp:
            if self.username:
                smtp.login(self.username, self.password or "")
            try:
                refused = smtp.send_message(message)
            except smtplib.SMTPRecipientsRefused as error:
                # 4xx means "try later" (a full mailbox, greylisting); only an all-5xx refusal is final.
                if all(code >= 500 for code, _ in error.recipients.values()):
                    raise RecipientsRefused(_describe_refusals(error.recipients)) from error
                raise
        if refused:
            # Some recipients got it: sending again would duplicate it for them, so the e-mail counts as sent.
            log.warning("SMTP server refused some recipients: %s", _describe_refusals(refused))


def _describe_refusals(refusals: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address}: {code} {reply.decode(errors='replace')}" for address, (code, reply) in refusals.items()
    )


@dataclass
class RecordingMailer:
    """A mailer for tests and development that keeps what it would have sent.

    Set ``failure`` to make every ``send`` raise it, as an unreachable or refusing server would.
    """

    sender: str = "Mercato <mercato@localhost>"
    sent: list[EmailMessage] = field(default_factory=list)
    failure: Exception | None = None

    def send(self, email: OutgoingEmail) -> None:
        if self.failure is not None:
            raise self.failure
        self.sent.append(compose_message(email, self.sender))
