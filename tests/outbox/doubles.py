"""Test doubles of the outbox tests: a receiver that records deliveries, handlers that send e-mail to the
loopback SMTP server, and messages in every state."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from mercato.clock import FixedClock
from mercato.mail import SmtpMailer
from mercato.outbox.emails import EMAIL_TOPIC
from mercato.outbox.handlers import DeliveryContext, HandlerRegistry, Undeliverable
from mercato.outbox.service import enqueue_email
from mercato.outbox.worker import OutboxWorker, standard_handlers
from mercato.settings import Settings

TOPIC = "test.ping"
MakeWorker = Callable[..., OutboxWorker]


@dataclass
class Receiver:
    """A handler that records each delivery, and fails the first ``failures`` attempts."""

    failures: int = 0
    error: Exception = field(default_factory=lambda: ConnectionError("receiver unreachable"))
    received: list[tuple[dict[str, Any], DeliveryContext]] = field(default_factory=list)
    attempts: int = 0

    def __call__(self, payload: dict[str, Any], context: DeliveryContext) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise self.error
        self.received.append((payload, context))

    def registry(self) -> HandlerRegistry:
        return HandlerRegistry([(TOPIC, self)])

    @property
    def payloads(self) -> list[dict[str, Any]]:
        return [payload for payload, _ in self.received]


def smtp_handlers(port: int) -> HandlerRegistry:
    mailer = SmtpMailer(host="127.0.0.1", port=port, sender="Mercato <mercato@example.com>", timeout=5)
    return standard_handlers(Settings(), mailer)


def messages_in_every_state(
    session_factory: sessionmaker[Session], clock: FixedClock
) -> dict[str, uuid.UUID]:
    """One e-mail per state an operator meets, made the way the worker makes them: subject → message id.

    "delivered" was sent; "dead" was refused for good; "retrying" failed once and waits; "pending" waits for
    its first attempt, tomorrow."""

    def deliver(payload: dict[str, Any], context: DeliveryContext) -> None:
        if payload["subject"] == "dead":
            raise Undeliverable("every recipient was refused: 550 No such mailbox")
        if payload["subject"] == "retrying":
            raise ConnectionRefusedError(111, "Connection refused")

    ids = {}
    with session_factory() as session, session.begin():
        for subject in ("delivered", "dead", "retrying"):
            ids[subject] = enqueue_email(session, [f"{subject}@example.com"], subject, "Hello.").id
            clock.advance(seconds=1)
    OutboxWorker(session_factory, HandlerRegistry([(EMAIL_TOPIC, deliver)]), clock=clock).drain()
    with session_factory() as session, session.begin():
        tomorrow = clock.now() + timedelta(days=1)
        ids["pending"] = enqueue_email(
            session, ["pending@example.com"], "pending", "Hi.", available_at=tomorrow
        ).id
    return ids
