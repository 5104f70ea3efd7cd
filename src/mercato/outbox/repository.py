"""All SQL about outbox messages: adding, claiming under a lease, recording what a delivery did, and what an
operator sees and resends."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    String,
    and_,
    cast,
    false,
    func,
    not_,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session

from mercato.outbox.models import OutboxMessage
from mercato.paging import KeysetOrder, Page, PageRequest, fetch_page

ABANDONED = "the attempt ran out of its lease without reporting a result (its worker stopped or hung)"


MESSAGES_NEWEST_FIRST = KeysetOrder("outbox", OutboxMessage.created_at, OutboxMessage.id, datetime, uuid.UUID)


class MessageStatus(StrEnum):
    """Where a message stands, as an operator sees it."""

    PENDING = "pending"
    """Never tried yet: waiting for its available_at or for a worker."""
    RETRYING = "retrying"
    """Tried and failed; waiting for the next attempt."""
    SENDING = "sending"
    """Claimed by a worker whose lease has not run out."""
    DELIVERED = "delivered"
    DEAD = "dead"
    """Parked: undeliverable, or still failing at the end of the retry horizon. Resent only by an operator."""


UNDELIVERED = (MessageStatus.PENDING, MessageStatus.RETRYING, MessageStatus.SENDING, MessageStatus.DEAD)


@dataclass(frozen=True)
class ClaimedMessage:
    """A message a worker holds a lease on, detached from any session."""

    id: uuid.UUID
    topic: str
    payload: dict[str, Any]
    attempt: int
    """The attempt a delivery under this claim would be (1 on the first)."""
    created_at: datetime
    lease_token: uuid.UUID
    """The claim's fencing token: its results are recorded only while the row still carries it, so a worker
    whose lease ran out cannot overwrite what a newer claim did."""
    first_attempt_at: datetime | None


@dataclass(frozen=True)
class AbandonedAttempt:
    """An attempt that started under a lease which then ran out without a result."""

    id: uuid.UUID
    attempts: int
    first_attempt_at: datetime | None
    lease_token: uuid.UUID


def _open() -> ColumnElement[bool]:
    return and_(OutboxMessage.delivered_at.is_(None), OutboxMessage.dead_at.is_(None))


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(_open(), OutboxMessage.available_at <= now)


def _held(now: datetime) -> ColumnElement[bool]:
    return and_(OutboxMessage.lease_token.is_not(None), OutboxMessage.available_at > now)


def _dead() -> ColumnElement[bool]:
    return and_(OutboxMessage.delivered_at.is_(None), OutboxMessage.dead_at.is_not(None))


def _in_status(status: MessageStatus, now: datetime) -> ColumnElement[bool]:
    if status is MessageStatus.DELIVERED:
        return OutboxMessage.delivered_at.is_not(None)
    if status is MessageStatus.DEAD:
        return _dead()
    if status is MessageStatus.SENDING:
        return and_(_open(), _held(now))
    waiting = and_(_open(), not_(_held(now)))
    if status is MessageStatus.RETRYING:
        return and_(waiting, OutboxMessage.attempts > 0)
    return and_(waiting, OutboxMessage.attempts == 0)


class OutboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, message: OutboxMessage) -> None:
        self.session.add(message)

    def get(self, message_id: uuid.UUID) -> OutboxMessage | None:
        return self.session.get(OutboxMessage, message_id)

    def count_due(self, now: datetime) -> int:
        return self.session.scalar(select(func.count()).select_from(OutboxMessage).where(_due(now))) or 0

    def _update(self, statement: Any) -> int:
        result = self.session.execute(statement.execution_options(synchronize_session=False))
        assert isinstance(result, CursorResult)
        return result.rowcount

    # What workers do

    def abandoned_attempts(self, now: datetime) -> list[AbandonedAttempt]:
        """Attempts whose lease ran out before they reported, locked for the caller to settle (PostgreSQL
        skips the ones another claimer is settling)."""
        rows = self.session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.attempts,
                OutboxMessage.first_attempt_at,
                OutboxMessage.lease_token,
            )
            .where(_due(now), OutboxMessage.attempting == true())
            .with_for_update(skip_locked=True)
        ).all()
        return [AbandonedAttempt(row.id, row.attempts, row.first_attempt_at, row.lease_token) for row in rows]

    def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[ClaimedMessage]:
        """Lease up to ``limit`` due messages, oldest first: hidden from other claimers until ``lease_until``.

        A claim spends no attempt: a worker that dies right after claiming costs its messages one lease of
        delay and nothing else. On PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets concurrent claimers take
        disjoint rows without waiting for each other. SQLite has no row locks (SQLAlchemy omits the clause
        there); its claimers take turns because every transaction begins by taking the write lock.
        """
        rows = self.session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.topic,
                OutboxMessage.payload,
                OutboxMessage.attempts,
                OutboxMessage.created_at,
                OutboxMessage.first_attempt_at,
            )
            .where(_due(now), OutboxMessage.attempting == false())
            .order_by(OutboxMessage.available_at, OutboxMessage.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            return []
        token = uuid.uuid4()
        self._update(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([row.id for row in rows]))
            .values(lease_token=token, available_at=lease_until)
        )
        return [
            ClaimedMessage(
                row.id, row.topic, row.payload, row.attempts + 1, row.created_at, token, row.first_attempt_at
            )
            for row in rows
        ]

    def _still_held(self, message_id: uuid.UUID, lease_token: uuid.UUID) -> ColumnElement[bool]:
        return and_(OutboxMessage.id == message_id, OutboxMessage.lease_token == lease_token, _open())

    def start_attempt(self, message_id: uuid.UUID, lease_token: uuid.UUID, now: datetime) -> bool:
        """Count the attempt that is about to be made. False when the claim was lost meanwhile (its lease
        ran out and another worker claimed it, or an operator resent it): then nothing may be attempted.

        Counted as it starts, not when it fails, so that a message whose delivery kills its worker still
        meets the end of its retry horizon."""
        return bool(
            self._update(
                update(OutboxMessage)
                .where(self._still_held(message_id, lease_token), OutboxMessage.attempting == false())
                .values(
                    attempts=OutboxMessage.attempts + 1,
                    attempting=True,
                    last_attempt_at=now,
                    first_attempt_at=func.coalesce(OutboxMessage.first_attempt_at, now),
                )
            )
        )

    def mark_delivered(self, message_id: uuid.UUID, now: datetime) -> bool:
        # Not fenced by the lease: a delivery that happened is recorded even if its lease ran out, which
        # spares the message a further redelivery.
        return bool(
            self._update(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.delivered_at.is_(None))
                .values(delivered_at=now, dead_at=None, lease_token=None, attempting=False)
            )
        )

    def record_failure(
        self,
        message_id: uuid.UUID,
        lease_token: uuid.UUID,
        error: str,
        retry_at: datetime | None,
        now: datetime,
    ) -> bool:
        """Schedule the next attempt at ``retry_at``, or park the message as dead when it is ``None``. False
        when the claim was lost (its lease ran out and another claim took it, or it was delivered meanwhile)."""
        values: dict[str, Any] = {"last_error": error, "lease_token": None, "attempting": False}
        if retry_at is None:
            values["dead_at"] = now
        else:
            values["available_at"] = retry_at
        return bool(
            self._update(
                update(OutboxMessage).where(self._still_held(message_id, lease_token)).values(values)
            )
        )

    def release(self, message_id: uuid.UUID, lease_token: uuid.UUID, now: datetime) -> bool:
        """Hand back a claimed message that was not attempted: due again at once."""
        return bool(
            self._update(
                update(OutboxMessage)
                .where(self._still_held(message_id, lease_token), OutboxMessage.attempting == false())
                .values(lease_token=None, available_at=now)
            )
        )

    # What operators see and do

    def page(
        self,
        statuses: Collection[MessageStatus],
        topic: str | None,
        now: datetime,
        page: PageRequest,
    ) -> Page[OutboxMessage]:
        """Messages in any of ``statuses`` (of one topic, if given), newest first; counted when asked."""
        condition = or_(*(_in_status(status, now) for status in statuses))
        if topic is not None:
            condition = and_(condition, OutboxMessage.topic == topic)
        query = select(OutboxMessage).where(condition)
        return fetch_page(self.session, query, MESSAGES_NEWEST_FIRST, page)

    def copies_made_since(self, original: OutboxMessage, since: datetime) -> list[OutboxMessage]:
        """Copies of ``original`` (see ``OutboxService.send_copy``) created at ``since`` or later."""
        recent = self.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.topic == original.topic, OutboxMessage.created_at >= since
            )
        ).all()
        return [message for message in recent if message.payload.get("copy_of") == str(original.id)]

    def with_id_prefix(self, prefix: str, limit: int) -> Sequence[OutboxMessage]:
        """Messages whose id, written as 32 hex digits without dashes, starts with ``prefix``."""
        hex_id = func.replace(cast(OutboxMessage.id, String), "-", "")
        return self.session.scalars(
            select(OutboxMessage).where(hex_id.like(f"{prefix}%")).order_by(OutboxMessage.id).limit(limit)
        ).all()

    def dead_ids(self) -> Sequence[uuid.UUID]:
        return self.session.scalars(
            select(OutboxMessage.id).where(_dead()).order_by(OutboxMessage.created_at)
        ).all()

    def requeue(self, message_id: uuid.UUID, now: datetime) -> bool:
        """Make an undelivered message due now, with a fresh retry horizon, unless a worker holds it."""
        return bool(
            self._update(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.delivered_at.is_(None), not_(_held(now)))
                .values(
                    dead_at=None, available_at=now, first_attempt_at=None, lease_token=None, attempting=False
                )
            )
        )
