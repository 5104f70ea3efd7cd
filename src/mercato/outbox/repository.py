"""All SQL about outbox messages: adding, claiming under a lease, and recording what a delivery did."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, func, select, update
from sqlalchemy.orm import Session

from mercato.outbox.models import OutboxMessage

ABANDONED = (
    "the last attempt ran out of its lease without reporting a result (its worker stopped or hung); given up"
)


@dataclass(frozen=True)
class ClaimedMessage:
    """A message a worker holds a lease on, detached from any session."""

    id: uuid.UUID
    topic: str
    payload: dict[str, Any]
    attempt: int
    """The attempt this claim is (1 on the first). It is also the claim's fencing token: results are recorded
    only while the row still carries it, so a worker whose lease ran out cannot overwrite a newer attempt."""
    created_at: datetime


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        OutboxMessage.delivered_at.is_(None),
        OutboxMessage.failed_at.is_(None),
        OutboxMessage.available_at <= now,
    )


class OutboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, message: OutboxMessage) -> None:
        self.session.add(message)
        self.session.flush()

    def get(self, message_id: uuid.UUID) -> OutboxMessage | None:
        return self.session.get(OutboxMessage, message_id)

    def count_due(self, now: datetime) -> int:
        return self.session.scalar(select(func.count()).select_from(OutboxMessage).where(_due(now))) or 0

    def _update(self, statement: Any) -> int:
        result = self.session.execute(statement.execution_options(synchronize_session=False))
        return cast(CursorResult[Any], result).rowcount

    def give_up_abandoned(self, now: datetime, max_attempts: int) -> int:
        """Give up the messages whose last allowed attempt ran out of its lease. Returns how many."""
        return self._update(
            update(OutboxMessage)
            .where(_due(now), OutboxMessage.attempts >= max_attempts)
            .values(failed_at=now, last_error=ABANDONED)
        )

    def claim(
        self, now: datetime, lease_until: datetime, limit: int, max_attempts: int
    ) -> list[ClaimedMessage]:
        """Lease up to ``limit`` due messages, oldest first: hidden from other claimers until ``lease_until``.

        On PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets concurrent claimers take disjoint rows without waiting
        for each other. SQLite has no row locks (SQLAlchemy omits the clause there); its claimers are kept one
        at a time by the write lock that the claiming transaction holds before it reads (see the worker).
        """
        rows = self.session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.topic,
                OutboxMessage.payload,
                OutboxMessage.attempts,
                OutboxMessage.created_at,
            )
            .where(_due(now), OutboxMessage.attempts < max_attempts)
            .order_by(OutboxMessage.available_at, OutboxMessage.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            return []
        # Counting the attempt when it starts (not when it fails) bounds a message that kills its worker.
        self._update(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([row.id for row in rows]))
            .values(attempts=OutboxMessage.attempts + 1, available_at=lease_until)
        )
        return [
            ClaimedMessage(row.id, row.topic, row.payload, row.attempts + 1, row.created_at) for row in rows
        ]

    def mark_delivered(self, message_id: uuid.UUID, now: datetime) -> bool:
        # Not fenced by the attempt: a delivery that happened is recorded even if its lease ran out, which
        # spares the message a further redelivery.
        return bool(
            self._update(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.delivered_at.is_(None))
                .values(delivered_at=now, failed_at=None)
            )
        )

    def _still_held(self, message_id: uuid.UUID, attempt: int) -> ColumnElement[bool]:
        return and_(
            OutboxMessage.id == message_id,
            OutboxMessage.attempts == attempt,
            OutboxMessage.delivered_at.is_(None),
            OutboxMessage.failed_at.is_(None),
        )

    def record_failure(
        self, message_id: uuid.UUID, attempt: int, error: str, retry_at: datetime | None, now: datetime
    ) -> bool:
        """Schedule the next attempt at ``retry_at``, or give up when it is ``None``. False when the claim
        was lost (its lease ran out and another attempt started, or the message was delivered meanwhile)."""
        values: dict[str, Any] = {"last_error": error}
        if retry_at is None:
            values["failed_at"] = now
        else:
            values["available_at"] = retry_at
        return bool(
            self._update(update(OutboxMessage).where(self._still_held(message_id, attempt)).values(values))
        )

    def release(self, message_id: uuid.UUID, attempt: int, now: datetime) -> bool:
        """Hand back a claimed message that was not attempted: due again at once, the attempt not counted."""
        return bool(
            self._update(
                update(OutboxMessage)
                .where(self._still_held(message_id, attempt))
                .values(attempts=OutboxMessage.attempts - 1, available_at=now)
            )
        )
