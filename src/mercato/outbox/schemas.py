"""Responses of the operator's outbox API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from mercato.outbox.repository import MessageStatus
from mercato.paging import PageOut


class OutboxMessageOut(BaseModel):
    id: uuid.UUID
    topic: str = Field(description="What the message does, e.g. `email`.")
    status: MessageStatus = Field(
        description="pending (never tried), retrying (failed, waiting for its next attempt), sending (a "
        "worker holds it), delivered, or dead (parked: resend it with `POST .../retry`)."
    )
    summary: str = Field(description="What it is about: an e-mail's subject and recipients.")
    attempts: int = Field(description="Deliveries actually tried.")
    created_at: datetime
    next_attempt_at: datetime | None = Field(
        description="When a worker may try it next; the end of the worker's lease while sending."
    )
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None
    retry_until: datetime | None = Field(
        description="The end of its retry horizon: a failure after this parks it as dead."
    )
    last_error: str | None = Field(description="What the last failed attempt reported.")
    delivered_at: datetime | None
    dead_at: datetime | None


class OutboxMessageDetailOut(OutboxMessageOut):
    payload: dict[str, Any] = Field(description="What the worker delivers, as stored.")


class OutboxMessagePage(PageOut):
    items: list[OutboxMessageOut]
