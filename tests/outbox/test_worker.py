"""The worker's rules: leases, retries with back-off, the retry horizon, dead messages, and what a crash or a
late result does."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from mercato.clock import FixedClock, utcnow
from mercato.outbox.handlers import DeliveryContext, HandlerRegistry, Undeliverable
from mercato.outbox.models import OutboxMessage
from mercato.outbox.repository import ABANDONED, OutboxRepository
from mercato.outbox.service import enqueue
from mercato.outbox.worker import DeliveryReport, Outcome, RetryPolicy
from mercato.settings import Settings
from outbox.doubles import TOPIC, MakeWorker, Receiver


def put(
    session_factory: sessionmaker[Session], *payloads: dict[str, Any], topic: str = TOPIC
) -> list[uuid.UUID]:
    with session_factory() as session, session.begin():
        return [enqueue(session, topic, payload).id for payload in payloads]


def stored(session_factory: sessionmaker[Session], message_id: uuid.UUID) -> OutboxMessage:
    with session_factory() as session:
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        return message


def test_due_messages_are_delivered_oldest_first_and_marked_delivered(
    session_factory: sessionmaker[Session], make_worker: MakeWorker, clock: FixedClock
) -> None:
    ids = put(session_factory, {"n": 1}, {"n": 2}, {"n": 3})
    receiver = Receiver()

    report = make_worker(receiver.registry(), batch_size=2).drain()

    assert receiver.payloads == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert (report.delivered, report.retrying, report.dead) == (3, 0, 0)
    for message_id in ids:
        message = stored(session_factory, message_id)
        assert (message.delivered_at, message.attempts, message.dead_at) == (clock.now(), 1, None)
    assert make_worker(receiver.registry()).drain().settled == 0  # nothing is delivered twice


def test_a_message_waits_for_its_available_at(
    session_factory: sessionmaker[Session], make_worker: MakeWorker, clock: FixedClock
) -> None:
    with session_factory() as session, session.begin():
        enqueue(session, TOPIC, {"n": 1}, available_at=clock.now() + timedelta(hours=1))
    receiver = Receiver()
    worker = make_worker(receiver.registry())

    worker.drain()
    assert receiver.received == []
    clock.advance(hours=1)
    worker.drain()
    assert receiver.payloads == [{"n": 1}]


def test_the_handler_gets_a_stable_message_id_and_the_attempt_number(
    session_factory: sessionmaker[Session], make_worker: MakeWorker, clock: FixedClock
) -> None:
    [message_id] = put(session_factory, {"n": 1})
    receiver = Receiver(failures=1)
    worker = make_worker(receiver.registry())

    worker.drain()
    clock.advance(seconds=30)
    worker.drain()

    [(_, context)] = receiver.received
    assert (context.message_id, context.topic, context.attempt) == (message_id, TOPIC, 2)


def test_failures_back_off_30_60_120_seconds_and_keep_the_last_error(
    session_factory: sessionmaker[Session], make_worker: MakeWorker, clock: FixedClock
) -> None:
    [message_id] = put(session_factory, {"n": 1})
    receiver = Receiver(failures=3)
    worker = make_worker(receiver.registry())

    for attempt, wait in [(1, 30), (2, 60), (3, 120)]:
        report = worker.drain()
        message = stored(session_factory, message_id)
        assert (report.retrying, message.attempts) == (1, attempt)
        assert message.available_at == clock.now() + timedelta(seconds=wait)
        assert message.last_error == "ConnectionError: receiver unreachable"
        clock.advance(seconds=wait - 1)
        assert worker.drain().settled == 0  # not a second early
        clock.advance(seconds=1)

    assert worker.drain().delivered == 1
    assert receiver.attempts == 4


def test_the_wait_doubles_up_to_its_cap() -> None:
    policy = RetryPolicy(retry_base=timedelta(seconds=30), retry_max=timedelta(hours=1))
    waits = [policy.retry_delay(attempt).total_seconds() for attempt in range(1, 10)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert policy.retry_delay(10_000) == timedelta(hours=1)


def test_a_failing_message_is_retried_until_its_horizon_then_parked_dead(
    session_factory: sessionmaker[Session], make_worker: MakeWorker, clock: FixedClock
) -> None:
    [message_id] = put(session_factory, {"n": 1})
    receiver = Receiver(failures=99)
    worker = make_worker(receiver.registry(), horizon=timedelta(hours=3))
    first_attempt_at = clock.now()

    outcomes = []
    for _ in range(12):
        report = worker.drain()
        outcomes.append((report.retrying, report.dead))
        message = stored(session_factory, message_id)
        if message.dead_at is not None:
            break
        clock.advance(seconds=(message.available_at - clock.now()).total_seconds())

    # Waits of 30 s, 1, 2, 4, 8, 16, 32 min, then hourly (retry_max): tries at 0 s, 30 s, 1.5, 3.5, 7.5, 15.5,
    # 31.5, 63.5 min, 2 h 03.5 and 3 h 03.5, which fails past the 3 hours and parks the message.
    assert outcomes == [(1, 0)] * 9 + [(0, 1)]
    message = stored(session_factory, message_id)
    assert message.first_attempt_at == first_attempt_at
    assert message.dead_at == clock.now() >= first_attempt_at + timedelta(hours=3)
    assert (message.attempts, message.delivered_at) == (10, None)
    assert message.last_error == "ConnectionError: receiver unreachable"
    assert receiver.attempts == 10
    clock.advance(days=30)
    assert worker.drain().settled == 0  # dead messages wait for an operator


def test_the_default_horizon_keeps_a_message_trying_for_three_days() -> None:
    first = utcnow()
    for policy in (RetryPolicy(), RetryPolicy.from_settings(Settings())):
        assert not policy.parks_dead(first, first + timedelta(hours=71, minutes=59))
        assert policy.parks_dead(first, first + timedelta(hours=72))


def test_an_undeliverable_message_is_parked_dead_at_once(
    session_factory: sessionmaker[Session], make_worker: MakeWorker
) -> None:
    [message_id] = put(session_factory, {"n": 1})
    receiver = Receiver(failures=1, error=Undeliverable("every recipient was refused"))

    assert make_worker(receiver.registry()).drain().dead == 1

    message = stored(session_factory, message_id)
    assert message.dead_at is not None and message.attempts == 1
    assert message.last_error == "Undeliverable: every recipient was refused"


def test_a_topic_without_handler_fails_with_a_clear_error_and_is_retried(
    session_factory: sessionmaker[Session], make_worker: MakeWorker
) -> None:
    [message_id] = put(session_factory, {"n": 1}, topic="webhook")

    assert make_worker(Receiver().registry()).drain().retrying == 1

    message = stored(session_factory, message_id)
    assert message.dead_at is None
    assert message.last_error == (
        "UnknownTopic: no handler for topic 'webhook' in this worker (known topics: test.ping)"
    )


def test_a_claim_spends_no_attempt_so_a_crash_after_claiming_costs_one_lease_of_delay(
    session_factory: sessionmaker[Session], make_worker: MakeWorker, clock: FixedClock
) -> None:
    [message_id] = put(session_factory, {"n": 1})
    receiver = Receiver()
    crashed = make_worker(receiver.registry(), lease=timedelta(minutes=5))
    survivor = make_worker(receiver.registry(), lease=timedelta(minutes=5))

    for _ in range(20):  # twenty workers die right after claiming it
        assert len(crashed.claim().messages) == 1
        clock.advance(minutes=4, seconds=59)
        assert survivor.drain().settled == 0  # hidden while the lease lasts
        clock.advance(seconds=1)
    assert stored(session_factory, message_id).attempts == 0
    assert survivor.drain().delivered == 1

    assert [context.attempt for _, context in receiver.received] == [1]
    message = stored(session_factory, message_id)
    assert (message.attempts, message.last_error, message.dead_at) == (1, None, None)


def test_an_attempt_that_never_reports_is_a_failure_once_its_lease_runs_out(
    session_factory: sessionmaker[Session], make_worker: MakeWorker, clock: FixedClock
) -> None:
    [message_id] = put(session_factory, {"n": 1})
    receiver = Receiver()
    worker = make_worker(receiver.registry(), lease=timedelta(minutes=5))
    [claimed] = worker.claim().messages
    with session_factory() as session, session.begin():  # the attempt starts, and its worker dies in it
        assert OutboxRepository(session).start_attempt(claimed.id, claimed.lease_token, clock.now())

    clock.advance(minutes=5)
    report = worker.drain()

    assert (report.retrying, report.delivered) == (1, 0)
    message = stored(session_factory, message_id)
    assert (message.attempts, message.last_error) == (1, ABANDONED)
    assert message.available_at == clock.now() + timedelta(seconds=30)  # backs off like any failure
    clock.advance(seconds=30)
    assert worker.drain().delivered == 1
    assert [context.attempt for _, context in receiver.received] == [2]


def test_an_attempt_that_never_reports_after_the_horizon_parks_the_message_dead(
    session_factory: sessionmaker[Session], make_worker: MakeWorker, clock: FixedClock
) -> None:
    [message_id] = put(session_factory, {"n": 1})
    worker = make_worker(Receiver().registry(), lease=timedelta(minutes=5), horizon=timedelta(minutes=5))
    [claimed] = worker.claim().messages
    with session_factory() as session, session.begin():
        OutboxRepository(session).start_attempt(claimed.id, claimed.lease_token, clock.now())

    clock.advance(minutes=5)
    assert worker.drain().dead == 1

    message = stored(session_factory, message_id)
    assert (message.attempts, message.last_error, message.dead_at) == (1, ABANDONED, clock.now())


def test_a_late_failure_does_not_overwrite_what_a_newer_claim_did(
    session_factory: sessionmaker[Session], make_worker: MakeWorker, clock: FixedClock
) -> None:
    [message_id] = put(session_factory, {"n": 1})
    other_worker = make_worker(Receiver().registry())
    meanwhile: list[DeliveryReport] = []

    def slow_failure(payload: dict[str, Any], context: DeliveryContext) -> None:
        clock.advance(minutes=10)  # the lease runs out while this delivery hangs; another worker finds the
        meanwhile.append(other_worker.drain())  # attempt abandoned, backs off ...
        clock.advance(seconds=30)
        meanwhile.append(other_worker.drain())  # ... and delivers the message
        raise ConnectionError("timed out")

    slow = make_worker(HandlerRegistry([(TOPIC, slow_failure)]))
    [slow_claim] = slow.claim().messages
    assert slow.deliver(slow_claim) is Outcome.LOST_CLAIM

    assert [(report.retrying, report.delivered) for report in meanwhile] == [(1, 0), (0, 1)]
    message = stored(session_factory, message_id)
    assert message.delivered_at is not None
    assert (message.attempts, message.last_error, message.dead_at) == (2, ABANDONED, None)


def test_a_claim_lost_before_its_attempt_starts_attempts_nothing(
    session_factory: sessionmaker[Session], make_worker: MakeWorker, clock: FixedClock
) -> None:
    put(session_factory, {"n": 1})
    receiver = Receiver()
    slow = make_worker(receiver.registry())
    [slow_claim] = slow.claim().messages
    clock.advance(minutes=5)
    assert make_worker(receiver.registry()).drain().delivered == 1

    assert slow.deliver(slow_claim) is Outcome.LOST_CLAIM
    assert receiver.attempts == 1


def test_a_late_success_is_recorded_even_after_the_lease_ran_out(
    session_factory: sessionmaker[Session], make_worker: MakeWorker, clock: FixedClock
) -> None:
    [message_id] = put(session_factory, {"n": 1})
    receiver = Receiver()
    other_worker = make_worker(receiver.registry())
    meanwhile: list[DeliveryReport] = []

    def slow_success(payload: dict[str, Any], context: DeliveryContext) -> None:
        clock.advance(minutes=10)
        meanwhile.append(other_worker.drain())  # the lease ran out: the attempt counts as abandoned
        receiver(payload, context)

    slow = make_worker(HandlerRegistry([(TOPIC, slow_success)]))
    [slow_claim] = slow.claim().messages
    assert slow.deliver(slow_claim) is Outcome.DELIVERED

    clock.advance(hours=1)
    assert make_worker(receiver.registry()).drain().settled == 0  # spared a redelivery
    assert [report.retrying for report in meanwhile] == [1]
    assert stored(session_factory, message_id).delivered_at is not None
    assert receiver.attempts == 1


def test_stopping_hands_the_rest_of_the_batch_back_unattempted(
    session_factory: sessionmaker[Session], make_worker: MakeWorker
) -> None:
    ids = put(session_factory, {"n": 1}, {"n": 2}, {"n": 3})
    stop = threading.Event()

    def deliver_then_stop(payload: dict[str, Any], context: DeliveryContext) -> None:
        stop.set()

    report = make_worker(HandlerRegistry([(TOPIC, deliver_then_stop)])).drain(stop)

    assert (report.delivered, report.released) == (1, 2)
    for message_id in ids[1:]:
        message = stored(session_factory, message_id)
        assert (message.attempts, message.delivered_at) == (0, None)
    receiver = Receiver()
    make_worker(receiver.registry()).drain()
    assert receiver.payloads == [{"n": 2}, {"n": 3}]


def test_no_delivery_starts_once_half_the_lease_has_gone(
    session_factory: sessionmaker[Session], make_worker: MakeWorker, clock: FixedClock
) -> None:
    put(session_factory, {"n": 1}, {"n": 2}, {"n": 3})
    delivered: list[dict[str, Any]] = []

    def slow_delivery(payload: dict[str, Any], context: DeliveryContext) -> None:
        delivered.append(payload)
        clock.advance(minutes=3)

    worker = make_worker(HandlerRegistry([(TOPIC, slow_delivery)]), lease=timedelta(minutes=5))
    _claimed, report = worker.run_batch()

    assert (report.delivered, report.released) == (1, 2)
    worker.drain()
    assert delivered == [{"n": 1}, {"n": 2}, {"n": 3}]


def test_a_registry_refuses_two_handlers_for_one_topic() -> None:
    registry = Receiver().registry()
    with pytest.raises(ValueError, match="already has a handler"):
        registry.register(TOPIC, Receiver())
    assert TOPIC in registry and "email" not in registry
