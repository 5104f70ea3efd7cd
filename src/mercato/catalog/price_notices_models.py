"""Who was told of which price change: one row per price table and customer organisation."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mercato.clock import utcnow
from mercato.database import Base


class PriceChangeNotice(Base):
    """One customer organisation told of one price change (a future ``PriceTable``) by e-mail.

    The unique key makes a second notice of the same change to the same organisation impossible, however many
    announcing runs race; the row also records which licenses the e-mail named and which outbox message
    carries it."""

    __tablename__ = "price_change_notices"
    __table_args__ = (UniqueConstraint("price_table_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    price_table_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("price_tables.id", ondelete="CASCADE"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    licenses: Mapped[list[str]] = mapped_column(JSON, doc="Entitlement numbers the e-mail named")
    outbox_message_id: Mapped[uuid.UUID | None] = mapped_column(doc="The e-mail's outbox message")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
