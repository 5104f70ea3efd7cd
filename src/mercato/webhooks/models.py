"""Webhook endpoints, the deliveries queued for them, and every attempt to deliver one (the delivery log)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mercato.clock import utcnow
from mercato.database import Base, new_id


class WebhookEndpoint(Base):
    """Where a vendor (or, with no vendor, the operator) wants events POSTed, and which ones."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    vendor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("vendors.id", ondelete="CASCADE"),
        index=True,
        doc="The vendor whose events it receives; NULL: the operator's endpoint, which receives every vendor's",
    )
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(Text, default="")
    event_types: Mapped[list[str]] = mapped_column(JSON, doc="The event types it subscribed to")
    secret: Mapped[str] = mapped_column(String(100), doc="whsec_… : signs every delivery")
    previous_secret: Mapped[str | None] = mapped_column(
        String(100), doc="The secret before the last rotation: signs alongside until previous_secret_until"
    )
    previous_secret_until: Mapped[datetime | None]
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(
        Integer, default=0, doc="Failed attempts since the last success"
    )
    failing_since: Mapped[datetime | None] = mapped_column(doc="The first of those failed attempts")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), doc="Who registered it (the operator's endpoints' owner)"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WebhookDelivery(Base):
    """One event for one endpoint. Its ``id`` is the ``webhook-id`` header (``msg_<hex>``): the same on every
    attempt and on a resend, so a receiver recognises a redelivery. The body is stored as sent."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(100), doc="The event's own id: one delivery per endpoint")
    event_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text, doc="The JSON body, byte for byte as signed and sent")
    outbox_message_id: Mapped[uuid.UUID | None] = mapped_column(
        doc="The outbox message delivering it now (a resend replaces it)"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class WebhookAttempt(Base):
    """One HTTP attempt of a delivery: the delivery log."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime]
    succeeded: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    response_snippet: Mapped[str | None] = mapped_column(Text, doc="The first 500 characters of the answer")
