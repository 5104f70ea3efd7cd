"""The outbox worker: claims due messages under a lease, delivers them, and records what happened.

Delivery is at least once. A claim is a short committed transaction that pushes the messages' ``available_at``
to the end of a lease and stamps them with the claim's token; it spends no attempt. Each delivery then counts
its attempt in a transaction of its own as it starts, runs outside any transaction, and commits its result on
its own. A worker that dies right after a claim costs its batch one lease of delay and nothing else; one that
dies between a delivery and its record leaves the message to be delivered again when the lease runs out, so
handlers pass ``DeliveryContext.message_id`` along as an idempotency key. A live worker never starts a
delivery once half of its lease has gone, which keeps a slow batch from outliving its lease.

A failing message is retried with exponential back-off until its retry horizon (72 hours by default) has
passed since its first attempt; the first failure after that parks it as dead, where an operator finds it
(``mercato outbox list``) and sends it again (``mercato outbox retry``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from mercato.clock import Clock, SystemClock
from mercato.database import make_session_factory
from mercato.mail import Mailer, SmtpMailer
from mercato.outbox.emails import EMAIL_TOPIC, EmailDelivery
from mercato.outbox.handlers import DeliveryContext, HandlerRegistry, Undeliverable
from mercato.outbox.repository import ABANDONED, ClaimedMessage, OutboxRepository
from mercato.settings import Settings, get_settings
from mercato.webhooks.delivery import WebhookSender
from mercato.webhooks.service import WEBHOOK_TOPIC

log = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True)
class RetryPolicy:
    """How long a claim lasts, how long to wait after each failure, and when to stop trying."""

    lease: timedelta = timedelta(minutes=5)
    retry_base: timedelta = timedelta(seconds=30)
    retry_max: timedelta = timedelta(hours=1)
    horizon: timedelta = timedelta(hours=72)
    """How long after its first attempt a failing message is still retried."""

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            lease=timedelta(seconds=settings.outbox_lease_seconds),
            retry_base=timedelta(seconds=settings.outbox_retry_base_seconds),
            retry_max=timedelta(seconds=settings.outbox_retry_max_seconds),
            horizon=timedelta(hours=settings.outbox_retry_horizon_hours),
        )

    def retry_delay(self, failed_attempt: int) -> timedelta:
        """30 s after the first failure, then doubling (60 s, 120 s, …), never more than ``retry_max``."""
        # The exponent is capped so that a long horizon cannot overflow timedelta before min() applies.
        return min(self.retry_base * (1 << min(max(failed_attempt - 1, 0), 32)), self.retry_max)

    def parks_dead(self, first_attempt_at: datetime, failed_at: datetime) -> bool:
        """Whether a failure at ``failed_at`` ends the message's retries: its horizon has passed."""
        return failed_at >= first_attempt_at + self.horizon


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRYING = "retrying"
    DEAD = "dead"
    LOST_CLAIM = "lost claim"
    """The claim ran out and another worker (or an operator) took the message over: nothing recorded."""


@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    released: int = 0
    """Claimed but handed back unattempted (the worker was stopping, or half the lease had gone)."""

    def count(self, outcome: Outcome) -> None:
        if outcome is Outcome.DELIVERED:
            self.delivered += 1
        elif outcome is Outcome.RETRYING:
            self.retrying += 1
        elif outcome is Outcome.DEAD:
            self.dead += 1

    def __iadd__(self, other: DeliveryReport) -> DeliveryReport:
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.dead += other.dead
        self.released += other.released
        return self

    @property
    def settled(self) -> int:
        """Messages that reached a result in this run: delivered, scheduled for a retry, or parked as dead."""
        return self.delivered + self.retrying + self.dead


@dataclass(frozen=True)
class Claim:
    messages: list[ClaimedMessage]
    abandoned: DeliveryReport
    """What became of attempts found abandoned while claiming (retrying later, or dead)."""
    claimed_at: datetime


