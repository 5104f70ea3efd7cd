"""Quotes, orders, invoices and payments. Money is integer minor units plus the ISO currency of the document.

The seller of record is ``operator`` on the marketplace and ``vendor:<slug>`` on a vendor's direct store; each
seller has its own gapless invoice number series. Every marketplace app line records its revenue split at the
rate in force on the sale date, so that a refund reverses exactly what the sale recorded.
"""

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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mercato.clock import utcnow
from mercato.database import Base, enum_column, new_id
from mercato.licenses.models import License
from mercato.pricing import Channel, LicenseType

if TYPE_CHECKING:
    from mercato.accounts.models import HostInstance, Organisation
    from mercato.catalog.models import Listing


class QuoteStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    CANCELLED = "cancelled"


class InvoiceStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    CANCELLED = "cancelled"


class LineAction(StrEnum):
    """What a quote line does to a license; fulfilment has one handler per action."""

    NEW = "new"
    RENEWAL = "renewal"
    UPGRADE = "upgrade"
    CO_TERM = "co_term"
    EVALUATION = "evaluation"
    CLOUD_SUBSCRIPTION = "cloud_subscription"
    CLOUD_USER_CHANGE = "cloud_user_change"
    MIGRATION = "migration"
    """A direct license moves to the marketplace, upgraded to the host's tier in the same step if it must be."""

    @property
    def creates_license(self) -> bool:
        return self in (LineAction.NEW, LineAction.EVALUATION, LineAction.CLOUD_SUBSCRIPTION)

    @property
    def refundable(self) -> bool:
        """Refunds are for new purchases (DESIGN section 4)."""
        return self in (LineAction.NEW, LineAction.CLOUD_SUBSCRIPTION)


LINE_ACTIONS = "(" + ", ".join(f"'{action.value}'" for action in LineAction) + ")"


class Quote(Base):
    __tablename__ = "quotes"
    __table_args__ = (
        CheckConstraint("channel IN ('marketplace', 'direct')", name="channel"),
        CheckConstraint("status IN ('open', 'accepted', 'cancelled')", name="status"),
        # The quote lists, newest first: every quote, and one organisation's (migration 0022).
        Index("ix_quotes_created", "created_at", "id"),
        Index("ix_quotes_organisation_created", "organisation_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    host_instance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("host_instances.id", ondelete="RESTRICT"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    seller: Mapped[str] = mapped_column(String(100), doc="'operator' or 'vendor:<slug>'")
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(Integer)
    status: Mapped[QuoteStatus] = mapped_column(enum_column(QuoteStatus), default=QuoteStatus.OPEN)
    po_number: Mapped[str | None] = mapped_column(String(100))
    priced_on: Mapped[date]
    valid_until: Mapped[date]
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]

    lines: Mapped[list[QuoteLine]] = relationship(
        back_populates="quote", lazy="raise", cascade="all, delete-orphan", order_by="QuoteLine.position"
    )
    # Loaded only where asked for (a locked quote or invoice joins them): the invoice e-mail names the
    # organisation, a payment fulfils the quote on its host instance and mails the organisation's admins.
    organisation: Mapped[Organisation] = relationship(lazy="raise", viewonly=True)
    host_instance: Mapped[HostInstance] = relationship(lazy="raise", viewonly=True)


class QuoteLine(Base):
    __tablename__ = "quote_lines"
    __table_args__ = (
        UniqueConstraint("quote_id", "position"),
        CheckConstraint(f"action IN {LINE_ACTIONS}", name="action"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    quote_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    action: Mapped[LineAction] = mapped_column(enum_column(LineAction))
    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="RESTRICT"))
    product_key: Mapped[str] = mapped_column(String(200))
    vendor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("vendors.id", ondelete="RESTRICT"))
    license_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("licenses.id", ondelete="RESTRICT"),
        doc="The license a renewal, upgrade or co-term changes",
    )
    tier_users: Mapped[int] = mapped_column(Integer, doc="-1 is unlimited")
    users: Mapped[int | None] = mapped_column(Integer, doc="Cloud: users of the site")
    license_type: Mapped[LicenseType] = mapped_column(enum_column(LicenseType))
    period_start: Mapped[date]
    period_end: Mapped[date]
    amount_minor: Mapped[int] = mapped_column(Integer)
    explanation: Mapped[str] = mapped_column(Text)
    formula: Mapped[dict[str, Any]] = mapped_column(JSON)
    vendor_share_rate: Mapped[Decimal | None] = mapped_column(Numeric(6, 4))
    vendor_amount_minor: Mapped[int | None] = mapped_column(Integer)
    operator_amount_minor: Mapped[int | None] = mapped_column(Integer)

    quote: Mapped[Quote] = relationship(back_populates="lines", lazy="raise")
    license: Mapped[License | None] = relationship(lazy="raise")
    listing: Mapped[Listing] = relationship(lazy="raise", viewonly=True)
    """Loaded with a locked invoice: what fulfilling the line sells, with its app and vendor."""


