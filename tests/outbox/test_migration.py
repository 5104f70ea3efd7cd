"""Upgrading a database with outbox messages: what the old worker gave up on is dead (and can be sent again),
and what was waiting keeps waiting."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from alembic import command
from sqlalchemy import JSON, Integer, String, Uuid, column, table

from mercato.clock import FixedClock, utcnow
from mercato.database import UTCDateTime, make_engine, make_session_factory
from mercato.migrations import alembic_config, upgrade_to_head
from mercato.outbox.models import OutboxMessage
from mercato.outbox.service import OutboxService
from mercato.outbox.worker import OutboxWorker
from outbox.doubles import TOPIC, Receiver

OUTBOX_0004 = table(
    "outbox_messages",
    column("id", Uuid()),
    column("topic", String()),
    column("payload", JSON()),
    column("created_at", UTCDateTime()),
    column("available_at", UTCDateTime()),
    column("attempts", Integer()),
    column("last_error", String()),
    column("failed_at", UTCDateTime()),
)


def test_messages_given_up_before_the_upgrade_are_dead_after_it_and_can_be_sent_again(
    backend: str, fresh_database_url: Callable[[str], str]
) -> None:
    url = fresh_database_url(backend)
    engine = make_engine(url)
    with engine.begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
    an_hour_ago = utcnow() - timedelta(hours=1)
    with engine.begin() as connection:  # as the worker before this revision left them
        connection.execute(
            OUTBOX_0004.insert(),
            [
                {
                    "id": uuid.uuid4(),
                    "topic": TOPIC,
                    "payload": {"name": name},
                    "created_at": an_hour_ago,
                    "available_at": an_hour_ago,
                    "attempts": 8 if failed_at else 3,
                    "last_error": "ConnectionRefusedError: [Errno 111] Connection refused",
                    "failed_at": failed_at,
                }
                for name, failed_at in (("given-up", an_hour_ago), ("waiting", None))
            ],
        )

    upgrade_to_head(engine)

    factory = make_session_factory(engine)
    clock = FixedClock(utcnow())
    with factory() as session:
        messages = {message.payload["name"]: message for message in session.query(OutboxMessage)}
        assert messages["given-up"].dead_at == an_hour_ago
        assert (messages["waiting"].dead_at, messages["waiting"].attempting) == (None, False)
        OutboxService(session, timedelta(hours=72)).retry(str(messages["given-up"].id), clock.now())
        session.commit()
    receiver = Receiver()
    OutboxWorker(factory, receiver.registry(), clock=clock).drain()
    assert sorted(payload["name"] for payload in receiver.payloads) == ["given-up", "waiting"]
    engine.dispose()
