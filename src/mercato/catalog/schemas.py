"""What the catalog API returns. Amounts are decimal strings; tiers are a user count or "unlimited"."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from mercato.paging import PageOut


class ChannelRules(BaseModel):
    sold: bool = Field(description="Whether this channel sells the listing.")
    tier_must_match_host: bool = Field(
        description="Whether the app's user tier must cover the host's user tier in this channel."
    )
    max_maintenance_months: int = Field(
        description="The most maintenance that can be bought ahead, in months."
    )


class ChannelPolicyOut(BaseModel):
    marketplace: ChannelRules
    direct: ChannelRules


class TierPriceOut(BaseModel):
    tier: str = Field(description='User tier: a number of users, or "unlimited".', examples=["100"])
    amount: Decimal = Field(description="List price of the tier.", examples=["1100.00"])


class CloudBracketOut(BaseModel):
    from_users: int
    to_users: int | None = Field(description="Last user of the bracket; null when it has no upper bound.")
    per_user_monthly: Decimal


class CloudPricesOut(BaseModel):
    flat_monthly: Decimal = Field(description="Monthly price for 1 to 10 users.")
    brackets: list[CloudBracketOut] = Field(description="Graduated monthly per-user prices above 10 users.")
    annual_tiers: list[str] = Field(description="User tiers sold annually, each at 10 × the monthly price.")


class ReleaseOut(BaseModel):
    version: str = Field(examples=["4.2.0"])
    build_date: date = Field(
        description="The day it was built: a license may install it when its maintenance ends on or after "
        "this day."
    )
    notes: str = Field(default="", description="Release notes, Markdown.")
    host_version_min: str | None = Field(
        default=None, description="The oldest host version it works with; null: no lower bound."
    )
    host_version_max: str | None = Field(
        default=None, description="The newest host version it works with; null: no upper bound."
    )


class ReleaseRef(BaseModel):
    version: str = Field(examples=["4.2.0"])
    build_date: date


class PriceChangeOut(BaseModel):
    """Prices announced for a later date. Quotes made before it keep the prices they were made at."""

    effective_from: date = Field(description="The first day these prices apply.")
    prices: list[TierPriceOut] | None = None
    direct_prices: list[TierPriceOut] | None = None
    cloud_prices: CloudPricesOut | None = None


class ListingOut(BaseModel):
    hosting: str = Field(examples=["server"])
    currency: str = Field(examples=["USD"])
    channel_policy: ChannelPolicyOut
    prices: list[TierPriceOut] | None = Field(
        default=None,
        description="Server: perpetual license with 12 months of maintenance. Datacenter: annual.",
    )
    direct_prices: list[TierPriceOut] | None = Field(
        default=None, description="The vendor's own direct-channel prices, when they differ from `prices`."
    )
    cloud_prices: CloudPricesOut | None = None
    price_changes: list[PriceChangeOut] = Field(
        default_factory=list, description="Price changes scheduled after today, soonest first."
    )
    releases: list[ReleaseOut] = Field(description="The listing's releases, newest first.")


class VendorRef(BaseModel):
    slug: str
    name: str


class HostProductRef(BaseModel):
    key: str
    name: str


class AppOut(BaseModel):
    key: str = Field(examples=["com.example.mockups.wiki"])
    name: str
    summary: str
    description: str = Field(description="The app's description in Markdown, as its vendor wrote it.")
    description_html: str = Field(
        description="The description rendered as HTML and sanitised (no raw HTML, links http(s) or mailto)."
    )
    links: dict[str, str] = Field(
        description="Named links: homepage, documentation, support, source, privacy."
    )
    vendor: VendorRef
    host_product: HostProductRef
    listings: list[ListingOut]


class AppPage(PageOut):
    items: list[AppOut]


class HostProductOut(BaseModel):
    key: str = Field(examples=["wiki"])
    name: str
    summary: str
    user_tiers: list[str]
    listings: list[ListingOut]
