"""A vendor's transition campaign, the licenses it is about, and each e-mail it sent."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mercato.clock import utcnow
from mercato.database import Base, enum_column, new_id


class CampaignStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class TransitionEmailKind(StrEnum):
    ANNOUNCEMENT = "announcement"
    DAYS_30 = "30_days_before"
    DAYS_7 = "7_days_before"
    DAYS_1 = "1_day_before"


class TransitionCampaign(Base):
    """A vendor's announcement that its direct licenses of some apps move to the marketplace by a deadline.

    Its members are fixed when it is made (``TransitionMember``): a direct license sold later is not told of a
    deadline it was not warned of in time."""

    __tablename__ = "transition_campaigns"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    app_keys: Mapped[list[str]] = mapped_column(JSON)
    notice_date: Mapped[date] = mapped_column(doc="From this day on the customers are told")
    deadline: Mapped[date] = mapped_column(doc="The day by which the licenses should have moved")
    message: Mapped[str] = mapped_column(Text, doc="The vendor's own words, quoted in every e-mail")
    status: Mapped[CampaignStatus] = mapped_column(enum_column(CampaignStatus), default=CampaignStatus.ACTIVE)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]

    members: Mapped[list[TransitionMember]] = relationship(
        back_populates="campaign", order_by="TransitionMember.id", lazy="selectin"
    )


class TransitionMember(Base):
    """One direct license a campaign is about, and the migration quote it last offered its customer."""

    __tablename__ = "transition_members"
    __table_args__ = (UniqueConstraint("campaign_id", "license_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("transition_campaigns.id", ondelete="CASCADE"), index=True
    )
    license_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("licenses.id", ondelete="CASCADE"), index=True)
    quote_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("quotes.id", ondelete="SET NULL"), doc="The latest migration quote e-mailed"
    )

    campaign: Mapped[TransitionCampaign] = relationship(back_populates="members", lazy="raise")


class TransitionEmail(Base):
    """One e-mail of a campaign about one license. The unique key makes a second e-mail of the same kind about
    the same license impossible, however often (and however many at once) runs try."""

    __tablename__ = "transition_emails"
    __table_args__ = (UniqueConstraint("campaign_id", "license_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("transition_campaigns.id", ondelete="CASCADE"), index=True
    )
    license_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("licenses.id", ondelete="CASCADE"))
    kind: Mapped[TransitionEmailKind] = mapped_column(enum_column(TransitionEmailKind))
    sent_on: Mapped[date]
    quote_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("quotes.id", ondelete="SET NULL"))
    recipients: Mapped[int] = mapped_column(doc="How many addresses it went to")
    outbox_message_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
