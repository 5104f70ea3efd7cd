"""License records. A license keeps its identity (and entitlement number) for life; each change of its terms
issues a new key, and every key ever issued stays recorded against it."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mercato.database import Base, enum_column, new_id, utcnow


class License(Base):
    __tablename__ = "licenses"
    __table_args__ = (
        CheckConstraint("channel IN ('marketplace', 'direct')", name="channel"),
        CheckConstraint(
            "status IN ('active', 'expired', 'suspended', 'cancelled', 'superseded')", name="status"
        ),
        CheckConstraint("tier_users > 0 OR tier_users = -1", name="tier_users"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    entitlement_number: Mapped[str] = mapped_column(String(32), unique=True)
    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="RESTRICT"), index=True)
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"),
        index=True,
        doc="NULL for keys issued by support tools",
    )
    host_instance_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("host_instances.id", ondelete="RESTRICT"), index=True
    )
    product_key: Mapped[str] = mapped_column(String(200), index=True)
    hosting: Mapped[str] = mapped_column(enum_column())
    channel: Mapped[str] = mapped_column(enum_column())
    issuer: Mapped[str] = mapped_column(String(100))
    license_type: Mapped[str] = mapped_column(enum_column())
    tier_users: Mapped[int] = mapped_column(Integer, doc="-1 is unlimited")
    host_binding: Mapped[str] = mapped_column(String(200), doc="Server id, or the cloud site")
    evaluation: Mapped[bool] = mapped_column(default=False)
    maintenance_start: Mapped[date | None]
    maintenance_end: Mapped[date | None]
    term_end: Mapped[date | None]
    status: Mapped[str] = mapped_column(enum_column(), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    keys: Mapped[list[LicenseKey]] = relationship(
        back_populates="license", lazy="raise", order_by="LicenseKey.issued_at"
    )


class LicenseKey(Base):
    """One signed key issued for a license. ``serial`` is the key's own id (the token's ``jti``)."""

    __tablename__ = "license_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    license_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("licenses.id", ondelete="CASCADE"), index=True)
    kid: Mapped[str] = mapped_column(String(64))
    token: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(500))
    superseded_at: Mapped[datetime | None]
    # A superseded key keeps validating until then, so the admin has time to paste the new one.
    superseded_grace_until: Mapped[datetime | None]

    license: Mapped[License] = relationship(back_populates="keys", lazy="raise")
