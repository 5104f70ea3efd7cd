"""License records, their keys and their history. A license keeps its identity (and entitlement number) for
life; each change of its terms issues a new key, every key ever issued stays recorded against it, and every
change is one entry in its history, written by ``mercato.licenses.events`` alone."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mercato.clock import utcnow
from mercato.database import Base, enum_column, new_id
from mercato.licenses.states import LicenseState as LicenseState  # where the rest of Mercato finds it
from mercato.pricing import Channel, Hosting, LicenseType

if TYPE_CHECKING:
    from mercato.catalog.models import Listing


class LicenseEventKind(StrEnum):
    """What happened to a license: the ``kind`` of its history entries and of the events subscribers see.
    The values of sales are the quote line actions that made them."""

    NEW = "new"
    EVALUATION = "evaluation"
    CLOUD_SUBSCRIPTION = "cloud_subscription"
    RENEWAL = "renewal"
    UPGRADE = "upgrade"
    CO_TERM = "co_term"
    REFUND = "refund"
    SUSPENSION = "suspended"
    EXPIRY = "expired"
    UNLICENSED = "unlicensed"
    MAINTENANCE_LAPSED = "maintenance_lapsed"
    REISSUE = "reissue"
    REVOCATION = "revocation"
    CANCELLATION = "cancellation"
    MIGRATION = "migration"
    """A direct license moved to the marketplace (or a vendor's cloud customer to its marketplace listing): same
    license and entitlement number, new channel, seller and key."""
    IMPORT = "import"
    """A license sold elsewhere, brought into its vendor's direct channel by an import (no money moves)."""


LAPSE_NOT_RECORDED = (
    "hosting = 'server' AND (maintenance_lapse_recorded_for IS NULL "
    "OR maintenance_lapse_recorded_for <> maintenance_end)"
)
"""Server licenses whose maintenance end's lapse is not in their history yet: the predicate of the partial index
``ix_licenses_lapse_pending``. The billing run's query states it exactly so, for both databases to use it."""


class License(Base):
    __tablename__ = "licenses"
    __table_args__ = (
        CheckConstraint("channel IN ('marketplace', 'direct')", name="channel"),
        CheckConstraint(
            "status IN ('active', 'expired', 'suspended', 'cancelled', 'superseded')", name="status"
        ),
        CheckConstraint("tier_users > 0 OR tier_users = -1", name="tier_users"),
        # The billing run's queries: terms ended or unpaid by date, renewal reminders by end date, and
        # maintenance lapses not recorded yet.
        Index("ix_licenses_status_term_end", "status", "term_end"),
        Index("ix_licenses_hosting_term_end", "hosting", "term_end"),
        Index("ix_licenses_hosting_maintenance_end", "hosting", "maintenance_end"),
        Index(
            "ix_licenses_lapse_pending",
            "maintenance_end",
            postgresql_where=text(LAPSE_NOT_RECORDED),
            sqlite_where=text(LAPSE_NOT_RECORDED),
        ),
        # The license lists, newest first: every license, and one organisation's (migration 0022).
        Index("ix_licenses_created", "created_at", "id"),
        Index("ix_licenses_organisation_created", "organisation_id", "created_at", "id"),
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
    hosting: Mapped[Hosting] = mapped_column(enum_column(Hosting))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    issuer: Mapped[str] = mapped_column(String(100))
    license_type: Mapped[LicenseType] = mapped_column(enum_column(LicenseType))
    tier_users: Mapped[int] = mapped_column(Integer, doc="-1 is unlimited")
    host_binding: Mapped[str] = mapped_column(String(200), doc="Server id, or the cloud site")
    evaluation: Mapped[bool] = mapped_column(default=False)
    maintenance_start: Mapped[date | None]
    maintenance_end: Mapped[date | None]
    maintenance_lapse_recorded_for: Mapped[date | None] = mapped_column(
        doc="The maintenance end whose lapse the history records (the billing run records each end's once)"
    )
    term_end: Mapped[date | None]
    status: Mapped[LicenseState] = mapped_column(enum_column(LicenseState), default=LicenseState.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # What was sold: read only (with its releases, for the newest release the license may install).
    listing: Mapped[Listing] = relationship(lazy="raise", viewonly=True)
    # Keys issued in the same instant (a test clock, or a fast upgrade) still list the replaced one first.
    keys: Mapped[list[LicenseKey]] = relationship(
        back_populates="license",
        lazy="raise",
        order_by="[LicenseKey.issued_at, LicenseKey.superseded_at.is_(None)]",
    )

    @property
    def paid_until(self) -> date:
        """The end of what was paid for: maintenance for server licenses, the term for the others."""
        end = self.maintenance_end if self.hosting == Hosting.SERVER else self.term_end
        return end or self.maintenance_end or self.term_end or date.min


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


class LicenseTransaction(Base):
    """One entry in a license's history: a sale, renewal, upgrade, co-term, refund or state change, with its
    money and revenue split. Append-only; written only by ``mercato.licenses.events.LicenseEvents``."""

    __tablename__ = "license_transactions"
    __table_args__ = (UniqueConstraint("license_id", "once_key"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    license_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("licenses.id", ondelete="CASCADE"), index=True)
    kind: Mapped[LicenseEventKind] = mapped_column(enum_column(LicenseEventKind))
    invoice_line_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_lines.id", ondelete="RESTRICT"))
    currency: Mapped[str | None] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(Integer, default=0)
    vendor_share_rate: Mapped[Decimal | None] = mapped_column(Numeric(6, 4))
    vendor_amount_minor: Mapped[int | None] = mapped_column(Integer)
    operator_amount_minor: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    once_key: Mapped[str | None] = mapped_column(
        String(100),
        doc="Set on changes that happen once per license and date (a lapse, a suspension): the database "
        "refuses a second entry, so two billing runs at once cannot record it twice",
    )
