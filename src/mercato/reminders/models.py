"""Which renewal reminder was sent for which license and end date, and who opted out of them."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mercato.clock import utcnow
from mercato.database import Base, new_id


class RenewalReminder(Base):
    """One reminder sent. The unique key makes a second one for the same license, reminder and end date
    impossible, however often (and however many at once) billing runs try."""

    __tablename__ = "renewal_reminders"
    __table_args__ = (UniqueConstraint("license_id", "reminder", "end_date"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    license_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("licenses.id", ondelete="CASCADE"))
    reminder: Mapped[str] = mapped_column(
        String(32), doc="90_days_before, 30_days_before, 7_days_before, 7_days_after"
    )
    end_date: Mapped[date] = mapped_column(doc="The maintenance or term end it is about")
    sent_on: Mapped[date]
    recipients: Mapped[int] = mapped_column(doc="How many addresses it went to (0: everyone had opted out)")
    outbox_message_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReminderOptOut(Base):
    """A billing contact (an address) who wants no renewal reminders for an organisation."""

    __tablename__ = "reminder_opt_outs"
    __table_args__ = (UniqueConstraint("organisation_id", "email"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
