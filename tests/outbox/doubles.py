"""Test doubles of the outbox tests: a receiver that records deliveries, and handlers
that send e-mail to the loopback SMTP server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mercato.mail import SmtpMailer
from mercato.outbox.handlers import DeliveryContext, HandlerRegistry
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
