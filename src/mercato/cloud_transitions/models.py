"""The transitions a vendor ran, kept so that a second run (or two at once) moves nothing twice."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mercato.clock import utcnow
from mercato.database import Base, new_id


class CloudTransition(Base):
    """A vendor's direct cloud offering ``from_app`` mapped to its marketplace cloud listing ``to_app``.

    One row per vendor and ``from_app``: the unique key makes two transitions of the same offering (to two
    listings, or twice at once) impossible, and the row is the lock a run holds while it moves licenses. The
    counts add up over every run."""

    __tablename__ = "cloud_transitions"
    __table_args__ = (UniqueConstraint("vendor_id", "from_app"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    from_app: Mapped[str] = mapped_column(String(200))
    to_app: Mapped[str] = mapped_column(String(200))
    runs: Mapped[int] = mapped_column(Integer, default=0)
    invoiced: Mapped[int] = mapped_column(Integer, default=0, doc="Migration invoices issued, every run")
    moved_at_once: Mapped[int] = mapped_column(
        Integer,
        default=0,
        doc="Of those, invoices of nothing to pay: the license moved when they were issued",
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_run_at: Mapped[datetime] = mapped_column(default=utcnow)
