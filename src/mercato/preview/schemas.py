"""Request and response of ``POST /api/v1/pricing/preview``."""

from __future__ import annotations

import datetime as dt
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mercato.pricing import BillingCycle, Channel, Hosting, LicenseType, Tier

TierText = Annotated[
    str, Field(description='A user tier: a number of users or "unlimited".', examples=["100"], max_length=20)
]


def _check_tier(value: str | None) -> str | None:
    if value is None:
        return value
    try:
        Tier.parse(value)
    except ValueError as error:
        raise ValueError(f'{value!r} is not a user tier: give a number of users or "unlimited"') from error
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HostIn(Strict):
    """The customer's host instance the items are for."""

    product: str = Field(description="Host product key, e.g. `wiki`.", examples=["wiki"], max_length=64)
    hosting: Hosting
    user_tier: TierText | None = Field(
        default=None, description="Server and datacenter hosts: the user tier."
    )
    users: int | None = Field(default=None, ge=1, description="Cloud sites: how many users the site has.")
    license_type: LicenseType = LicenseType.COMMERCIAL
    maintenance_end: date | None = Field(
        default=None, description="The host license's maintenance end (a co-term target)."
    )
    billing_cycle: BillingCycle | None = Field(default=None, description="Cloud sites: monthly or annual.")
    next_billing_date: date | None = Field(default=None, description="Cloud sites: the site's next bill.")

    _tier = field_validator("user_tier")(_check_tier)


class ItemBase(Strict):
    product_key: str = Field(
        description="An app key (`com.example.mockups.wiki`) or a host product key (`wiki`).", max_length=200
    )


class NewItem(ItemBase):
    action: Literal["new"]
    tier: TierText
    license_type: LicenseType = LicenseType.COMMERCIAL

    _tier = field_validator("tier")(_check_tier)


class RenewalItem(ItemBase):
    action: Literal["renewal"]
    tier: TierText
    license_type: LicenseType = LicenseType.COMMERCIAL
    maintenance_end: date = Field(description="The license's current maintenance (or term) end.")
    years: int = Field(default=1, ge=1, le=10)

    _tier = field_validator("tier")(_check_tier)


class UpgradeItem(ItemBase):
    action: Literal["upgrade"]
    from_tier: TierText
    tier: TierText
    license_type: LicenseType = LicenseType.COMMERCIAL
    maintenance_end: date

    _tiers = field_validator("from_tier", "tier")(_check_tier)


class CoTermItem(ItemBase):
    action: Literal["co_term"]
    tier: TierText
    license_type: LicenseType = LicenseType.COMMERCIAL
    maintenance_end: date
    target_date: date | None = Field(
        default=None, description="The date to extend to; by default the host license's maintenance end."
    )

    _tier = field_validator("tier")(_check_tier)


class EvaluationItem(ItemBase):
    action: Literal["evaluation"]


class CloudSubscriptionItem(ItemBase):
    action: Literal["cloud_subscription"]
    tier: TierText | None = Field(default=None, description="Annual only: a larger tier than the site needs.")
    license_type: LicenseType = LicenseType.COMMERCIAL

    _tier = field_validator("tier")(_check_tier)


class CloudUserChangeItem(ItemBase):
    action: Literal["cloud_user_change"]
    old_users: int = Field(ge=1)
    new_users: int = Field(ge=1)
    cycle_end: date = Field(description="The last day of the current billing cycle.")
    license_type: LicenseType = LicenseType.COMMERCIAL


Item = Annotated[
    NewItem
    | RenewalItem
    | UpgradeItem
    | CoTermItem
    | EvaluationItem
    | CloudSubscriptionItem
    | CloudUserChangeItem,
    Field(discriminator="action"),
]


class PreviewRequest(Strict):
    channel: Channel = Channel.MARKETPLACE
    date: dt.date | None = Field(default=None, description="Price as of this date (default: today).")
    host: HostIn
    items: list[Item] = Field(min_length=1, max_length=100)


class RevenueSplitOut(BaseModel):
    vendor_share_rate: Decimal
    vendor_amount: Decimal
    operator_amount: Decimal
    explanation: str


class PricedLineOut(BaseModel):
    product_key: str
    kind: str
    hosting: str
    channel: str
    seller_of_record: str
    tier: str
    users: int | None
    license_type: str
    period_start: date
    period_end: date
    amount: Decimal
    currency: str
    explanation: str = Field(description="The line in words, with its formula and real numbers.")
    formula: dict[str, str]
    revenue_split: RevenueSplitOut | None = Field(
        description="Marketplace app lines: what the vendor gets and what the operator keeps."
    )


class TotalOut(BaseModel):
    currency: str
    amount: Decimal


class PreviewResponse(BaseModel):
    date: dt.date
    channel: str
    lines: list[PricedLineOut]
    totals: list[TotalOut] = Field(description="Per currency: exactly the sum of the lines.")
