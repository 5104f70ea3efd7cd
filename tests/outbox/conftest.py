"""Outbox fixtures: a clock the tests move by hand, a real SMTP server on loopback, and workers wired to both."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from mail.smtp_server import SmtpTestServer
from mercato.clock import FixedClock, utcnow
from mercato.outbox.handlers import HandlerRegistry
from mercato.outbox.worker import OutboxWorker, RetryPolicy


@pytest.fixture
def clock() -> FixedClock:
    """A minute ahead of the real clock, so every message enqueued during a test is already due."""
    return FixedClock(utcnow() + timedelta(minutes=1))


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    server = SmtpTestServer().start()
    yield server
    server.stop()


@pytest.fixture
def make_worker(session_factory: sessionmaker[Session], clock: FixedClock) -> Callable[..., OutboxWorker]:
    """Workers on the test's rolled-back connection, with the default policy unless told otherwise."""

    def make(handlers: HandlerRegistry, **policy: Any) -> OutboxWorker:
        batch_size = policy.pop("batch_size", 20)
        return OutboxWorker(session_factory, handlers, RetryPolicy(**policy), batch_size, clock)

    return make