def standard_handlers(
    settings: Settings,
    mailer: Mailer | None = None,
    session_factory: sessionmaker[Session] | None = None,
    clock: Clock | None = None,
) -> HandlerRegistry:
    """The topics Mercato enqueues and their handlers; e-mail goes through SMTP unless a mailer is given.
    Webhooks need the database (their delivery log): given a session factory, they are delivered too."""
    handlers = HandlerRegistry([(EMAIL_TOPIC, EmailDelivery(mailer or SmtpMailer.from_settings(settings)))])
    if session_factory is not None:
        handlers.register(WEBHOOK_TOPIC, WebhookSender(session_factory, settings, clock))
    return handlers


class OutboxWorker:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        handlers: HandlerRegistry,
        policy: RetryPolicy | None = None,
        batch_size: int = 20,
        clock: Clock | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.handlers = handlers
        self.policy = policy or RetryPolicy()
        self.batch_size = batch_size
        self.clock = clock or SystemClock()

    def claim(self) -> Claim:
        """Lease the next batch of due messages in one short transaction. Attempts that a dead or hung worker
        started and never reported are settled first, as failures."""
        now = self.clock.now()
        abandoned = DeliveryReport()
        with self.session_factory() as session, session.begin():
            repository = OutboxRepository(session)
            for attempt in repository.abandoned_attempts(now):
                dead = self.policy.parks_dead(attempt.first_attempt_at or now, now)
                retry_at = None if dead else now + self.policy.retry_delay(attempt.attempts)
                if repository.record_failure(attempt.id, attempt.lease_token, ABANDONED, retry_at, now):
                    abandoned.count(Outcome.DEAD if dead else Outcome.RETRYING)
            messages = repository.claim(now, now + self.policy.lease, self.batch_size)
        if abandoned.settled:
            log.warning(
                "%d outbox attempt(s) ran out of their lease without reporting: %d to retry, %d dead",
                abandoned.settled,
                abandoned.retrying,
                abandoned.dead,
            )
        return Claim(messages, abandoned, now)

    def deliver(self, message: ClaimedMessage) -> Outcome:
        """Count the attempt, run the message's handler outside any transaction, then record the result in a
        transaction of its own. A handler's exception never escapes: it becomes a retry or, once the retry
        horizon has passed (or at once for ``Undeliverable``), a dead message."""
        started_at = self.clock.now()
        with self.session_factory() as session, session.begin():
            started = OutboxRepository(session).start_attempt(message.id, message.lease_token, started_at)
        if not started:
            log.warning("outbox message %s: claim lost before its attempt started", message.id)
            return Outcome.LOST_CLAIM
        context = DeliveryContext(message.id, message.topic, message.attempt, message.created_at)
        first_attempt_at = message.first_attempt_at or started_at
        try:
            self.handlers.handler_for(message.topic)(message.payload, context)
        except Undeliverable as error:
            return self._record_failure(message, error, first_attempt_at, undeliverable=True)
        except Exception as error:
            return self._record_failure(message, error, first_attempt_at, undeliverable=False)
        with self.session_factory() as session, session.begin():
            OutboxRepository(session).mark_delivered(message.id, self.clock.now())
        return Outcome.DELIVERED

    def _record_failure(
        self, message: ClaimedMessage, error: Exception, first_attempt_at: datetime, *, undeliverable: bool
    ) -> Outcome:
        now = self.clock.now()
        description = f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]
        dead = undeliverable or self.policy.parks_dead(first_attempt_at, now)
        retry_at = None if dead else now + self.policy.retry_delay(message.attempt)
        with self.session_factory() as session, session.begin():
            recorded = OutboxRepository(session).record_failure(
                message.id, message.lease_token, description, retry_at, now
            )
        if not recorded:
            log.warning(
                "outbox message %s: attempt %d failed after losing its claim", message.id, message.attempt
            )
            return Outcome.LOST_CLAIM
        log.warning(
            "outbox message %s (%s) attempt %d %s: %s",
            message.id,
            message.topic,
            message.attempt,
            "failed; parked as dead" if dead else f"failed; next attempt at {retry_at:%Y-%m-%d %H:%M:%S} UTC",
            description,
        )
        return Outcome.DEAD if dead else Outcome.RETRYING

    def run_batch(self, stop_event: threading.Event | None = None) -> tuple[int, DeliveryReport]:
        """Claim one batch and deliver it. Returns how many messages were claimed, and what became of them."""
        claim = self.claim()
        report = DeliveryReport()
        report += claim.abandoned
        deadline = claim.claimed_at + self.policy.lease / 2
        for index, message in enumerate(claim.messages):
            # The first message always goes: only the claim's own commit stands between it and the claim.
            late = index > 0 and self.clock.now() >= deadline
            if late or (stop_event is not None and stop_event.is_set()):
                report.released += self._release(claim.messages[index:])
                break
            report.count(self.deliver(message))
        return len(claim.messages), report

    def _release(self, messages: list[ClaimedMessage]) -> int:
        now = self.clock.now()
        with self.session_factory() as session, session.begin():
            repository = OutboxRepository(session)
            return sum(repository.release(message.id, message.lease_token, now) for message in messages)

    def drain(
        self,
        stop_event: threading.Event | None = None,
        on_batch: Callable[[DeliveryReport], None] | None = None,
    ) -> DeliveryReport:
        """Deliver batches until nothing is due (or ``stop_event`` is set). Messages that fail are scheduled
        for later, so a drain ends even while a server is down."""
        total = DeliveryReport()
        while stop_event is None or not stop_event.is_set():
            claimed, report = self.run_batch(stop_event)
            total += report
            if on_batch is not None and (claimed or report.settled):
                on_batch(report)
            if not claimed and not report.settled:
                break
        return total


