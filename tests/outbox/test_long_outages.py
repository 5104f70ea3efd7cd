"""A long SMTP outage, lived through with the clock: e-mail is kept and retried for its whole retry horizon
(three days by default), delivered within an hour of the server's return, and parked as dead, not dropped,
when the outage outlasts the horizon."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from mail.smtp_server import SmtpTestServer, refusing_port
from mercato.clock import FixedClock
from mercato.outbox.models import OutboxMessage
from mercato.outbox.service import enqueue_email
from mercato.outbox.worker import OutboxWorker
from outbox.doubles import MakeWorker, smtp_handlers


def enqueue_invoice(session_factory: sessionmaker[Session]) -> uuid.UUID:
    with session_factory() as session, session.begin():
        return enqueue_email(session, ["ada@example.com"], "Invoice INV-2026-0042", "Your invoice.").id


def stored(session_factory: sessionmaker[Session], message_id: uuid.UUID) -> OutboxMessage:
    with session_factory() as session:
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        return message


def live_through_outage(
    worker: OutboxWorker,
    session_factory: sessionmaker[Session],
    message_id: uuid.UUID,
    clock: FixedClock,
    outage: timedelta,
) -> list[timedelta]:
    """Run the worker at each moment the message is due until ``outage`` has passed or the message is parked;
    returns the waits between attempts."""
    ends = clock.now() + outage
    waits = []
    while clock.now() < ends:
        assert worker.drain().settled == 1
        message = stored(session_factory, message_id)
        if message.dead_at is not None:
            break
        waits.append(message.available_at - clock.now())
        clock.advance(seconds=waits[-1].total_seconds())
    return waits


def test_an_email_is_kept_through_a_sixty_hour_smtp_outage_and_delivered_when_the_server_returns(
    session_factory: sessionmaker[Session], make_worker: MakeWorker, clock: FixedClock
) -> None:
    with refusing_port() as port:  # nothing listens there: the mail server is down
        message_id = enqueue_invoice(session_factory)
        worker = make_worker(smtp_handlers(port))  # the default policy: a 72-hour horizon

        waits = live_through_outage(worker, session_factory, message_id, clock, timedelta(hours=60))

        message = stored(session_factory, message_id)
        assert (message.dead_at, message.delivered_at) == (None, None)
        assert message.last_error is not None and "Connection refused" in message.last_error
        assert max(waits) == timedelta(hours=1)  # never more than an hour between two attempts
        # Eight attempts in the first 63.5 minutes (30 s doubling), then one an hour until the 60th hour.
        assert message.attempts == len(waits) == 8 + 58
        server = SmtpTestServer(port=port).start()
        try:
            clock.advance(hours=1)
            assert worker.drain().delivered == 1
            assert [received.message["Subject"] for received in server.received] == ["Invoice INV-2026-0042"]
        finally:
            server.stop()
        assert stored(session_factory, message_id).delivered_at == clock.now()


def test_an_email_failing_past_its_horizon_is_parked_dead_and_kept(
    session_factory: sessionmaker[Session], make_worker: MakeWorker, clock: FixedClock
) -> None:
    message_id = enqueue_invoice(session_factory)
    with refusing_port() as port:
        worker = make_worker(smtp_handlers(port), horizon=timedelta(hours=72))
        first_attempt_at = clock.now()
        live_through_outage(worker, session_factory, message_id, clock, timedelta(days=5))

    message = stored(session_factory, message_id)
    assert message.dead_at is not None and message.delivered_at is None
    assert first_attempt_at + timedelta(hours=72) <= message.dead_at < first_attempt_at + timedelta(hours=73)
    assert message.payload["subject"] == "Invoice INV-2026-0042"  # kept, ready to be sent again
    clock.advance(days=30)
    assert worker.drain().settled == 0  # only an operator sends a dead message again
