"""What the billing run has done, kept so that it is never done twice."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from mercato.clock import utcnow
from mercato.database import Base


class CloudRenewal(Base):
    """A cloud site's renewal for one billing date. The primary key makes a second renewal invoice for the
    same site and date impossible, however many billing runs race for it."""

    __tablename__ = "cloud_renewals"

    host_instance_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("host_instances.id", ondelete="CASCADE"), primary_key=True
    )
    billing_date: Mapped[date] = mapped_column(primary_key=True)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("invoices.id", ondelete="RESTRICT"), doc="None when nothing was due on that date"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
