"""Request and response of ``POST /api/v1/pricing/preview``."""

from __future__ import annotations

import datetime as dt
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from mercato.fields import Day, Text, UserCount, UserTier
from mercato.pricing import BillingCycle, Channel, Hosting, LicenseType

TierText = Annotated[
    UserTier, Field(description='A user tier: a number of users or "unlimited".', examples=["100"])
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HostIn(Strict):
    """The customer's host instance the items are for."""

    product: Text = Field(description="Host product key, e.g. `wiki`.", examples=["wiki"], max_length=64)
    hosting: Hosting
    user_tier: TierText | None = Field(
        default=None, description="Server and datacenter hosts: the user tier."
    )
    users: UserCount | None = Field(default=None, description="Cloud sites: how many users the site has.")
    license_type: LicenseType = LicenseType.COMMERCIAL
    maintenance_end: Day | None = Field(
        default=None, description="The host license's maintenance end (a co-term target)."
    )
    billing_cycle: BillingCycle | None = Field(default=None, description="Cloud sites: monthly or annual.")
    next_billing_date: Day | None = Field(default=None, description="Cloud sites: the site's next bill.")


class ItemBase(Strict):
    product_key: Text = Field(
        description="An app key (`com.example.mockups.wiki`) or a host product key (`wiki`).", max_length=200
    )


class NewItem(ItemBase):
    action: Literal["new"]
    tier: TierText
    license_type: LicenseType = LicenseType.COMMERCIAL
    years: int = Field(
        default=1,
        ge=1,
        le=10,
        description="Server and datacenter: years of maintenance (or term) bought with the license, the first "
        "at the new price and each further one at the renewal price; the channel caps them (marketplace 3, "
        "direct 1). Cloud subscriptions take 1.",
    )


class RenewalItem(ItemBase):
    action: Literal["renewal"]
    tier: TierText
    license_type: LicenseType = LicenseType.COMMERCIAL
    maintenance_end: Day = Field(description="The license's current maintenance (or term) end.")
    years: int = Field(default=1, ge=1, le=10)
    to_tier: TierText | None = Field(
        default=None,
        description="Renew at this larger tier instead of `tier` (the license's own): the upgrade and the "
        "renewal in one line, e.g. when the host has grown past the license's tier.",
    )


class UpgradeItem(ItemBase):
    action: Literal["upgrade"]
    from_tier: TierText
    tier: TierText
    license_type: LicenseType = LicenseType.COMMERCIAL
    maintenance_end: Day


class CoTermItem(ItemBase):
    action: Literal["co_term"]
    tier: TierText
    license_type: LicenseType = LicenseType.COMMERCIAL
    maintenance_end: Day
    target_date: Day | None = Field(
        default=None, description="The date to extend to; by default the host license's maintenance end."
    )


class EvaluationItem(ItemBase):
    action: Literal["evaluation"]


class CloudSubscriptionItem(ItemBase):
    action: Literal["cloud_subscription"]
    tier: TierText | None = Field(default=None, description="Annual only: a larger tier than the site needs.")
    license_type: LicenseType = LicenseType.COMMERCIAL


class CloudUserChangeItem(ItemBase):
    action: Literal["cloud_user_change"]
    old_users: UserCount
    new_users: UserCount
    cycle_end: Day = Field(description="The last day of the current billing cycle.")
    license_type: LicenseType = LicenseType.COMMERCIAL


class MigrationItem(ItemBase):
    action: Literal["migration"]
    tier: TierText = Field(description="The direct license's tier.")
    to_tier: TierText | None = Field(
        default=None,
        description="The marketplace tier; by default the license's own, or the host's when that is larger.",
    )
    license_type: LicenseType = LicenseType.COMMERCIAL
    maintenance_end: Day = Field(description="The license's maintenance (or term) end, which it keeps.")


Item = Annotated[
    NewItem
    | RenewalItem
    | UpgradeItem
    | CoTermItem
    | EvaluationItem
    | CloudSubscriptionItem
    | CloudUserChangeItem
    | MigrationItem,
    Field(discriminator="action"),
]


class PreviewRequest(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "channel": "marketplace",
                    "host": {
                        "product": "wiki",
                        "hosting": "server",
                        "user_tier": "100",
                        "maintenance_end": "2027-06-30",
                    },
                    "items": [
                        {"action": "new", "product_key": "wiki", "tier": "100"},
                        {"action": "new", "product_key": "com.example.mockups.wiki", "tier": "100"},
                        {
                            "action": "co_term",
                            "product_key": "com.gatekeeper.sso.wiki",
                            "tier": "100",
                            "maintenance_end": "2027-01-15",
                        },
                    ],
                }
            ]
        }
    )

    channel: Channel = Channel.MARKETPLACE
    date: Day | None = Field(default=None, description="Price as of this date (default: today).")
    host: HostIn
    items: list[Item] = Field(min_length=1, max_length=100)


class RevenueSplitOut(BaseModel):
    vendor_share_rate: Decimal
    vendor_amount: Decimal
    operator_amount: Decimal
    explanation: str


class ComingPriceOut(BaseModel):
    """The same item priced on the day a scheduled price change takes effect."""

    effective_from: dt.date = Field(description="The day the listing's next price change takes effect.")
    amount_after: Decimal = Field(
        description="What this line costs when bought on that day, at the new prices (it may equal `amount` "
        "when the change leaves this item's price alone)."
    )


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
    price_change: ComingPriceOut | None = Field(
        default=None,
        description="When the listing has a price change scheduled after the preview's date: the soonest "
        "one, with this item priced on its first day. This line costs `amount` now and `amount_after` from "
        "`effective_from`. Null when no change is scheduled, or when the item cannot be bought that day "
        "(a billing cycle that ends before it).",
        examples=[{"effective_from": "2027-01-01", "amount_after": "1320.00"}],
    )


class TotalOut(BaseModel):
    currency: str
    amount: Decimal


class PreviewResponse(BaseModel):
    date: dt.date
    channel: str
    lines: list[PricedLineOut]
    totals: list[TotalOut] = Field(description="Per currency: exactly the sum of the lines.")
