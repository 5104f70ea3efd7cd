"""Requests and responses of the accounts API: who am I, tokens, organisations, members and host instances."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mercato.fields import Day, Text
from mercato.paging import PageOut
from mercato.pricing.types import BillingCycle, Hosting, LicenseType

Scope = Literal["read", "write"]
CustomerRole = Literal["customer_admin", "billing_contact"]
UNLIMITED = -1


def _tier(value: object) -> object:
    """'unlimited' (any case) is the same as -1; everything else is left to the field's own checks."""
    if isinstance(value, str) and value.strip().lower() == "unlimited":
        return UNLIMITED
    return value


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    name: str
    active: bool
    has_password: bool = Field(description="False for accounts that sign in with API tokens only.")


class OrganisationRef(BaseModel):
    id: uuid.UUID
    slug: str
    name: str


class VendorRef(BaseModel):
    id: uuid.UUID
    slug: str
    name: str


class MembershipOut(BaseModel):
    role: str = Field(description="customer_admin, billing_contact, vendor_member or operator_admin.")
    organisation: OrganisationRef | None = Field(description="For customer_admin and billing_contact.")
    vendor: VendorRef | None = Field(description="For vendor_member.")


class MeOut(BaseModel):
    user: UserOut
    operator: bool = Field(description="Whether the user is operator staff (sees and acts for everyone).")
    scopes: list[str] = Field(description="What the token used for this request may do: read, write.")
    memberships: list[MembershipOut]


class TokenIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "nightly report", "scopes": ["read"], "expires_in_days": 90}]
        },
    )

    name: Text | None = Field(
        default=None,
        max_length=200,
        description="What the token is for, to recognise it in lists (e.g. 'CI deploys').",
        examples=["Nightly license report"],
    )
    scopes: list[Scope] = Field(
        default=["read"],
        min_length=1,
        description="read, or read and write. write includes read. A token cannot have a scope that the "
        "token creating it lacks.",
    )
    expires_in_days: int | None = Field(
        default=None, ge=1, le=3650, description="Days until the token stops working; omit for no expiry."
    )


class TokenOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str = Field(description="The token's first characters, to recognise it; the rest is never shown.")
    scopes: list[str]
    state: Literal["active", "expired", "revoked"]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None = Field(description="Updated at most once a minute.")
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(
        description="The token itself, shown only in this response: Mercato keeps only a hash of it and "
        "cannot show it again. Store it now and send it as 'Authorization: Bearer <token>'.",
    )


class TokenPage(PageOut):
    items: list[TokenOut]


class OrganisationIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"slug": "initech", "name": "Initech", "billing_email": "ap@initech.example", "country": "US"}
            ]
        },
    )

    slug: Text = Field(
        min_length=1, max_length=64, description="Short name for URLs and commands.", examples=["initech"]
    )
    name: Text = Field(min_length=1, max_length=200, examples=["Initech"])
    billing_email: Text = Field(
        max_length=254, description="Where invoices go.", examples=["ap@initech.example"]
    )
    country: Text | None = Field(
        default=None, max_length=2, description="ISO 3166 alpha-2 code, e.g. US.", examples=["US"]
    )


class OrganisationOut(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    billing_email: str
    country: str | None
    created_at: datetime


class OrganisationPage(PageOut):
    items: list[OrganisationOut]


class MemberIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"email": "carol@acme.example", "role": "billing_contact", "name": "Carol Acme"}]
        },
    )

    email: Text = Field(max_length=254, examples=["carol@acme.example"])
    role: CustomerRole
    name: Text | None = Field(
        default=None,
        max_length=200,
        description="Used only when the e-mail is new to Mercato; defaults to the part before the @.",
    )


class MemberOut(BaseModel):
    user: UserOut
    role: str = Field(description="customer_admin or billing_contact.")
    since: datetime


class MemberAddedOut(BaseModel):
    """The same answer whether or not the address already had an account: adding a member must not tell an
    admin who else uses Mercato."""

    email: str
    role: str = Field(description="customer_admin or billing_contact.")
    organisation: str = Field(description="The organisation's slug.")
    since: datetime


class MemberPage(PageOut):
    items: list[MemberOut]


class HostInstanceTermsIn(BaseModel):
    """Fields shared by registering a host instance and changing one."""

    model_config = ConfigDict(extra="forbid")

    name: Text | None = Field(default=None, max_length=200, description="A label, e.g. 'Production wiki'.")
    host_license_type: LicenseType | None = Field(
        default=None, description="The host's own license type (default commercial)."
    )
    user_tier: int | None = Field(
        default=None,
        description="Server and Data Center: the host license's user tier, one of the host product's tiers; -1 "
        'or "unlimited" for unlimited.',
        examples=[100],
    )
    host_maintenance_end: Day | None = Field(
        default=None, description="Server and Data Center: when the host license's maintenance ends."
    )
    cloud_users: int | None = Field(default=None, ge=1, description="Cloud: the site's users.")
    billing_cycle: BillingCycle | None = Field(default=None, description="Cloud: monthly or annual.")
    next_billing_date: Day | None = Field(default=None, description="Cloud: the site's next billing date.")

    _unlimited = field_validator("user_tier", mode="before")(_tier)


class HostInstanceIn(HostInstanceTermsIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "host_product": "wiki",
                    "hosting": "datacenter",
                    "server_id": "DC4N-7QX2-81LM-ZK3P",
                    "name": "Acme wiki cluster",
                    "user_tier": 500,
                    "host_maintenance_end": "2027-09-30",
                },
                {
                    "host_product": "wiki",
                    "hosting": "cloud",
                    "server_id": "acme-sandbox.wiki.example",
                    "cloud_users": 40,
                    "billing_cycle": "monthly",
                    "next_billing_date": "2026-12-15",
                },
            ]
        }
    )

    host_product: Text = Field(
        max_length=64, description="Host product key: wiki, tracker.", examples=["wiki"]
    )
    hosting: Hosting
    server_id: Text = Field(
        max_length=200,
        description="Server and Data Center: the host's server id. Cloud: the site's hostname.",
        examples=["BX7Q-2M9L-33KD-W1PA"],
    )


class HostInstanceChangesIn(HostInstanceTermsIn):
    """The fields to change; fields left out keep their value, a field sent as null is cleared. The host
    product, hosting and server id never change: register a new host instance instead."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"user_tier": 250, "host_maintenance_end": "2028-03-31"}]}
    )


class HostInstanceOut(BaseModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    host_product: str = Field(description="Host product key.")
    hosting: str
    server_id: str = Field(description="Server id, or the cloud site's hostname.")
    name: str
    host_license_type: str
    user_tier: int | None = Field(description="Server and Data Center: users; -1 is unlimited.")
    host_maintenance_end: date | None
    cloud_users: int | None
    billing_cycle: str | None
    next_billing_date: date | None
    created_at: datetime


class HostInstancePage(PageOut):
    items: list[HostInstanceOut]
