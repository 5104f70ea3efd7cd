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

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mercato.clock import utcnow
from mercato.database import Base, enum_column, new_id
from mercato.pricing import Hosting

UNLIMITED_USERS = -1
"""How an unlimited tier is stored in integer tier columns (Atlassian's unitCount uses the same)."""


class PriceList(StrEnum):
    STANDARD = "standard"  # the listing's prices, in every channel
    DIRECT = "direct"  # a vendor's override for its direct store


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
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

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
    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendors.id", ondelete="RESTRICT"), index=True)
    host_product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("host_products.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

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
    # Cloud price table: flat monthly price up to 10 users, then per-user brackets (CloudPriceBracket).
    cloud_flat_monthly_minor: Mapped[int | None] = mapped_column(Integer)
    cloud_annual_tiers: Mapped[list[int] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    app: Mapped[App | None] = relationship(back_populates="listings", lazy="raise")
    host_product: Mapped[HostProduct] = relationship(lazy="raise")
    tier_prices: Mapped[list[TierPrice]] = relationship(
        back_populates="listing", lazy="raise", cascade="all, delete-orphan", order_by="TierPrice.id"
    )
    cloud_brackets: Mapped[list[CloudPriceBracket]] = relationship(
        back_populates="listing",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="CloudPriceBracket.position",
    )
    releases: Mapped[list[Release]] = relationship(
        back_populates="listing", lazy="raise", cascade="all, delete-orphan", order_by="Release.build_date"
    )


class TierPrice(Base):
    """One list price of a server/datacenter tier. ``price_list`` is 'standard' or a vendor's 'direct' override."""

    __tablename__ = "tier_prices"
    __table_args__ = (
        UniqueConstraint("listing_id", "price_list", "tier_users"),
        CheckConstraint("price_list IN ('standard', 'direct')", name="price_list"),
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        CheckConstraint("tier_users > 0 OR tier_users = -1", name="tier_users"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    price_list: Mapped[PriceList] = mapped_column(enum_column(PriceList, 16), default=PriceList.STANDARD)
    tier_users: Mapped[int] = mapped_column(Integer)
    amount_minor: Mapped[int] = mapped_column(Integer)

    listing: Mapped[Listing] = relationship(back_populates="tier_prices", lazy="raise")


class CloudPriceBracket(Base):
    """Users above 10, up to ``up_to_users`` (NULL: no upper bound), cost ``per_user_monthly_minor`` each."""

    __tablename__ = "cloud_price_brackets"
    __table_args__ = (
        UniqueConstraint("listing_id", "position"),
        CheckConstraint("per_user_monthly_minor >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    up_to_users: Mapped[int | None] = mapped_column(Integer)
    per_user_monthly_minor: Mapped[int] = mapped_column(Integer)

    listing: Mapped[Listing] = relationship(back_populates="cloud_brackets", lazy="raise")


class Release(Base):
    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("listing_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(64))
    build_date: Mapped[date]
    notes: Mapped[str] = mapped_column(Text, default="")

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
