"""The outbox worker: claims due messages under a lease, delivers them, and records what happened.

Delivery is at least once. A claim is a short committed transaction that pushes the messages' ``available_at``
to the end of a lease; each delivery then runs outside any transaction, and its result is committed on its own.
A worker that dies between a delivery and its record leaves the message to be delivered again when the lease
runs out, so handlers pass ``DeliveryContext.message_id`` along as an idempotency key. A live worker never
starts a delivery once half of its lease has gone, which keeps a slow batch from outliving its lease.
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
from mercato.outbox.repository import ClaimedMessage, OutboxRepository
from mercato.settings import Settings, get_settings

log = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True)
class RetryPolicy:
    """How long a claim lasts, how long to wait after each failure, and when to give up."""

    lease: timedelta = timedelta(minutes=5)
    max_attempts: int = 8
    retry_base: timedelta = timedelta(seconds=30)
    retry_max: timedelta = timedelta(hours=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            lease=timedelta(seconds=settings.outbox_lease_seconds),
            max_attempts=settings.outbox_max_attempts,
            retry_base=timedelta(seconds=settings.outbox_retry_base_seconds),
            retry_max=timedelta(seconds=settings.outbox_retry_max_seconds),
        )

    def retry_delay(self, failed_attempt: int) -> timedelta:
        """30 s after the first failure, then doubling (60 s, 120 s, …), never more than ``retry_max``."""
        # The exponent is capped so a generous max_attempts cannot overflow timedelta before min() applies.
        return min(self.retry_base * (1 << min(max(failed_attempt - 1, 0), 32)), self.retry_max)

    def gives_up_after(self, failed_attempt: int) -> bool:
        return failed_attempt >= self.max_attempts


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRYING = "retrying"
    GIVEN_UP = "given up"
    LOST_CLAIM = "lost claim"
    """The handler failed after the lease ran out and another attempt had started: nothing recorded."""


@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    given_up: int = 0
    released: int = 0
    """Claimed but handed back unattempted (the worker was stopping, or half the lease had gone)."""

    def count(self, outcome: Outcome) -> None:
        if outcome is Outcome.DELIVERED:
            self.delivered += 1
        elif outcome is Outcome.RETRYING:
            self.retrying += 1
        elif outcome is Outcome.GIVEN_UP:
            self.given_up += 1

    def __iadd__(self, other: DeliveryReport) -> DeliveryReport:
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.given_up += other.given_up
        self.released += other.released
        return self

    @property
    def settled(self) -> int:
        """Messages that reached a result in this run: delivered, scheduled for a retry, or given up."""
        return self.delivered + self.retrying + self.given_up


@dataclass(frozen=True)
class Claim:
    messages: list[ClaimedMessage]
    abandoned: int
    """Messages given up while claiming because their last attempt never reported back."""
    claimed_at: datetime


def standard_handlers(settings: Settings, mailer: Mailer | None = None) -> HandlerRegistry:
    """The topics Mercato enqueues and their handlers; e-mail goes through SMTP unless a mailer is given."""
    return HandlerRegistry([(EMAIL_TOPIC, EmailDelivery(mailer or SmtpMailer.from_settings(settings)))])


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
        """Lease the next batch of due messages in one short transaction."""
        now = self.clock.now()
        with self.session_factory() as session, session.begin():
            repository = OutboxRepository(session)
            # The first statement writes, so on SQLite this transaction holds the database's write lock before
            # it reads which messages are due: two claimers can never read the same rows as free.
            abandoned = repository.give_up_abandoned(now, self.policy.max_attempts)
            messages = repository.claim(
                now, now + self.policy.lease, self.batch_size, self.policy.max_attempts
            )
        if abandoned:
            log.warning("gave up %d outbox message(s) whose last attempt never reported back", abandoned)
        return Claim(messages, abandoned, now)

    def deliver(self, message: ClaimedMessage) -> Outcome:
        """Run the message's handler outside any transaction, then record the result in a transaction of its
        own. A handler's exception never escapes: it becomes a retry or, at the last attempt, a give-up."""
        context = DeliveryContext(message.id, message.topic, message.attempt, message.created_at)
        try:
            self.handlers.handler_for(message.topic)(message.payload, context)
        except Undeliverable as error:
            return self._record_failure(message, error, give_up=True)
        except Exception as error:
            return self._record_failure(message, error, give_up=self.policy.gives_up_after(message.attempt))
        with self.session_factory() as session, session.begin():
            OutboxRepository(session).mark_delivered(message.id, self.clock.now())
        return Outcome.DELIVERED

    def _record_failure(self, message: ClaimedMessage, error: Exception, *, give_up: bool) -> Outcome:
        now = self.clock.now()
        description = f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]
        retry_at = None if give_up else now + self.policy.retry_delay(message.attempt)
        with self.session_factory() as session, session.begin():
            recorded = OutboxRepository(session).record_failure(
                message.id, message.attempt, description, retry_at, now
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
            "failed; giving up" if give_up else f"failed; next attempt at {retry_at:%Y-%m-%d %H:%M:%S} UTC",
            description,
        )
        return Outcome.GIVEN_UP if give_up else Outcome.RETRYING

    def run_batch(self, stop_event: threading.Event | None = None) -> tuple[int, DeliveryReport]:
        """Claim one batch and deliver it. Returns how many messages were claimed, and what became of them."""
        claim = self.claim()
        report = DeliveryReport(given_up=claim.abandoned)
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
            return sum(repository.release(message.id, message.attempt, now) for message in messages)

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
            if on_batch is not None and (claimed or report.given_up):
                on_batch(report)
            if not claimed and not report.given_up:
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
    worker = OutboxWorker(
        make_session_factory(engine),
        handlers or standard_handlers(settings),
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