def run_worker_loop(
    engine: Engine,
    stop_event: threading.Event,
    *,
    settings: Settings | None = None,
    handlers: HandlerRegistry | None = None,
    batch_size: int | None = None,
    poll_seconds: float | None = None,
    on_batch: Callable[[DeliveryReport], None] | None = None,
) -> DeliveryReport:
    """Deliver outbox messages until ``stop_event`` is set: drain what is due, wait, look again.

    Safe to run in a thread and beside other workers. Errors (a database restart, say) are logged and the loop
    carries on after the poll interval. Returns what it did in total.
    """
    settings = settings or get_settings()
    session_factory = make_session_factory(engine)
    worker = OutboxWorker(
        session_factory,
        handlers or standard_handlers(settings, session_factory=session_factory),
        RetryPolicy.from_settings(settings),
        batch_size or settings.worker_batch_size,
    )
    wait = poll_seconds if poll_seconds is not None else settings.worker_poll_seconds
    total = DeliveryReport()
    while not stop_event.is_set():
        try:
            total += worker.drain(stop_event, on_batch)
        except Exception:
            log.exception("outbox worker: delivery round failed; trying again in %.0f s", wait)
        stop_event.wait(wait)
    return total


class BackgroundWorker:
    """The outbox worker in a thread of the web server: a SQLite deployment has no other process to run it."""

    def __init__(self, engine: Engine, settings: Settings, handlers: HandlerRegistry | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.handlers = handlers
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.stop_event.clear()
        self.thread = threading.Thread(
            target=run_worker_loop,
            args=(self.engine, self.stop_event),
            kwargs={"settings": self.settings, "handlers": self.handlers},
            name="mercato-outbox-worker",
            daemon=True,  # never keeps a stopping server alive; an interrupted delivery is redone after its lease
        )
        self.thread.start()

    def stop(self) -> None:
        """Ask the thread to stop after the message in hand, and wait for it (at most one SMTP timeout)."""
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=self.settings.smtp_timeout_seconds + 5)
            self.thread = None

    @asynccontextmanager
    async def lifespan(self, _app: Any) -> AsyncIterator[None]:
        """For ``FastAPI(lifespan=...)``: deliver while the application serves."""
        self.start()
        try:
            yield
        finally:
            await asyncio.to_thread(self.stop)
