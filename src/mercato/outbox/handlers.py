"""Which handler delivers which topic, and what a handler is told and may raise."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class DeliveryContext:
    """What a handler knows besides the payload.

    ``message_id`` is the same on every attempt: use it as an idempotency key (an e-mail's ``Message-ID``, a
    webhook's ``webhook-id``) so a receiver can recognise a redelivery.
    """

    message_id: uuid.UUID
    topic: str
    attempt: int
    """1 on the first attempt."""
    created_at: datetime


Handler = Callable[[dict[str, Any], DeliveryContext], None]
"""Delivers one message or raises. Any exception is a failure retried later; ``Undeliverable`` is final."""


class Undeliverable(Exception):
    """Raised by a handler when trying again cannot help (e.g. every recipient refused): the message is parked
    as dead at once."""


class UnknownTopic(LookupError):
    """No handler for the topic. Retried like any failure: during a rolling upgrade an older worker may claim a
    message that only the newer version knows how to deliver."""


class HandlerRegistry:
    """Topic → handler. Each feature registers the topics it enqueues."""

    def __init__(self, handlers: Iterable[tuple[str, Handler]] = ()) -> None:
        self._handlers: dict[str, Handler] = {}
        for topic, handler in handlers:
            self.register(topic, handler)

    def register(self, topic: str, handler: Handler) -> None:
        if topic in self._handlers:
            raise ValueError(f"topic {topic!r} already has a handler")
        self._handlers[topic] = handler

    def handler_for(self, topic: str) -> Handler:
        try:
            return self._handlers[topic]
        except KeyError:
            known = ", ".join(sorted(self._handlers)) or "none"
            raise UnknownTopic(
                f"no handler for topic {topic!r} in this worker (known topics: {known})"
            ) from None

    def __contains__(self, topic: object) -> bool:
        return topic in self._handlers
