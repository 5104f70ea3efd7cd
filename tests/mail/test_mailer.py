"""The SMTP mailer against a real SMTP server on loopback, and the recording fake against the same contract."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from mail.smtp_server import SmtpTestServer, refusing_port, self_signed_certificate
from mercato.mail import (
    Attachment,
    OutgoingEmail,
    RecipientsRefused,
    RecordingMailer,
    SmtpMailer,
    SmtpSecurity,
    compose_message,
)
from mercato.mail.mailer import Mailer
from mercato.settings import Settings

SENDER = "Mercato <billing@mercato.test>"
INVOICE = OutgoingEmail(
    to=("ada@example.com", "accounts@example.com"),
    subject="Invoice INV-2026-0042",
    text="Your invoice is attached.\n",
    html="<p>Your invoice is <b>attached</b>.</p>",
    attachments=(Attachment("INV-2026-0042.pdf", "application/pdf", b"%PDF-1.7 fake invoice"),),
    message_id="<6f1c@outbox.mercato>",
)

Inbox = Callable[[], list[EmailMessage]]


@pytest.fixture(params=["smtp", "recording"])
def mailer_and_inbox(request: pytest.FixtureRequest) -> Iterator[tuple[Mailer, Inbox]]:
    if request.param == "smtp":
        server = SmtpTestServer().start()
        yield (
            SmtpMailer(host="127.0.0.1", port=server.port, sender=SENDER),
            lambda: [received.message for received in server.received],
        )
        server.stop()
    else:
        recording = RecordingMailer(sender=SENDER)
        yield recording, lambda: recording.sent


def test_mailer_delivers_recipients_subject_text_html_and_attachment(
    mailer_and_inbox: tuple[Mailer, Inbox],
) -> None:
    mailer, inbox = mailer_and_inbox
    mailer.send(INVOICE)

    [message] = inbox()
    assert message["From"] == SENDER
    assert message["To"] == "ada@example.com, accounts@example.com"
    assert message["Subject"] == "Invoice INV-2026-0042"
    assert message["Message-ID"] == "<6f1c@outbox.mercato>"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and text.get_content() == "Your invoice is attached.\n"
    assert html is not None and "<b>attached</b>" in html.get_content()
    [attachment] = message.iter_attachments()
    assert attachment.get_filename() == "INV-2026-0042.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == b"%PDF-1.7 fake invoice"


def test_smtp_envelope_goes_from_the_sender_to_every_recipient(smtp_server: SmtpTestServer) -> None:
    SmtpMailer(host="127.0.0.1", port=smtp_server.port, sender=SENDER).send(INVOICE)
    [received] = smtp_server.received
    assert received.mail_from == "billing@mercato.test"
    assert received.rcpt_tos == ["ada@example.com", "accounts@example.com"]


def test_a_text_only_email_is_a_single_plain_part() -> None:
    message = compose_message(OutgoingEmail(("ada@example.com",), "Hello", "Just text."), SENDER)
    assert message.get_content_type() == "text/plain"
    assert message["Message-ID"] is None
    assert message["Date"]


def test_an_unreachable_server_raises_so_the_worker_retries() -> None:
    with refusing_port() as port:
        mailer = SmtpMailer(host="127.0.0.1", port=port, sender=SENDER, timeout=2)
        with pytest.raises(ConnectionRefusedError):
            mailer.send(INVOICE)


def test_every_recipient_refused_for_good_is_final() -> None:
    server = SmtpTestServer(refuse_recipients_with="550 5.1.1 No such mailbox").start()
    try:
        with pytest.raises(RecipientsRefused, match="550"):
            SmtpMailer(host="127.0.0.1", port=server.port, sender=SENDER).send(INVOICE)
    finally:
        server.stop()


def test_a_temporary_refusal_stays_retryable() -> None:
    server = SmtpTestServer(refuse_recipients_with="450 4.2.1 Mailbox busy, try later").start()
    try:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refusal:
            SmtpMailer(host="127.0.0.1", port=server.port, sender=SENDER).send(INVOICE)
        assert not isinstance(refusal.value, RecipientsRefused)
    finally:
        server.stop()


def _accept_only(username: str, password: str) -> Callable[..., AuthResult]:
    def authenticate(
        server: object, session: object, envelope: object, mechanism: str, data: object
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == username
            and data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False)

    return authenticate


def test_starttls_upgrades_the_connection_before_logging_in(tmp_path: Path) -> None:
    certificate = self_signed_certificate(tmp_path)
    server = SmtpTestServer(
        tls_context=certificate.server_context,
        require_starttls=True,
        authenticator=_accept_only("mercato", "s3cret"),
    ).start()
    try:
        common = {"host": "127.0.0.1", "port": server.port, "sender": SENDER}
        with pytest.raises(smtplib.SMTPException):  # the server insists on TLS before anything else
            SmtpMailer(**common, username="mercato", password="s3cret").send(INVOICE)
        with pytest.raises(smtplib.SMTPAuthenticationError):
            SmtpMailer(
                **common,
                security=SmtpSecurity.STARTTLS,
                username="mercato",
                password="wrong",
                tls_context=certificate.client_context,
            ).send(INVOICE)
        SmtpMailer(
            **common,
            security=SmtpSecurity.STARTTLS,
            username="mercato",
            password="s3cret",
            tls_context=certificate.client_context,
        ).send(INVOICE)
        assert len(server.received) == 1
    finally:
        server.stop()


def test_ssl_mode_speaks_tls_from_the_first_byte(tmp_path: Path) -> None:
    certificate = self_signed_certificate(tmp_path)
    server = SmtpTestServer(ssl_context=certificate.server_context).start()
    try:
        SmtpMailer(
            host="127.0.0.1",
            port=server.port,
            sender=SENDER,
            security=SmtpSecurity.SSL,
            tls_context=certificate.client_context,
        ).send(INVOICE)
        assert [received.message["Subject"] for received in server.received] == ["Invoice INV-2026-0042"]
    finally:
        server.stop()


def test_tls_checks_the_server_certificate(tmp_path: Path) -> None:
    certificate = self_signed_certificate(tmp_path)
    server = SmtpTestServer(ssl_context=certificate.server_context).start()
    try:
        # The system's trusted authorities do not know a self-signed certificate: no mail over a doubtful line.
        mailer = SmtpMailer(host="127.0.0.1", port=server.port, sender=SENDER, security=SmtpSecurity.SSL)
        with pytest.raises(ssl.SSLCertVerificationError):
            mailer.send(INVOICE)
        assert server.received == []
    finally:
        server.stop()


def test_smtp_mailer_takes_its_settings_from_the_environment_names() -> None:
    settings = Settings(
        smtp_host="smtp.example.com",
        smtp_port=587,
        smtp_security="starttls",
        smtp_username="mercato",
        smtp_password="s3cret",
        smtp_timeout_seconds=12,
        mail_from="Shop <shop@example.com>",
    )
    mailer = SmtpMailer.from_settings(settings)
    assert (mailer.host, mailer.port, mailer.security) == ("smtp.example.com", 587, SmtpSecurity.STARTTLS)
    assert (mailer.username, mailer.password, mailer.timeout) == ("mercato", "s3cret", 12)
    assert mailer.sender == "Shop <shop@example.com>"
    assert "s3cret" not in repr(settings)


def test_recording_mailer_fails_like_a_broken_server_when_told_to() -> None:
    mailer = RecordingMailer(failure=ConnectionRefusedError("down"))
    with pytest.raises(ConnectionRefusedError):
        mailer.send(INVOICE)
    assert mailer.sent == []
