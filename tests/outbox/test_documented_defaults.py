"""The retry policy a deployment gets without settings is the one docs/email-and-jobs.md promises: waits of 30 s
doubling (1, 2, 4 … minutes) up to an hour between attempts, a 5-minute lease, and retries for 72 hours from the
first attempt, after which the message is parked as dead."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from mercato.clock import FixedClock
from mercato.outbox.models import OutboxMessage
from mercato.outbox.service import enqueue
from mercato.outbox.worker import RetryPolicy
from mercato.settings import Settings
from outbox.doubles import TOPIC, MakeWorker, Receiver

DOCUMENTED_WAITS = (
    [timedelta(seconds=30)] + [timedelta(minutes=2**n) for n in range(6)] + [timedelta(hours=1)]
)


def test_by_default_a_failing_message_waits_30_s_doubling_and_is_parked_dead_after_72_hours(
    session_factory: sessionmaker[Session], make_worker: MakeWorker, clock: FixedClock
) -> None:
    with session_factory() as session, session.begin():
        message_id = enqueue(session, TOPIC, {"n": 1}).id
    worker = make_worker(Receiver(failures=999).registry())  # the default policy
    first_attempt = clock.now()
    for attempt, wait in enumerate(DOCUMENTED_WAITS, 1):
        assert worker.drain().retrying == 1, f"attempt {attempt}"
        with session_factory() as session:
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            assert (message.attempts, message.available_at - clock.now()) == (attempt, wait)
        clock.advance(seconds=wait.total_seconds())
    # Hourly from then on, until 72 hours after the first attempt.
    while clock.now() < first_attempt + timedelta(hours=72):
        assert worker.drain().retrying == 1
        clock.advance(hours=1)
    assert worker.drain().dead == 1
    with session_factory() as session:
        message = session.get(OutboxMessage, message_id)
        assert message is not None and message.dead_at == clock.now() and message.delivered_at is None


def test_the_settings_defaults_make_the_same_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in os.environ if name.startswith("MERCATO_")]:
        monkeypatch.delenv(name)
    from_settings = RetryPolicy.from_settings(Settings(_env_file=None))
    assert from_settings == RetryPolicy()
    assert (from_settings.lease, from_settings.retry_max, from_settings.horizon) == (
        timedelta(minutes=5),
        timedelta(hours=1),
        timedelta(hours=72),
    )
    assert [from_settings.retry_delay(attempt) for attempt in range(1, 9)] == DOCUMENTED_WAITS
