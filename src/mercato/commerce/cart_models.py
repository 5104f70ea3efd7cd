"""The shopping cart: what a signed-in buyer means to quote, one row per app and host instance.

Why a table of its own (and not the browser session or a cookie): a cart must outlive a sign-out and a second
device, and carry nothing a browser could alter. It is keyed by the user, not by the web session, so it
survives signing in again; one row per (user, host instance, product) makes adding the same app twice a change
of the row, not a second line. Rows hold only what the buyer chose; every price, rule and total comes from the
quoting service when the cart becomes a quote.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mercato.clock import utcnow
from mercato.database import Base, enum_column
from mercato.pricing import Channel


class CartItem(Base):
    __tablename__ = "cart_items"
    __table_args__ = (
        UniqueConstraint("user_id", "host_instance_id", "product_key"),
        CheckConstraint("years >= 1 AND years <= 10", name="years"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    host_instance_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("host_instances.id", ondelete="CASCADE"), index=True
    )
    product_key: Mapped[str] = mapped_column(String(200), doc="App key, or a host product key")
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    tier: Mapped[str | None] = mapped_column(
        String(16), doc="'100', 'unlimited'; none for a monthly cloud site"
    )
    years: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
