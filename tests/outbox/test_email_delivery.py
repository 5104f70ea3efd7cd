"""E-mail through the whole path: an outbox row committed with the change, the worker, a real SMTP server."""

from __future__ import annotations

import base64
import uuid

from sqlalchemy.orm import Session, sessionmaker

from mail.smtp_server import SmtpTestServer, refusing_port
from mercato.clock import FixedClock
from mercato.outbox.emails import EmailAttachment
from mercato.outbox.models import OutboxMessage
from mercato.outbox.service import enqueue_email
from outbox.doubles import MakeWorker, smtp_handlers

INVOICE_PDF = b"%PDF-1.7\n% an invoice, in spirit\n"


def invoice_attachment() -> EmailAttachment:
    return {
        "filename": "INV-2026-0042.pdf",
        "content_type": "application/pdf",
        "content_base64": base64.b64encode(INVOICE_PDF).decode(),
    }


def enqueue_invoice_email(session: Session) -> uuid.UUID:
    message = enqueue_email(
        session,
        to=["ada@example.com", "accounts@example.com"],
        subject="Invoice INV-2026-0042",
        text="Dear Ada,\nyour invoice is attached.\n",
        html="<p>Dear Ada,<br>your invoice is attached.</p>",
        attachments=[invoice_attachment()],
    )
    return message.id


def stored(session_factory: sessionmaker[Session], message_id: uuid.UUID) -> OutboxMessage:
    with session_factory() as session:
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        return message


def test_a_committed_email_reaches_the_smtp_server_with_its_recipients_text_and_attachment(
    session_factory: sessionmaker[Session], make_worker: MakeWorker, smtp_server: SmtpTestServer
) -> None:
    with session_factory() as session, session.begin():
        message_id = enqueue_invoice_email(session)
    assert smtp_server.received == []  # committing sends nothing by itself: the worker does

    report = make_worker(smtp_handlers(smtp_server.port)).drain()

    assert report.delivered == 1
    [received] = smtp_server.received
    assert received.mail_from == "mercato@example.com"
    assert received.rcpt_tos == ["ada@example.com", "accounts@example.com"]
    email = received.message
    assert email["Subject"] == "Invoice INV-2026-0042"
    assert email["To"] == "ada@example.com, accounts@example.com"
    assert email["Message-ID"] == f"<{message_id}@outbox.mercato>"
    text = email.get_body(preferencelist=("plain",))
    assert text is not None and text.get_content() == "Dear Ada,\nyour invoice is attached.\n"
    [attachment] = email.iter_attachments()
    assert attachment.get_filename() == "INV-2026-0042.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == INVOICE_PDF
    assert stored(session_factory, message_id).delivered_at is not None


def test_a_rolled_back_change_sends_no_email(
    session_factory: sessionmaker[Session], make_worker: MakeWorker, smtp_server: SmtpTestServer
) -> None:
    with session_factory() as session:
        session.begin()
        enqueue_invoice_email(session)
        session.rollback()  # e.g. the purchase failed after the e-mail was queued

    assert make_worker(smtp_handlers(smtp_server.port)).drain().settled == 0
    assert smtp_server.received == []


def test_an_email_waits_out_a_server_outage_and_goes_when_the_server_is_back(
    session_factory: sessionmaker[Session], make_worker: MakeWorker, clock: FixedClock
) -> None:
    with refusing_port() as port:  # nothing listens there yet: the SMTP server is down
        with session_factory() as session, session.begin():
            message_id = enqueue_invoice_email(session)
        worker = make_worker(smtp_handlers(port))

        assert worker.drain().retrying == 1
        message = stored(session_factory, message_id)
        assert message.attempts == 1
        assert message.last_error is not None and message.last_error.startswith("ConnectionRefusedError")
        assert (message.available_at - clock.now()).total_seconds() == 30

        server = SmtpTestServer(port=port).start()
    try:
        clock.advance(seconds=10)
        assert worker.drain().settled == 0  # backing off, even though the server is back
        clock.advance(seconds=20)
        assert worker.drain().delivered == 1
        assert [received.message["Subject"] for received in server.received] == ["Invoice INV-2026-0042"]
    finally:
        server.stop()
    message = stored(session_factory, message_id)
    assert message.attempts == 2 and message.delivered_at == clock.now()


def test_an_email_every_recipient_refuses_is_parked_dead_at_once(
    session_factory: sessionmaker[Session], make_worker: MakeWorker
) -> None:
    server = SmtpTestServer(refuse_recipients_with="550 5.1.1 No such mailbox").start()
    try:
        with session_factory() as session, session.begin():
            message_id = enqueue_invoice_email(session)
        assert make_worker(smtp_handlers(server.port)).drain().dead == 1
    finally:
        server.stop()
    message = stored(session_factory, message_id)
    assert message.attempts == 1 and message.dead_at is not None
    assert message.last_error is not None and "550" in message.last_error
