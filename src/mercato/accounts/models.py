"""People, the organisations they act for, and how they prove who they are.

A user holds memberships: as an admin or billing contact of a customer organisation, as a member of a vendor's
team, or as operator staff. What a request may see and do follows from those memberships alone.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint, and_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mercato.clock import utcnow
from mercato.database import Base, enum_column, new_id
from mercato.pricing import BillingCycle, Hosting, LicenseType


class Role(StrEnum):
    CUSTOMER_ADMIN = "customer_admin"  # buys, renews, upgrades and sees keys of its organisation
    BILLING_CONTACT = "billing_contact"  # sees and pays its organisation's invoices
    VENDOR_MEMBER = "vendor_member"  # sees its vendor's apps, licenses and sales
    OPERATOR_ADMIN = "operator_admin"  # runs the marketplace: sees everything, acts for customers


class Organisation(Base):
    """A customer: owns host instances, licenses, quotes and invoices."""

    __tablename__ = "organisations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    billing_email: Mapped[str] = mapped_column(String(254))
    country: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    host_instances: Mapped[list[HostInstance]] = relationship(back_populates="organisation", lazy="raise")
    admins: Mapped[list[User]] = relationship(
        secondary="memberships",
        primaryjoin=lambda: and_(
            Organisation.id == Membership.organisation_id, Membership.role == Role.CUSTOMER_ADMIN
        ),
        secondaryjoin=lambda: User.id == Membership.user_id,
        order_by=lambda: User.email,
        lazy="raise",
        viewonly=True,
    )
    """Its admins, who receive its license keys; loaded with a locked invoice (``key_recipients``)."""


class HostInstance(Base):
    """One installation of a host product (a server with its host license) or one cloud site."""

    __tablename__ = "host_instances"
    __table_args__ = (
        UniqueConstraint("host_product_id", "hosting", "server_id"),
        CheckConstraint("hosting IN ('server', 'datacenter', 'cloud')", name="hosting"),
        CheckConstraint("user_tier IS NULL OR user_tier > 0 OR user_tier = -1", name="user_tier"),
        CheckConstraint("cloud_users IS NULL OR cloud_users > 0", name="cloud_users"),
        CheckConstraint(
            "billing_cycle IS NULL OR billing_cycle IN ('monthly', 'annual')", name="billing_cycle"
        ),
        # The billing run's due cloud sites, earliest first.
        Index("ix_host_instances_billing", "hosting", "next_billing_date", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    host_product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("host_products.id", ondelete="RESTRICT"))
    hosting: Mapped[Hosting] = mapped_column(enum_column(Hosting))
    server_id: Mapped[str] = mapped_column(String(200), doc="Server id, or the cloud site's hostname")
    name: Mapped[str] = mapped_column(String(200), default="")
    host_license_type: Mapped[LicenseType] = mapped_column(
        enum_column(LicenseType), default=LicenseType.COMMERCIAL
    )
    user_tier: Mapped[int | None] = mapped_column(Integer, doc="Server/datacenter users; -1 is unlimited")
    cloud_users: Mapped[int | None] = mapped_column(Integer)
    host_maintenance_end: Mapped[date | None]
    billing_cycle: Mapped[BillingCycle | None] = mapped_column(enum_column(BillingCycle, 16))
    next_billing_date: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="host_instances", lazy="raise")


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200), doc="argon2id; NULL: token-only account")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", lazy="raise")


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "organisation_id", "vendor_id"),
        CheckConstraint(
            "(role IN ('customer_admin', 'billing_contact') AND organisation_id IS NOT NULL AND vendor_id IS NULL)"
            " OR (role = 'vendor_member' AND vendor_id IS NOT NULL AND organisation_id IS NULL)"
            " OR (role = 'operator_admin' AND organisation_id IS NULL AND vendor_id IS NULL)",
            name="role_target",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    vendor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("vendors.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships", lazy="raise")


class ApiToken(Base):
    """A bearer token. Only a hash is stored; the token itself is shown once, when it is created."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), unique=True, doc="Shown in lists to recognise the token")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, doc="SHA-256 of the whole token, hex")
    scopes: Mapped[list[str]] = mapped_column(JSON, doc="'read' and/or 'write'")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class WebSession(Base):
    """A browser's signed-in session. The cookie holds a random token; only its SHA-256 is stored. Unsafe
    requests must also send the session's CSRF token, which a cross-site page cannot read."""

    __tablename__ = "web_sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class Invitation(Base):
    """An e-mail invitation to a customer organisation. The link carries a random token; only its SHA-256 is
    kept. One row per organisation and address: inviting again refreshes it (a new token and expiry)."""

    __tablename__ = "invitations"
    __table_args__ = (
        UniqueConstraint("organisation_id", "email"),
        CheckConstraint("role IN ('customer_admin', 'billing_contact')", name="customer_role"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]


class PasswordReset(Base):
    """A password-reset link: short-lived and used once. Only the SHA-256 of its token is kept."""

    __tablename__ = "password_resets"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class SignUp(Base):
    """A sign-up waiting for its e-mail address to be confirmed. The account is made when the link in the
    confirmation e-mail is followed, so an address proves it is the sign-up's before anyone can use it (and
    the sign-up form answers alike whether or not the address has an account)."""

    __tablename__ = "sign_ups"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200), doc="argon2id")
    organisation_name: Mapped[str | None] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
