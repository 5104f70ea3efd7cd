"""The revenue ledger, payouts and what each payout covers.

``ledger_entries`` is append-only: one row per money-moving license event of a vendor's app (a sale, renewal,
upgrade, co-term, migration, refund) and per operator adjustment. A correction is a new entry that names the
entry it corrects; nothing updates or deletes an entry (the database refuses both, see migration 0014).

A payout claims the entries it pays in ``payout_items``, whose ``entry_id`` is unique: an entry can be paid
once, by one payout, ever. ``payouts`` is unique per vendor, currency and month: one payout run of a month pays
each vendor once per currency, however often (and however many at once) it runs.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mercato.clock import utcnow
from mercato.database import Base, enum_column, new_id
from mercato.pricing import Channel, Hosting


class EntryKind(StrEnum):
    """What moved the money; the sales are named after the license event (and quote line action) that made
    them."""

    NEW = "new"
    CLOUD_SUBSCRIPTION = "cloud_subscription"
    RENEWAL = "renewal"
    UPGRADE = "upgrade"
    CO_TERM = "co_term"
    MIGRATION = "migration"
    REFUND = "refund"
    ADJUSTMENT = "adjustment"


ENTRY_KINDS = "(" + ", ".join(f"'{kind.value}'" for kind in EntryKind) + ")"


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint(f"kind IN {ENTRY_KINDS}", name="kind"),
        CheckConstraint("channel IN ('marketplace', 'direct')", name="channel"),
        CheckConstraint("vendor_amount_minor + operator_amount_minor = amount_minor", name="split_sums"),
        CheckConstraint("gross_minor - discount_minor = amount_minor", name="gross_less_discount"),
        Index("ix_ledger_entries_vendor_currency_occurred", "vendor_id", "currency", "occurred_at"),
        # The vendor's entries by time, carrying what the monthly summary adds up: on PostgreSQL the summary and
        # the newest-first transactions report read this index alone (migration 0016).
        Index(
            "ix_ledger_entries_vendor_occurred",
            "vendor_id",
            "occurred_at",
            postgresql_include=["currency", "kind", "amount_minor", "vendor_amount_minor"],
        ),
        # A license's entries, newest last: its last sale type in the licenses report (migration 0016).
        Index("ix_ledger_entries_license_occurred", "license_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(
        String(120),
        unique=True,
        doc="What made the entry, e.g. 'line:42:new', 'line:42:refund', 'adjustment:<key>': the database "
        "refuses a second entry for the same event, so recording and backfilling are idempotent",
    )
    kind: Mapped[EntryKind] = mapped_column(enum_column(EntryKind))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendors.id", ondelete="RESTRICT"))
    app_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("apps.id", ondelete="RESTRICT"))
    license_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("licenses.id", ondelete="RESTRICT"))
    invoice_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoice_lines.id", ondelete="RESTRICT"), index=True
    )
    hosting: Mapped[Hosting | None] = mapped_column(enum_column(Hosting))
    currency: Mapped[str] = mapped_column(String(3))
    gross_minor: Mapped[int] = mapped_column(Integer, doc="Before discounts")
    discount_minor: Mapped[int] = mapped_column(Integer, default=0)
    amount_minor: Mapped[int] = mapped_column(Integer, doc="What the customer paid (negative: given back)")
    vendor_share_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    vendor_amount_minor: Mapped[int] = mapped_column(Integer)
    operator_amount_minor: Mapped[int] = mapped_column(Integer)
    corrects_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_entries.id", ondelete="RESTRICT"),
        doc="A refund's or adjustment's original entry, whose rate it uses",
    )
    description: Mapped[str] = mapped_column(Text, default="")
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class PayoutStatus(StrEnum):
    PAID = "paid"


class Payout(Base):
    __tablename__ = "payouts"
    __table_args__ = (
        UniqueConstraint("vendor_id", "currency", "month", name="uq_payouts_vendor_currency_month"),
        CheckConstraint("amount_minor > 0", name="positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendors.id", ondelete="RESTRICT"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    month: Mapped[str] = mapped_column(String(7), doc="YYYY-MM: the month whose closing balance it pays")
    amount_minor: Mapped[int] = mapped_column(Integer)
    entry_count: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(200), doc="The operator's reference for the transfer")
    status: Mapped[PayoutStatus] = mapped_column(enum_column(PayoutStatus, 16), default=PayoutStatus.PAID)
    method: Mapped[str | None] = mapped_column(String(40), doc="From the vendor's payout details at the time")
    paid_at: Mapped[datetime]


class PayoutItem(Base):
    """One ledger entry a payout pays: ``entry_id`` is unique, so no entry is ever paid twice."""

    __tablename__ = "payout_items"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_entries.id", ondelete="RESTRICT"), primary_key=True, autoincrement=False
    )
    payout_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payouts.id", ondelete="RESTRICT"), index=True)
