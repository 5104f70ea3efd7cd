"""Outbox messages. A row is written in the same transaction as the change that causes it; ``mercato worker``
(and ``mercato serve`` on SQLite) delivers it after the commit, so a rolled-back change sends nothing."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mercato.clock import utcnow
from mercato.database import Base, new_id


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_pending", "delivered_at", "available_at"),
        # The operator's list of messages, newest first (migration 0022).
        Index("ix_outbox_messages_created", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    topic: Mapped[str] = mapped_column(String(100), doc="What to do, e.g. 'email'")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    available_at: Mapped[datetime] = mapped_column(
        default=utcnow, doc="Not before; pushed to the end of a lease by a claim, and back after a failure"
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, doc="Deliveries actually tried")
    first_attempt_at: Mapped[datetime | None] = mapped_column(doc="Where the retry horizon starts")
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_token: Mapped[uuid.UUID | None] = mapped_column(
        doc="The claim that holds the message until available_at; results are recorded only under it"
    )
    attempting: Mapped[bool] = mapped_column(
        Boolean, default=False, doc="An attempt started under the current lease and has not reported yet"
    )
    delivered_at: Mapped[datetime | None]
    dead_at: Mapped[datetime | None] = mapped_column(
        doc="Parked as dead: undeliverable, or still failing at the end of the retry horizon"
    )
