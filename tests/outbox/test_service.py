"""Enqueueing writes in the caller's transaction: committed with the change that causes it, or not at all."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from mercato.clock import utcnow
from mercato.outbox.emails import EmailAttachment
from mercato.outbox.models import OutboxMessage
from mercato.outbox.service import enqueue, enqueue_email


def count_messages(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def test_enqueue_flushes_into_the_callers_transaction_and_leaves_the_commit_to_it(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session:
        session.begin()
        message = enqueue(session, "test.ping", {"n": 1})
        assert session.get(OutboxMessage, message.id) is message
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
        assert (message.attempts, message.delivered_at, message.dead_at) == (0, None, None)
        assert session.in_transaction()
        session.rollback()
    assert count_messages(session_factory) == 0


def test_a_committed_message_is_stored_with_its_payload(session_factory: sessionmaker[Session]) -> None:
    later = utcnow() + timedelta(days=1)
    with session_factory() as session, session.begin():
        message_id = enqueue(session, "test.ping", {"n": 1, "tags": ["a"]}, available_at=later).id
    with session_factory() as session:
        stored = session.get(OutboxMessage, message_id)
        assert stored is not None
        assert (stored.topic, stored.payload, stored.available_at) == (
            "test.ping",
            {"n": 1, "tags": ["a"]},
            later,
        )


def test_enqueue_email_stores_an_email_payload(session_factory: sessionmaker[Session]) -> None:
    attachment: EmailAttachment = {
        "filename": "a.txt",
        "content_type": "text/plain",
        "content_base64": "aGk=",
    }
    with session_factory() as session, session.begin():
        message = enqueue_email(session, [" ada@example.com "], "Hi", "Hello", "<p>Hello</p>", [attachment])
    assert message.topic == "email"
    assert message.payload == {
        "to": ["ada@example.com"],
        "subject": "Hi",
        "text": "Hello",
        "html": "<p>Hello</p>",
        "attachments": [attachment],
    }


@pytest.mark.parametrize(
    ("to", "subject", "attachment", "complaint"),
    [
        ([], "Hi", None, "at least one recipient"),
        (["ada@example.com", " "], "Hi", None, "no empty address"),
        (["ada@example.com\nBcc: all@example.com"], "Hi", None, "line break"),
        (["ada@example.com"], "Hi\nBcc: all@example.com", None, "one line"),
        (["ada@example.com"], "Hi", ("a.pdf", "application/pdf", "not base64!"), "not valid base64"),
        (["ada@example.com"], "Hi", ("a.pdf", "pdf", base64.b64encode(b"x").decode()), "type/subtype"),
    ],
)
def test_a_malformed_email_fails_the_change_that_writes_it(
    session_factory: sessionmaker[Session],
    to: list[str],
    subject: str,
    attachment: tuple[str, str, str] | None,
    complaint: str,
) -> None:
    attachments: list[EmailAttachment] = []
    if attachment:
        filename, content_type, content = attachment
        attachments = [{"filename": filename, "content_type": content_type, "content_base64": content}]
    with session_factory() as session, pytest.raises(ValueError, match=complaint):
        enqueue_email(session, to, subject, "Hello", attachments=attachments)
    assert count_messages(session_factory) == 0
