"""Several workers on one committed database (each with its own engine), and the worker loop the web server
runs in a thread on SQLite. These tests need real commits, so they build their own databases by migration."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from mercato.database import make_engine, make_session_factory, transaction
from mercato.mail import RecordingMailer
from mercato.migrations import upgrade_to_head
from mercato.outbox.handlers import DeliveryContext, HandlerRegistry
from mercato.outbox.models import OutboxMessage
from mercato.outbox.service import enqueue, enqueue_email
from mercato.outbox.worker import BackgroundWorker, OutboxWorker, run_worker_loop, standard_handlers
from mercato.settings import Settings
from outbox.doubles import TOPIC

MESSAGES = 200


def migrated_database(backend: str, fresh_database_url: Callable[[str], str]) -> str:
    url = fresh_database_url(backend)
    engine = make_engine(url)
    upgrade_to_head(engine)
    engine.dispose()
    return url


def wait_until(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_two_workers_deliver_each_message_exactly_once(
    backend: str, fresh_database_url: Callable[[str], str]
) -> None:
    url = migrated_database(backend, fresh_database_url)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        for n in range(MESSAGES):
            enqueue(session, TOPIC, {"n": n})
    deliveries: list[tuple[str, int]] = []
    record_lock = threading.Lock()
    both_ready = threading.Barrier(2)

    def run_worker(name: str) -> int:
        worker_engine = make_engine(url)  # a pool and connections of its own, as another process would have

        def record(payload: dict[str, Any], context: DeliveryContext) -> None:
            time.sleep(0.001)  # a delivery takes time, so the two workers overlap
            with record_lock:
                deliveries.append((name, payload["n"]))

        worker = OutboxWorker(
            make_session_factory(worker_engine), HandlerRegistry([(TOPIC, record)]), batch_size=10
        )
        both_ready.wait()
        try:
            return worker.drain().delivered
        finally:
            worker_engine.dispose()

    with ThreadPoolExecutor(2) as pool:
        delivered = [future.result() for future in [pool.submit(run_worker, name) for name in ("a", "b")]]

    times_delivered = Counter(n for _, n in deliveries)
    assert sorted(times_delivered) == list(range(MESSAGES))  # none missing
    assert set(times_delivered.values()) == {1}  # none twice
    assert sum(delivered) == MESSAGES and min(delivered) > 0  # and both workers took part
    with make_session_factory(engine)() as session:
        assert session.scalar(select(func.count()).where(OutboxMessage.delivered_at.is_(None))) == 0
        assert session.scalar(select(func.max(OutboxMessage.attempts))) == 1
    engine.dispose()


def test_the_worker_loop_delivers_in_a_thread_and_stops_when_asked(
    fresh_database_url: Callable[[str], str], caplog: pytest.LogCaptureFixture
) -> None:
    url = fresh_database_url("sqlite")  # not migrated yet: the loop must outlive a database that is not ready
    engine = make_engine(url)
    mailer = RecordingMailer()
    settings = Settings(database_url=url)
    stop = threading.Event()
    loop = threading.Thread(
        target=run_worker_loop,
        args=(engine, stop),
        kwargs={"settings": settings, "handlers": standard_handlers(settings, mailer), "poll_seconds": 0.02},
    )
    with caplog.at_level(logging.ERROR, logger="mercato.outbox.worker"):
        loop.start()
        wait_until(lambda: "delivery round failed" in caplog.text)

    upgrade_to_head(engine)
    with transaction(make_session_factory(engine)) as session:
        enqueue_email(session, ["ada@example.com"], "Welcome", "Hello Ada.")
    wait_until(lambda: len(mailer.sent) == 1)
    stop.set()
    loop.join(timeout=5)

    assert not loop.is_alive()
    assert mailer.sent[0]["Subject"] == "Welcome"
    engine.dispose()


def test_the_web_servers_background_worker_drains_while_the_application_serves(
    fresh_database_url: Callable[[str], str],
) -> None:
    url = migrated_database("sqlite", fresh_database_url)
    engine = make_engine(url)
    settings = Settings(database_url=url, worker_poll_seconds=0.02)
    mailer = RecordingMailer()
    background = BackgroundWorker(engine, settings, standard_handlers(settings, mailer))

    async def serve() -> None:
        async with background.lifespan(None):
            with transaction(make_session_factory(engine)) as session:
                enqueue_email(session, ["ada@example.com"], "Your licence", "Here it is.")
            await asyncio.to_thread(wait_until, lambda: len(mailer.sent) == 1)

    asyncio.run(serve())

    assert background.thread is None  # stopped and joined with the application
    assert [email["Subject"] for email in mailer.sent] == ["Your licence"]
    engine.dispose()
