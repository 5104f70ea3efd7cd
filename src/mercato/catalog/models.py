"""Catalog tables.

A *listing* is one hosting (server, datacenter, cloud) of something sold: either a vendor's app or one of the
operator's host products. Host products are sold like any other item, so both kinds of listing share one table,
one price-table shape and one channel policy. ``product_key`` is the app key (``com.example.mockups.wiki``) or
the host product key (``wiki``), denormalised so that (product_key, hosting) is unique and indexable.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

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
from mercato.pricing import Hosting

UNLIMITED_USERS = -1
"""How an unlimited tier is stored in integer tier columns (Atlassian's unitCount uses the same)."""


class PriceList(StrEnum):
    STANDARD = "standard"  # the listing's prices, in every channel
    DIRECT = "direct"  # a vendor's override for its direct store


class VendorStatus(StrEnum):
    PENDING = "pending"  # signed up; the operator has not approved it yet, so nothing of it is sold
    ACTIVE = "active"
    SUSPENDED = "suspended"  # the operator stopped its new sales; licenses already sold keep working


class AppVisibility(StrEnum):
    PUBLIC = "public"  # listed, searchable and sold (listings that are published)
    HIDDEN = "hidden"  # not listed and not sold to new buyers; the vendor can make it public again
    RETIRED = "retired"  # for good: never sold again; licenses already sold keep working and renewing


class RevisionStatus(StrEnum):
    DRAFT = "draft"  # the vendor is still editing it
    SUBMITTED = "submitted"  # waiting for the operator's review
    APPROVED = "approved"  # the operator approved it and it was published
    REJECTED = "rejected"  # the operator sent it back, with a note saying why
    WITHDRAWN = "withdrawn"  # the vendor gave it up before a decision


OPEN_REVISION_STATES = (RevisionStatus.DRAFT, RevisionStatus.SUBMITTED)


class Operator(Base):
    """The marketplace operator: seller of record on marketplace orders. One row per deployment."""

    __tablename__ = "operators"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Vendor(Base):
    __tablename__ = "vendors"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(300))
    legal_name: Mapped[str] = mapped_column(String(200), default="", doc="The name on contracts and payouts")
    status: Mapped[VendorStatus] = mapped_column(enum_column(VendorStatus, 16), default=VendorStatus.ACTIVE)
    status_note: Mapped[str] = mapped_column(
        Text, default="", server_default="", doc="The operator's note on the last approval or suspension"
    )
    status_changed_at: Mapped[datetime | None]
    # How the operator pays the vendor: {"method": "bank_transfer", "account_holder": ..., "iban": ..., ...}.
    payout_details: Mapped[dict[str, str] | None] = mapped_column(JSON)
    direct_store: Mapped[bool] = mapped_column(
        default=False, doc="Whether the vendor sells on its own bills (its signing keys and invoice series)"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    apps: Mapped[list[App]] = relationship(back_populates="vendor", lazy="raise", order_by="App.key")


class HostProduct(Base):
    __tablename__ = "host_products"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    # User tiers the host is sold in (server/datacenter); -1 is unlimited.
    user_tiers: Mapped[list[int]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    apps: Mapped[list[App]] = relationship(back_populates="host_product", lazy="raise")


class App(Base):
    """A vendor's app for one host product. Its key identifies it in license keys and in the host."""

    __tablename__ = "apps"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(
        Text, default="", doc="Markdown; rendered and sanitised on output"
    )
    # Named links shown on the app page: {"documentation": "https://...", "support": ..., "source": ...}.
    links: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    visibility: Mapped[AppVisibility] = mapped_column(
        enum_column(AppVisibility, 16), default=AppVisibility.PUBLIC
    )
    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendors.id", ondelete="RESTRICT"), index=True)
    host_product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("host_products.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    vendor: Mapped[Vendor] = relationship(back_populates="apps", lazy="raise")
    host_product: Mapped[HostProduct] = relationship(back_populates="apps", lazy="raise")
    listings: Mapped[list[Listing]] = relationship(
        back_populates="app", lazy="raise", order_by="Listing.hosting"
    )


class Listing(Base):
    __tablename__ = "listings"
    __table_args__ = (
        UniqueConstraint("product_key", "hosting"),
        CheckConstraint("hosting IN ('server', 'datacenter', 'cloud')", name="hosting"),
        CheckConstraint("max_maintenance_months_marketplace BETWEEN 12 AND 120", name="marketplace_cap"),
        CheckConstraint("max_maintenance_months_direct BETWEEN 12 AND 120", name="direct_cap"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    product_key: Mapped[str] = mapped_column(String(200))
    hosting: Mapped[Hosting] = mapped_column(enum_column(Hosting))
    app_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    host_product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("host_products.id", ondelete="RESTRICT"), index=True
    )
    currency: Mapped[str] = mapped_column(String(3))
    # Channel policy (DESIGN section 2): which channels sell it and their rules.
    sold_on_marketplace: Mapped[bool] = mapped_column(default=True)
    sold_direct: Mapped[bool] = mapped_column(default=False)
    tier_must_match_host_marketplace: Mapped[bool] = mapped_column(default=True)
    tier_must_match_host_direct: Mapped[bool] = mapped_column(default=False)
    max_maintenance_months_marketplace: Mapped[int] = mapped_column(Integer, default=36)
    max_maintenance_months_direct: Mapped[int] = mapped_column(Integer, default=12)
    # License types sold besides commercial and evaluation (which every listing offers).
    license_types: Mapped[list[str]] = mapped_column(
        JSON, default=lambda: ["academic", "starter", "community", "open_source", "developer"]
    )
    published_at: Mapped[datetime | None] = mapped_column(
        doc="When the operator first approved it; NULL: not public yet, so not sold"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    app: Mapped[App | None] = relationship(back_populates="listings", lazy="raise")
    host_product: Mapped[HostProduct] = relationship(lazy="raise")
    price_tables: Mapped[list[PriceTable]] = relationship(
        back_populates="listing",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="PriceTable.effective_from",
    )
    releases: Mapped[list[Release]] = relationship(
        back_populates="listing", lazy="raise", cascade="all, delete-orphan", order_by="Release.build_date"
    )

    def prices_on(self, day: date) -> PriceTable:
        """The price table in force on ``day``: the latest that took effect on or before it (the first one for a
        day before any took effect). Needs ``price_tables`` loaded."""
        in_force = [table for table in self.price_tables if table.effective_from <= day]
        if in_force:
            return in_force[-1]
        if not self.price_tables:
            raise ValueError(f"listing {self.product_key} ({self.hosting}) has no price table")
        return self.price_tables[0]

    def prices_after(self, day: date) -> list[PriceTable]:
        """Price tables scheduled to take effect after ``day``, soonest first."""
        return [table for table in self.price_tables if table.effective_from > day]


class PriceTable(Base):
    """A listing's prices from ``effective_from`` on. A price change is a new table with a later date, so a
    quote, a renewal or a report of any day reads the prices of that day, and a change can be announced ahead.

    Server/Data Center tables hold ``tier_prices``; cloud tables a flat monthly price up to 10 users, the
    per-user ``cloud_brackets`` above it and the user tiers sold annually."""

    __tablename__ = "price_tables"
    __table_args__ = (UniqueConstraint("listing_id", "effective_from"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    effective_from: Mapped[date]
    cloud_flat_monthly_minor: Mapped[int | None] = mapped_column(Integer)
    cloud_annual_tiers: Mapped[list[int] | None] = mapped_column(JSON)
    announced_at: Mapped[datetime | None] = mapped_column(
        doc="When customers with renewals due before it took effect were told (a price change's notice)"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    listing: Mapped[Listing] = relationship(back_populates="price_tables", lazy="raise")
    tier_prices: Mapped[list[TierPrice]] = relationship(
        back_populates="price_table", lazy="raise", cascade="all, delete-orphan", order_by="TierPrice.id"
    )
    cloud_brackets: Mapped[list[CloudPriceBracket]] = relationship(
        back_populates="price_table",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="CloudPriceBracket.position",
    )


class TierPrice(Base):
    """One list price of a server/datacenter tier. ``price_list`` is 'standard' or a vendor's 'direct' override."""

    __tablename__ = "tier_prices"
    __table_args__ = (
        UniqueConstraint("price_table_id", "price_list", "tier_users"),
        CheckConstraint("price_list IN ('standard', 'direct')", name="price_list"),
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        CheckConstraint("tier_users > 0 OR tier_users = -1", name="tier_users"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    price_table_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("price_tables.id", ondelete="CASCADE"), index=True
    )
    price_list: Mapped[PriceList] = mapped_column(enum_column(PriceList, 16), default=PriceList.STANDARD)
    tier_users: Mapped[int] = mapped_column(Integer)
    amount_minor: Mapped[int] = mapped_column(Integer)

    price_table: Mapped[PriceTable] = relationship(back_populates="tier_prices", lazy="raise")


class CloudPriceBracket(Base):
    """Users above 10, up to ``up_to_users`` (NULL: no upper bound), cost ``per_user_monthly_minor`` each."""

    __tablename__ = "cloud_price_brackets"
    __table_args__ = (
        UniqueConstraint("price_table_id", "position"),
        CheckConstraint("per_user_monthly_minor >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    price_table_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("price_tables.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    up_to_users: Mapped[int | None] = mapped_column(Integer)
    per_user_monthly_minor: Mapped[int] = mapped_column(Integer)

    price_table: Mapped[PriceTable] = relationship(back_populates="cloud_brackets", lazy="raise")


class Release(Base):
    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("listing_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(64))
    build_date: Mapped[date]
    notes: Mapped[str] = mapped_column(Text, default="", doc="Release notes, Markdown")
    # The host versions the release works with, inclusive; NULL: no bound on that side.
    host_version_min: Mapped[str | None] = mapped_column(String(32))
    host_version_max: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    listing: Mapped[Listing] = relationship(back_populates="releases", lazy="raise")


class RevenueShareRate(Base):
    """The vendor's share of marketplace app sales for a hosting, in force from ``effective_from``."""

    __tablename__ = "revenue_share_rates"
    __table_args__ = (
        UniqueConstraint("hosting", "effective_from"),
        CheckConstraint("vendor_share >= 0 AND vendor_share <= 1", name="share_is_fraction"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    hosting: Mapped[Hosting] = mapped_column(enum_column(Hosting))
    effective_from: Mapped[date]
    vendor_share: Mapped[Decimal] = mapped_column(Numeric(6, 4))


class VendorRevenueShare(Base):
    """A vendor's own revenue-share agreement: its share of marketplace sales for a hosting from
    ``effective_from`` on. Where a vendor has none, the marketplace's standard rates apply."""

    __tablename__ = "vendor_revenue_shares"
    __table_args__ = (
        UniqueConstraint("vendor_id", "hosting", "effective_from"),
        CheckConstraint("vendor_share >= 0 AND vendor_share <= 1", name="share_is_fraction"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    hosting: Mapped[Hosting] = mapped_column(enum_column(Hosting))
    effective_from: Mapped[date]
    vendor_share: Mapped[Decimal] = mapped_column(Numeric(6, 4))


class ListingRevision(Base):
    """A vendor's proposed listing, or a proposed change to a published one, on its way through review:
    draft → submitted → approved (published) or rejected, with the reviewer's note.

    ``content`` is the whole listing as the catalog file writes it (``catalog.specs.ListingSpec``): what the
    operator reviews is exactly what gets published. A change of prices takes effect on
    ``prices_effective_from`` (at least the notice period after approval for a listing already public)."""

    __tablename__ = "listing_revisions"
    __table_args__ = (
        # One open revision (draft or submitted) per app and hosting, however many requests race.
        Index(
            "uq_listing_revisions_one_open_per_listing",
            "app_id",
            "hosting",
            unique=True,
            sqlite_where=text("status IN ('draft', 'submitted')"),
            postgresql_where=text("status IN ('draft', 'submitted')"),
        ),
        CheckConstraint(
            "status IN ('draft', 'submitted', 'approved', 'rejected', 'withdrawn')", name="status"
        ),
        CheckConstraint("hosting IN ('server', 'datacenter', 'cloud')", name="hosting"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    app_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    hosting: Mapped[Hosting] = mapped_column(enum_column(Hosting))
    status: Mapped[RevisionStatus] = mapped_column(
        enum_column(RevisionStatus, 16), default=RevisionStatus.DRAFT
    )
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    prices_effective_from: Mapped[date | None]
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]
    reviewed_at: Mapped[datetime | None]
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewer_note: Mapped[str] = mapped_column(Text, default="")

    app: Mapped[App] = relationship(lazy="raise")