class Order(Base):
    """An accepted quote. ``quote_id`` is unique: however often a quote is accepted, it makes one order."""

    __tablename__ = "orders"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    quote_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quotes.id", ondelete="RESTRICT"), unique=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    seller: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    quote: Mapped[Quote] = relationship(lazy="raise", viewonly=True)


class InvoiceSeries(Base):
    """The next invoice number of one seller: taken and advanced in the transaction that issues the invoice,
    so numbers have no gaps and no duplicates."""

    __tablename__ = "invoice_series"

    seller: Mapped[str] = mapped_column(String(100), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(20))
    next_number: Mapped[int] = mapped_column(Integer, default=1)


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("seller", "number"),
        CheckConstraint("status IN ('open', 'paid', 'cancelled')", name="status"),
        CheckConstraint(
            "amount_paid_minor >= 0 AND amount_paid_minor <= total_minor", name="paid_within_total"
        ),
        # The invoice lists, newest first: every invoice, one organisation's, and one seller's (a vendor's
        # direct store) (migration 0022).
        Index("ix_invoices_created", "created_at", "id"),
        Index("ix_invoices_organisation_created", "organisation_id", "created_at", "id"),
        Index("ix_invoices_seller_created", "seller", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(40))
    seller: Mapped[str] = mapped_column(String(100))
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"), unique=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(Integer)
    amount_paid_minor: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[InvoiceStatus] = mapped_column(enum_column(InvoiceStatus), default=InvoiceStatus.OPEN)
    po_number: Mapped[str | None] = mapped_column(String(100))
    issued_on: Mapped[date]
    due_on: Mapped[date]
    paid_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", lazy="raise", cascade="all, delete-orphan", order_by="InvoiceLine.position"
    )
    order: Mapped[Order] = relationship(lazy="raise", viewonly=True)
    """Loaded with a locked invoice, with the order's quote, for a payment that settles the invoice."""
    payments: Mapped[list[Payment]] = relationship(
        back_populates="invoice", lazy="raise", order_by="Payment.id"
    )


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (UniqueConstraint("invoice_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    quote_line_id: Mapped[int] = mapped_column(ForeignKey("quote_lines.id", ondelete="RESTRICT"), unique=True)
    license_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("licenses.id", ondelete="RESTRICT"), doc="Set when the line's license exists (at payment)"
    )
    description: Mapped[str] = mapped_column(Text)
    amount_minor: Mapped[int] = mapped_column(Integer)
    vendor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("vendors.id", ondelete="RESTRICT"))
    vendor_share_rate: Mapped[Decimal | None] = mapped_column(Numeric(6, 4))
    vendor_amount_minor: Mapped[int | None] = mapped_column(Integer)
    operator_amount_minor: Mapped[int | None] = mapped_column(Integer)
    refunded_at: Mapped[datetime | None]

    invoice: Mapped[Invoice] = relationship(back_populates="lines", lazy="raise")
    quote_line: Mapped[QuoteLine] = relationship(lazy="raise")
    license: Mapped[License | None] = relationship(lazy="raise")


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="positive"),
        # A payment is known by its reference on its invoice: the same money can never be recorded twice.
        UniqueConstraint("invoice_id", "reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"), index=True)
    provider: Mapped[str] = mapped_column(String(40), doc="e.g. bank_transfer, purchase_order")
    reference: Mapped[str] = mapped_column(String(200))
    amount_minor: Mapped[int] = mapped_column(Integer)
    received_on: Mapped[date]
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    invoice: Mapped[Invoice] = relationship(back_populates="payments", lazy="raise")


class IdempotentRequest(Base):
    """A remembered answer to a request that carried an ``Idempotency-Key``: a retry gets the same answer."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(200), doc="Who asked and what: e.g. the user and the endpoint")
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
